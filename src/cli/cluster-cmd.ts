// `ctfgen cluster`: coarse labels for a tokenizer's codebook.
import { dirname, join } from 'node:path';
import { clusterCodebook, loadCodebook, saveClusters } from '../cluster/clusters.js';
import type { ClusterMethod } from '../cluster/kmeans.js';
import { loadTokenCache } from '../data/token-cache.js';
import * as T from '../torch/index.js';

export interface ClusterCmdOptions {
  tokenizer: string;
  clusters: number;
  method: ClusterMethod;
  seed: number;
  out?: string;
  /** token cache whose used codes alone are clustered */
  usedBy?: string;
}

export async function clusterCommand(o: ClusterCmdOptions): Promise<string> {
  if (!['kmeans', 'balanced', 'random'].includes(o.method))
    throw new Error(`--method must be kmeans, balanced or random, got '${o.method}'`);
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
  const c = clusterCodebook(cb, o.clusters, { method: o.method, seed: o.seed, restrictTo, tokenizerId });
  cb.dispose();
  const out = o.out ?? join(dirname(o.tokenizer), `clusters-${o.method}-k${o.clusters}-s${o.seed}.safetensors`);
  await saveClusters(out, c);
  const s = c.stats;
  console.log(
    `${out}: ${c.k} clusters (${o.method}) of ${s.clusteredCodes}/${V} codes in ${((Date.now() - t0) / 1000).toFixed(1)} s; ` +
      `sizes ${s.sizes.min}..${s.sizes.max} (mean ${s.sizes.mean.toFixed(1)}, ${s.sizes.empty} empty); ` +
      `spread ${s.meanSpread.toFixed(3)} vs random pair distance ${s.meanPairDistance.toFixed(3)}; id ${c.id}`,
  );
  return out;
}
