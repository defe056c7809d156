// Turning logits into tokens, as LlamaGen's sample(): temperature, then top-k, then top-p, then a
// multinomial draw (or argmax). Also classifier-free guidance's combination of the two halves.
import { multinomial, type Tensor } from '../torch/index.js';

export interface SamplingOptions {
  /** Divides the logits (floored at 1e-5). Default 1. */
  temperature?: number;
  /** Keep the k largest logits; 0 = all. Default 0. */
  topK?: number;
  /** Keep the smallest set of tokens whose probability reaches p; 1 = all. Default 1. */
  topP?: number;
  /** Argmax instead of a draw (same as topK = 1). */
  greedy?: boolean;
}

export function validateSampling(o: SamplingOptions): void {
  if (o.temperature !== undefined && !(o.temperature >= 0)) throw new Error(`temperature must be ≥ 0, got ${o.temperature}`);
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 0))
    throw new Error(`top-k must be a non-negative integer, got ${o.topK}`);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) throw new Error(`top-p must be in (0, 1], got ${o.topP}`);
}

/** LlamaGen's top_k_top_p_filtering: removed logits become -inf. logits [B, V]. */
export function filterLogits(logits: Tensor, topK: number, topP: number): Tensor {
  let out = logits;
  const V = logits.size(-1);
  if (topK > 0 && topK < V) {
    const kth = out.topk(topK, -1).values.slice(-1, topK - 1, topK);
    out = out.maskedFill(out.lt(kth), -Infinity);
  }
  if (topP < 1) {
    const { values, indices } = out.sort(-1, true);
    const cumulative = values.softmax(-1).cumsum(-1);
    // remove tokens once the mass before them already exceeds p (the first token always stays)
    const removeSorted = cumulative.sub(values.softmax(-1)).gt(topP);
    const remove = removeSorted.scatter(-1, indices, removeSorted);
    out = out.maskedFill(remove, -Infinity);
  }
  return out;
}

/** logits [B, V] → int64 tokens [B]. */
export function sampleLogits(logits: Tensor, o: SamplingOptions = {}): Tensor {
  const topK = o.topK ?? 0;
  if (o.greedy || topK === 1) return logits.argmax(-1);
  const scaled = logits.div(Math.max(o.temperature ?? 1, 1e-5));
  const filtered = filterLogits(scaled, topK, o.topP ?? 1);
  return multinomial(filtered.softmax(-1), 1).squeeze(1);
}

/** [cond; uncond] logits [2B, V] → uncond + (cond − uncond)·scale, [B, V]. */
export function combineCfg(logits: Tensor, scale: number): Tensor {
  const [cond, uncond] = logits.chunk(2, 0) as [Tensor, Tensor];
  return uncond.add(cond.sub(uncond).mul(scale));
}
