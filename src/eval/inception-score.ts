// Inception score with ctfgen's feature network: IS = exp(E_x KL(p(y|x) ‖ p(y))), computed as in
// Salimans et al. (2016) and the ADM evaluator: the samples are cut into `splits` contiguous parts,
// p(y) is the mean prediction of a part, and the result is the mean and (population) standard
// deviation of the per-part scores. Accumulated in float64.

export interface InceptionScore {
  mean: number;
  std: number;
  /** score of each split */
  scores: number[];
}

/**
 * IS from class probabilities [N, K] (rows sum to 1). Uses min(splits, N) splits; a part gets
 * ⌊N/splits⌋ or one more samples.
 */
export function inceptionScore(probs: Float32Array | Float64Array, numClasses: number, splits = 10): InceptionScore {
  const k = numClasses;
  if (!Number.isInteger(k) || k <= 0 || probs.length % k !== 0)
    throw new RangeError(`inceptionScore: ${probs.length} values are not rows of ${k}`);
  const n = probs.length / k;
  if (n === 0) throw new RangeError('inceptionScore: no samples');
  if (!Number.isInteger(splits) || splits <= 0) throw new RangeError(`inceptionScore: splits must be a positive integer, got ${splits}`);
  const s = Math.min(splits, n);
  const scores: number[] = [];
  const py = new Float64Array(k);
  for (let part = 0; part < s; part++) {
    const from = Math.floor((part * n) / s);
    const to = Math.floor(((part + 1) * n) / s);
    py.fill(0);
    for (let i = from; i < to; i++) for (let c = 0; c < k; c++) py[c] += probs[i * k + c]!;
    for (let c = 0; c < k; c++) py[c] /= to - from;
    let kl = 0;
    for (let i = from; i < to; i++)
      for (let c = 0; c < k; c++) {
        const p = probs[i * k + c]!;
        if (p > 0) kl += p * (Math.log(p) - Math.log(py[c]!));
      }
    scores.push(Math.exp(kl / (to - from)));
  }
  const mean = scores.reduce((a, b) => a + b, 0) / s;
  const std = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / s);
  return { mean, std, scores };
}

/** Row-wise softmax of logits [N, K] in float64 (for callers holding logits on the host). */
export function softmaxRows(logits: ArrayLike<number>, numClasses: number): Float64Array {
  const k = numClasses;
  const out = new Float64Array(logits.length);
  for (let o = 0; o < logits.length; o += k) {
    let m = -Infinity;
    for (let c = 0; c < k; c++) m = Math.max(m, logits[o + c]!);
    let z = 0;
    for (let c = 0; c < k; c++) z += out[o + c] = Math.exp(logits[o + c]! - m);
    for (let c = 0; c < k; c++) out[o + c] /= z;
  }
  return out;
}
