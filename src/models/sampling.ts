// Turning logits into tokens, as LlamaGen's sample(): temperature, then top-k, then top-p, then a
// draw (or argmax). Also classifier-free guidance's combination of the two halves.
//
// The draw is an inverse-CDF lookup of a given uniform u ∈ [0, 1) per row: token = the first index
// whose cumulative probability exceeds u·Σp. Taking u from a generator seeded per image (see
// sample/seeds.ts) makes every image a function of (seed, image index) alone — the same whatever the
// batch it is computed in, the batch size, the process or the machine. Tokens of probability 0 are
// never drawn (their cumulative sum equals their predecessor's).
import { searchsorted, type Tensor } from '../torch/index.js';

/** How one distribution over tokens is drawn from. */
export interface TokenSampling {
  /** Divides the logits (floored at 1e-5). Default 1. */
  temperature?: number;
  /** Keep the k largest logits; 0 = all. Default 0. */
  topK?: number;
  /** Keep the smallest set of tokens whose probability reaches p; 1 = all. Default 1. */
  topP?: number;
  /** Argmax instead of a draw (same as topK = 1). */
  greedy?: boolean;
}

export function validateTokenSampling(o: TokenSampling, what = 'sampling'): void {
  if (o.temperature !== undefined && !(o.temperature >= 0 && Number.isFinite(o.temperature)))
    throw new Error(`${what}: temperature must be a finite number ≥ 0, got ${o.temperature}`);
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 0))
    throw new Error(`${what}: top-k must be a non-negative integer, got ${o.topK}`);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) throw new Error(`${what}: top-p must be in (0, 1], got ${o.topP}`);
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

/**
 * Refuses rows that cannot be drawn from (`ok` false: NaN or Inf logits, or no token allowed),
 * naming `what` (the stage and token) and the first such row (`rowName` describes it).
 */
function checkDrawable(ok: Tensor, what: string, rowName?: (row: number) => string): void {
  if (ok.all().item()) return;
  const row = ok.logicalNot().long().argmax().item();
  throw new Error(
    `${what}: the logits of ${rowName ? rowName(row) : `row ${row}`} hold NaN or Inf, or allow no token ` +
      `(non-finite weights or an overflow upstream)`,
  );
}

/**
 * logits [B, V] and uniforms [B] (float64 in [0, 1)) → int64 tokens [B]. Rows whose logits are all
 * -inf, or hold NaN or +inf, cannot be drawn from (nor argmax'd meaningfully): the error names
 * `what` (the stage and step) and the row (described by `rowName`, default "row i").
 */
export function drawTokens(logits: Tensor, u: Tensor, o: TokenSampling = {}, what = 'sampling', rowName?: (row: number) => string): Tensor {
  const topK = o.topK ?? 0;
  if (o.greedy || topK === 1) {
    // amax propagates NaN: a finite row maximum means a proper argmax
    const m = logits.amax(-1);
    checkDrawable(m.gt(-Infinity).logicalAnd(m.lt(Infinity)), what, rowName);
    return logits.argmax(-1);
  }
  const scaled = logits.div(Math.max(o.temperature ?? 1, 1e-5));
  const probs = filterLogits(scaled, topK, o.topP ?? 1)
    .softmax(-1)
    .to('float64');
  const cdf = probs.cumsum(-1);
  const V = cdf.size(-1);
  const total = cdf.slice(-1, V - 1, V); // [B, 1]
  checkDrawable(total.gt(0).logicalAnd(total.lt(Infinity)), what, rowName);
  return searchsorted(cdf, u.reshape(-1, 1).mul(total), true).squeeze(1).clamp(0, V - 1);
}

/** [cond; uncond] logits [2B, V] → uncond + (cond − uncond)·scale, [B, V]. */
export function combineCfg(logits: Tensor, scale: number): Tensor {
  const [cond, uncond] = logits.chunk(2, 0) as [Tensor, Tensor];
  return uncond.add(cond.sub(uncond).mul(scale));
}
