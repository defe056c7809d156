// `ctfgen cluster`: coarse labels for a tokenizer's codebook.
import { clusterTokenizer, type ClusterTokenizerOptions } from '../cluster/cluster-tokenizer.js';

export async function clusterCommand(o: ClusterTokenizerOptions): Promise<void> {
  const { path, clusters: c, seconds } = await clusterTokenizer(o);
  const s = c.stats;
  console.log(
    `${path}: ${c.k} clusters (${c.method}) of ${s.clusteredCodes}/${c.idxToCluster.length} codes in ${seconds.toFixed(1)} s; ` +
      `sizes ${s.sizes.min}..${s.sizes.max} (mean ${s.sizes.mean.toFixed(1)}, ${s.sizes.empty} empty); ` +
      `spread ${s.meanSpread.toFixed(3)} vs random pair distance ${s.meanPairDistance.toFixed(3)}; id ${c.id}`,
  );
}
