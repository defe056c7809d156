// Coarse labels for a codebook: cluster the l2-normalised codewords, map every code to its
// cluster (idxToCluster), and keep stats. Saved as a small ctfgen safetensors file referenced by
// id (a hash of the mapping) from later stages.
import { contentId } from '../util/content-id.js';
import { loadCheckpoint, loadTensors, saveCheckpoint, type RawTensor } from '../io/index.js';
import * as T from '../torch/index.js';
import { clusterVectors, type ClusterMethod } from './kmeans.js';

export const CODEBOOK_KEY = 'quantize.embedding.weight';

export interface ClusterStats {
  sizes: { min: number; max: number; mean: number; empty: number };
  /** Σ‖x − c(x)‖² over clustered codes (normalised codewords) */
  inertia: number;
  /** mean distance of a code to its centroid */
  meanSpread: number;
  /** mean distance between a code and a random code (scale for meanSpread) */
  meanPairDistance: number;
  iterations: number;
  clusteredCodes: number;
}

export interface Clusters {
  id: string;
  method: ClusterMethod;
  k: number;
  seed: number;
  /** id of the codebook the clusters were made from */
  tokenizerId: string;
  /** [V] cluster of every code */
  idxToCluster: Int32Array;
  /** [K, D] centroids of the normalised codewords */
  centroids: Float32Array;
  dim: number;
  stats: ClusterStats;
}

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

/** Members of every cluster: members[c] lists the codes with label c. */
export function clusterMembers(idxToCluster: Int32Array, k: number): Int32Array[] {
  const lists: number[][] = Array.from({ length: k }, () => []);
  idxToCluster.forEach((c, code) => lists[c]!.push(code));
  return lists.map((l) => Int32Array.from(l));
}

const bytes = (a: Int32Array | Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export async function saveClusters(path: string, c: Clusters): Promise<void> {
  const tensors = new Map<string, RawTensor>([
    ['idx_to_cluster', { dtype: 'int32', shape: [c.idxToCluster.length], data: bytes(c.idxToCluster) }],
    ['centroids', { dtype: 'float32', shape: [c.k, c.dim], data: bytes(c.centroids) }],
  ]);
  const { idxToCluster: _i, centroids: _c, ...meta } = c;
  await saveCheckpoint(path, tensors, { kind: 'clusters', ...meta });
}

/** Reads a cluster file, checking its tensors against its metadata (errors name the file). */
export async function loadClusters(path: string): Promise<Clusters> {
  const { tensors, meta } = await loadCheckpoint(path);
  if (meta.kind !== 'clusters')
    throw new Error(`${path}: not a clusters file (kind '${String(meta.kind)}'); make one with \`ctfgen cluster\``);
  const idx = tensors.get('idx_to_cluster');
  const cen = tensors.get('centroids');
  if (!idx || !cen) throw new Error(`${path}: clusters file lacks idx_to_cluster or centroids`);
  const bad = (what: string) => new Error(`${path}: corrupt clusters file: ${what}; make it again with \`ctfgen cluster\``);
  const k = meta.k;
  if (typeof k !== 'number' || !Number.isSafeInteger(k) || k < 1) throw bad(`k is ${JSON.stringify(k)}`);
  if (idx.dtype !== 'int32' || idx.shape.length !== 1)
    throw bad(`idx_to_cluster must be int32 [codes], found ${idx.dtype} [${idx.shape.join(', ')}]`);
  if (cen.dtype !== 'float32' || cen.shape.length !== 2 || cen.shape[0] !== k || cen.shape[1] !== meta.dim)
    throw bad(`centroids must be float32 [${k}, ${String(meta.dim)}], found ${cen.dtype} [${cen.shape.join(', ')}]`);
  const copy = (r: RawTensor) => r.data.slice().buffer;
  const idxToCluster = new Int32Array(copy(idx));
  const out = idxToCluster.findIndex((c) => c < 0 || c >= k);
  if (out >= 0) throw bad(`code ${out} has label ${idxToCluster[out]}, not one of its ${k} clusters`);
  const { kind: _k, ...rest } = meta;
  return {
    ...(rest as Omit<Clusters, 'idxToCluster' | 'centroids'>),
    idxToCluster,
    centroids: new Float32Array(copy(cen)),
  };
}
