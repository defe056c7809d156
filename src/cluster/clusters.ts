// Coarse labels for a codebook: cluster the l2-normalised codewords, map every code to its
// cluster (idxToCluster), and keep stats. Saved as a small ctfgen safetensors file referenced by
// id (a hash of the mapping) from later stages.
import { loadTensors, type RawTensor } from '../io/index.js';
import * as T from '../torch/index.js';
import { contentId } from '../util/content-id.js';
import type { ClusterStats, Clusters } from './cluster-file.js';
import { clusterVectors, type ClusterMethod } from './kmeans.js';

export * from './cluster-file.js';

export const CODEBOOK_KEY = 'quantize.embedding.weight';

/** The codebook [V, D] of a tokenizer checkpoint (LlamaGen .pt or ours), and its id. */
export async function loadCodebook(path: string): Promise<{ codebook: RawTensor; tokenizerId: string }> {
  const { tensors } = await loadTensors(path, { toFloat32: true });
  const codebook = tensors.get(CODEBOOK_KEY);
  if (!codebook) throw new Error(`${path}: no ${CODEBOOK_KEY} (is this a VQ tokenizer checkpoint?)`);
  if (codebook.shape.length !== 2) throw new Error(`${path}: ${CODEBOOK_KEY} must be [codes, dim], got [${codebook.shape}]`);
  return { codebook, tokenizerId: contentId(codebook.data) };
}

export interface ClusterCodebookOptions {
  method?: ClusterMethod;
  seed?: number;
  /** Cluster only these codes (e.g. those a dataset uses); the rest join their nearest centroid. */
  restrictTo?: Int32Array;
  tokenizerId?: string;
}

export function clusterCodebook(codebook: T.Tensor, k: number, opts: ClusterCodebookOptions = {}): Clusters {
  const [v, d] = codebook.shape as [number, number];
  const seed = opts.seed ?? 0;
  const method = opts.method ?? 'kmeans';
  return T.noGrad(() =>
    T.tidy(() => {
      const x = codebook.float().div(codebook.float().square().sum(1, true).sqrt().clamp(1e-12));
      const subset = opts.restrictTo ? T.fromArray(opts.restrictTo, [opts.restrictTo.length], 'int64') : null;
      const r = clusterVectors(subset ? x.indexSelect(0, subset) : x, k, { method, seed });
      const centroids = T.fromArray(r.centroids, [k, d]);
      let idxToCluster: Int32Array;
      if (subset) {
        // every code gets a label: nearest centroid for the codes left out, the clustering for the rest
        const nearest = T.cdist(x, centroids).argmin(1);
        idxToCluster = nearest.scatter(0, subset, T.fromArray(r.assignment, [r.assignment.length], 'int64')).toInt32Array();
      } else idxToCluster = r.assignment;
      const labels = T.fromArray(idxToCluster, [v], 'int64');
      const spread = x.sub(centroids.indexSelect(0, labels)).square().sum(1).sqrt();
      const pairs = x
        .sub(x.indexSelect(0, T.randperm(v)))
        .square()
        .sum(1)
        .sqrt();
      const sizes = labels.bincount(k).toInt32Array();
      const stats: ClusterStats = {
        sizes: { min: Math.min(...sizes), max: Math.max(...sizes), mean: v / k, empty: sizes.filter((s) => s === 0).length },
        inertia: r.inertia,
        meanSpread: spread.mean().item(),
        meanPairDistance: pairs.mean().item(),
        iterations: r.iterations,
        clusteredCodes: subset ? subset.size(0) : v,
      };
      return {
        id: contentId(new Uint8Array(idxToCluster.buffer, idxToCluster.byteOffset, idxToCluster.byteLength)),
        method,
        k,
        seed,
        tokenizerId: opts.tokenizerId ?? '',
        idxToCluster,
        centroids: r.centroids,
        dim: d,
        stats,
      };
    }),
  );
}
