// The coarse labels of a codebook, as both halves of CTF use them: each fine code's label (training
// targets of stage 1 and the member mask of stage 2's loss) and each label's codes (stage 2 draws a
// fine token among the codes of its position's label).
//
// Stage 2 draws from a gathered [positions, largest cluster] block of logits instead of setting the
// other V − |cluster| logits to -inf: the same distribution with a softmax and a draw V / (largest
// cluster) times smaller (4096 codes in 32 clusters of at most 231: 18x).
import { fromArray, keep, type Tensor } from '../torch/index.js';

export interface CodeClusters {
  /** number of coarse labels K */
  k: number;
  /** fine codes V */
  codes: number;
  /** int64 [V]: the coarse label of every fine code (the paper's idxToCluster) */
  codeToLabel: Tensor;
  /** int64 [K, M]: the codes of each label, padded (with the label's first code) to M = the largest cluster */
  members: Tensor;
  /** bool [K, M]: false on padding */
  valid: Tensor;
  /** bool [K]: labels that have at least one code (stage 1 must never draw the others) */
  nonEmpty: Tensor;
  dispose(): void;
}

/** The CodeClusters of a code → label map (one label in 0..k-1 per code). */
export function codeClusters(idxToCluster: ArrayLike<number>, k: number): CodeClusters {
  const lists: number[][] = Array.from({ length: k }, () => []);
  Array.from(idxToCluster).forEach((c, code) => {
    if (!(Number.isInteger(c) && c >= 0 && c < k)) throw new Error(`cluster map: code ${code} has label ${c}, outside 0..${k - 1}`);
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
    codeToLabel: keep(fromArray(Int32Array.from(idxToCluster), [idxToCluster.length], 'int64')),
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
  return { k, codes: idxToCluster.length, ...tensors, dispose: () => Object.values(tensors).forEach((t) => t.dispose()) };
}

/** Fine codes (any shape, int64) → their coarse labels (same shape). */
export function coarseLabels(c: CodeClusters, fine: Tensor): Tensor {
  return c.codeToLabel.indexSelect(0, fine.reshape(-1)).reshape(...fine.shape);
}

/** bool [B, N, V]: true where fine code v belongs to the coarse label at that position. */
export function memberMask(c: CodeClusters, coarse: Tensor): Tensor {
  return c.codeToLabel.reshape(1, 1, -1).eq(coarse.unsqueeze(2));
}

/** logits [N, M] over each position's cluster members (−inf on padding) and the codes they stand for. */
export function logitsWithinClusters(c: CodeClusters, logits: Tensor, coarse: Tensor): { logits: Tensor; codes: Tensor } {
  const codes = c.members.indexSelect(0, coarse); // [N, M]
  const own = logits.gather(1, codes).maskedFill(c.valid.indexSelect(0, coarse).logicalNot(), -Infinity);
  return { logits: own, codes };
}

/** The codes of one coarse label. */
export function labelCodes(c: CodeClusters, label: number): number[] {
  const members = c.members.select(0, label);
  const valid = c.valid.select(0, label);
  const codes = members.toArray().filter((_, j) => valid.toArray()[j] === 1);
  members.dispose();
  valid.dispose();
  return codes;
}
