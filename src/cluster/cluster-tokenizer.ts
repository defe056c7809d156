// Coarse labels for a tokenizer's codebook, from checkpoint to cluster file (`ctfgen cluster`).
import { dirname, join } from 'node:path';
import { loadTokenCache } from '../data/token-cache.js';
import * as T from '../torch/index.js';
import { clusterCodebook, loadCodebook, saveClusters, type Clusters } from './clusters.js';
import { CLUSTER_METHODS, type ClusterMethod } from './kmeans.js';

export interface ClusterTokenizerOptions {
  tokenizer: string;
  clusters: number;
  method?: ClusterMethod;
  seed?: number;
  /** default: beside the tokenizer, named by method, K and seed */
  out?: string;
  /** token cache whose used codes alone are clustered */
  usedBy?: string;
}

/** Clusters the codebook of a tokenizer checkpoint and saves the cluster file. */
export async function clusterTokenizer(o: ClusterTokenizerOptions): Promise<{ path: string; clusters: Clusters; seconds: number }> {
  const method = o.method ?? 'kmeans';
  const seed = o.seed ?? 0;
  if (!CLUSTER_METHODS.includes(method)) throw new Error(`cluster method must be ${CLUSTER_METHODS.join(', ')}, got '${method}'`);
  const { codebook, tokenizerId } = await loadCodebook(o.tokenizer);
  const V = codebook.shape[0]!;
  if (o.clusters >= V) throw new Error(`--clusters ${o.clusters} must be smaller than the codebook size ${V}`);
  let restrictTo: Int32Array | undefined;
  if (o.usedBy) {
    const cache = await loadTokenCache(o.usedBy);
    if (cache.tokenizerId !== tokenizerId)
      throw new Error(`${o.usedBy} was encoded with another tokenizer (${cache.tokenizerId}, not ${tokenizerId})`);
    const seen = new Uint8Array(V);
    for (const c of cache.codes) seen[c] = 1;
    restrictTo = Int32Array.from(seen.keys()).filter((i) => seen[i] === 1);
    if (restrictTo.length <= o.clusters) throw new Error(`only ${restrictTo.length} codes are used; ask for fewer clusters than that`);
  }
  const t0 = Date.now();
  const cb = T.fromRaw(codebook);
  let c: Clusters;
  try {
    c = clusterCodebook(cb, o.clusters, { method, seed, restrictTo, tokenizerId });
  } finally {
    cb.dispose();
  }
  const out = o.out ?? join(dirname(o.tokenizer), `clusters-${method}-k${o.clusters}-s${seed}.safetensors`);
  await saveClusters(out, c);
  return { path: out, clusters: c, seconds: (Date.now() - t0) / 1000 };
}
