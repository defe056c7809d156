// Stage 2 of CTF: an auxiliary transformer (a GPT with full attention whose input vocabulary is
// the coarse labels) reads [class, coarse map] and predicts every fine token in one pass.
import { crossEntropy, type Tensor } from '../torch/index.js';
import type { GPT } from './gpt.js';

/** classes [B], coarse labels [B, N] → fine-token logits [B, N, V] (position i predicts fine token i). */
export function auxLogits(model: GPT, classes: Tensor, coarse: Tensor): Tensor {
  const n = coarse.size(1);
  if (n !== model.config.blockSize) throw new Error(`stage 2 needs the full coarse map of ${model.config.blockSize} labels, got ${n}`);
  return model.forward(classes, coarse).slice(1, 1, n + 1);
}

/** bool [B, N, V]: true where fine code v belongs to the coarse label at that position. */
export function memberMask(idxToCluster: Tensor, coarse: Tensor): Tensor {
  return idxToCluster.reshape(1, 1, -1).eq(coarse.unsqueeze(2));
}

/** Logits with every code outside the position's cluster set to -inf. */
export function maskToClusters(logits: Tensor, idxToCluster: Tensor, coarse: Tensor): Tensor {
  return logits.maskedFill(memberMask(idxToCluster, coarse).logicalNot(), -Infinity);
}

/** Cross-entropy of stage 2 on true fine tokens [B, N] given true coarse labels; optionally masked. */
export function auxLoss(
  model: GPT,
  classes: Tensor,
  coarse: Tensor,
  fine: Tensor,
  idxToCluster?: Tensor,
): { loss: Tensor; logits: Tensor } {
  let logits = auxLogits(model, classes, coarse);
  if (idxToCluster) logits = maskToClusters(logits, idxToCluster, coarse);
  const V = logits.size(-1);
  return { loss: crossEntropy(logits.reshape(-1, V), fine.reshape(-1)), logits };
}
