// Stage 2 draws each fine token among the codes of its position's coarse label. Gathering those
// codes' logits into a [positions, largest cluster] block, instead of setting the other V − |cluster|
// logits to -inf, gives the same distribution with a softmax and a draw V / (largest cluster) times
// smaller (4096 codes in 32 clusters of at most 231: 18x); at the study sizes that was most of
// stage 2's time.
import { fromArray, keep, type Tensor } from '../torch/index.js';
import { sampleLogits, type SamplingOptions } from './logits.js';

/** Built once per cluster map (loadRun) and reused by every sampling batch. */
export interface ClusterTable {
  /** int64 [K, M]: the codes of each coarse label, padded (with the label's first code) to M = the largest cluster */
  members: Tensor;
  /** bool [K, M]: false on padding */
  valid: Tensor;
  /** bool [K]: labels that have at least one code (stage 1 must not emit the others) */
  nonEmpty: Tensor;
  dispose(): void;
}

/** The member table of a code → label map (idxToCluster, one label per code) over K labels. */
export function clusterTable(idxToCluster: ArrayLike<number>, k: number): ClusterTable {
  const lists: number[][] = Array.from({ length: k }, () => []);
  Array.from(idxToCluster).forEach((c, code) => {
    if (!(c >= 0 && c < k)) throw new Error(`cluster map: code ${code} has label ${c}, outside 0..${k - 1}`);
    lists[c]!.push(code);
  });
  const m = Math.max(1, ...lists.map((l) => l.length));
  const members = new Int32Array(k * m);
  const valid = new Int32Array(k * m);
  lists.forEach((l, c) => {
    for (let j = 0; j < m; j++) {
      members[c * m + j] = l[j] ?? l[0] ?? 0;
      valid[c * m + j] = j < l.length ? 1 : 0;
    }
  });
  const tensors = {
    members: keep(fromArray(members, [k, m], 'int64')),
    valid: keep(fromArray(valid, [k, m], 'bool')),
    nonEmpty: keep(
      fromArray(
        Int32Array.from(lists, (l) => (l.length > 0 ? 1 : 0)),
        [k],
        'bool',
      ),
    ),
  };
  return { ...tensors, dispose: () => Object.values(tensors).forEach((t) => t.dispose()) };
}

/** logits [N, V] and coarse labels int64 [N] → fine codes int64 [N], each a member of its label. */
export function sampleWithinClusters(logits: Tensor, coarse: Tensor, table: ClusterTable, o: SamplingOptions): Tensor {
  const codes = table.members.indexSelect(0, coarse); // [N, M]
  const own = logits.gather(1, codes).maskedFill(table.valid.indexSelect(0, coarse).logicalNot(), -Infinity);
  return codes.gather(1, sampleLogits(own, o).unsqueeze(1)).squeeze(1);
}
