// Multi-input and neural-network functions (the torch.* / torch.nn.functional counterparts).
import { N } from './native.js';
import { Tensor, type TensorLike } from './tensor.js';

const hOpt = (t: Tensor | null | undefined) => (t ? t.handle : null);
const hNum = (x: TensorLike) => (typeof x === 'number' ? x : x.handle);
const pair = (x: number | number[]): number[] => (typeof x === 'number' ? [x, x] : x);

export const cat = (ts: Tensor[], dim = 0): Tensor =>
  new Tensor(
    N.cat(
      ts.map((t) => t.handle),
      dim,
    ),
  );
export const stack = (ts: Tensor[], dim = 0): Tensor =>
  new Tensor(
    N.stack(
      ts.map((t) => t.handle),
      dim,
    ),
  );
/** cond ? a : b elementwise (broadcasting; either branch may be a number). */
export const where = (cond: Tensor, a: TensorLike, b: TensorLike): Tensor => new Tensor(N.where(cond.handle, hNum(a), hNum(b)));

export type Reduction = 'none' | 'mean' | 'sum';
const REDUCTION: Record<Reduction, number> = { none: 0, mean: 1, sum: 2 };

/** Cross-entropy of logits [N, C] against int64 targets [N]; ignoreIndex targets add nothing. */
export function crossEntropy(
  logits: Tensor,
  target: Tensor,
  opts: { ignoreIndex?: number; labelSmoothing?: number; reduction?: Reduction } = {},
): Tensor {
  return new Tensor(
    N.crossEntropy(logits.handle, target.handle, opts.ignoreIndex ?? -100, opts.labelSmoothing ?? 0, REDUCTION[opts.reduction ?? 'mean']),
  );
}
/** Rows of weight [V, D] picked by integer indices of any shape → [..., D]. */
export const embedding = (weight: Tensor, indices: Tensor): Tensor => new Tensor(N.embedding(weight.handle, indices.handle));
/** x @ w^T + b with w [out, in]. */
export const linear = (x: Tensor, w: Tensor, b?: Tensor | null): Tensor => new Tensor(N.linear(x.handle, w.handle, hOpt(b)));
export function conv2d(
  x: Tensor,
  w: Tensor,
  b?: Tensor | null,
  opts: { stride?: number | number[]; padding?: number | number[]; dilation?: number | number[]; groups?: number } = {},
): Tensor {
  return new Tensor(
    N.conv2d(x.handle, w.handle, hOpt(b), pair(opts.stride ?? 1), pair(opts.padding ?? 0), pair(opts.dilation ?? 1), opts.groups ?? 1),
  );
}
export const groupNorm = (x: Tensor, groups: number, w?: Tensor | null, b?: Tensor | null, eps = 1e-5): Tensor =>
  new Tensor(N.groupNorm(x.handle, groups, hOpt(w), hOpt(b), eps));
export const layerNorm = (x: Tensor, shape: number[], w?: Tensor | null, b?: Tensor | null, eps = 1e-5): Tensor =>
  new Tensor(N.layerNorm(x.handle, shape, hOpt(w), hOpt(b), eps));
/** LlamaGen RMSNorm over the last dim (computed in float32). */
export const rmsNorm = (x: Tensor, w?: Tensor | null, eps = 1e-5): Tensor => new Tensor(N.rmsNorm(x.handle, hOpt(w), eps));
export const upsampleNearest2d = (x: Tensor, factor: number): Tensor => new Tensor(N.upsampleNearest2d(x.handle, factor));
export const interpolateBilinear = (x: Tensor, size: [number, number], alignCorners = false): Tensor =>
  new Tensor(N.interpolateBilinear(x.handle, size, alignCorners));
/** F.avg_pool2d; countIncludePad false averages only the real pixels under a padded window. */
export const avgPool2d = (
  x: Tensor,
  kernel: number | number[],
  stride?: number | number[],
  opts: { padding?: number | number[]; countIncludePad?: boolean } = {},
): Tensor =>
  new Tensor(
    N.avgPool2d(
      x.handle,
      pair(kernel),
      stride === undefined ? undefined : pair(stride),
      pair(opts.padding ?? 0),
      opts.countIncludePad ?? true,
    ),
  );
export const maxPool2d = (x: Tensor, kernel: number | number[], stride?: number | number[], padding: number | number[] = 0): Tensor =>
  new Tensor(N.maxPool2d(x.handle, pair(kernel), stride === undefined ? undefined : pair(stride), pair(padding)));
export const adaptiveAvgPool2d = (x: Tensor, size: number | number[]): Tensor => new Tensor(N.adaptiveAvgPool2d(x.handle, pair(size)));
/** Constant padding as F.pad: [left, right, top, bottom, ...] from the last dim backwards. */
export const pad = (x: Tensor, pads: number[], value = 0): Tensor => new Tensor(N.pad(x.handle, pads, value));
export const dropout = (x: Tensor, p: number, train: boolean): Tensor => new Tensor(N.dropout(x.handle, p, train));

/**
 * Scaled dot-product attention. q [..., Tq, D], k and v [..., Tk, D]. mask: bool (true = may
 * attend) or float (added to scores), broadcast to [..., Tq, Tk]. causal aligns queries to the
 * last Tq keys (so a one-token KV-cache step attends to every cached key).
 */
export function sdpa(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: { mask?: Tensor | null; causal?: boolean; scale?: number; dropout?: number; train?: boolean } = {},
): Tensor {
  return new Tensor(
    N.sdpa(q.handle, k.handle, v.handle, hOpt(opts.mask), opts.causal ?? false, opts.scale ?? null, opts.dropout ?? 0, opts.train ?? false),
  );
}
/** n draws per row of non-negative weights [B, V] → int64 [B, n]. */
export const multinomial = (probs: Tensor, n: number, replacement = false): Tensor =>
  new Tensor(N.multinomial(probs.handle, n, replacement));
/** Pairwise Euclidean distances [.., P, D] × [.., R, D] → [.., P, R]. */
/** Insertion points of `values` [.., M] in `sorted` [.., N] (int64 [.., M]); right: after equal entries. */
export const searchsorted = (sorted: Tensor, values: Tensor, right = false): Tensor =>
  new Tensor(N.searchsorted(sorted.handle, values.handle, right));
/**
 * float64 [B, n] uniforms in [0, 1); row b comes from its own generator seeded with seeds[b]
 * (integers in 0..2^53-1), so it does not depend on the other rows or on any other random stream.
 */
export const seededUniform = (seeds: ArrayLike<number>, n: number): Tensor => new Tensor(N.seededUniform(Float64Array.from(seeds), n));
export const cdist = (a: Tensor, b: Tensor): Tensor => new Tensor(N.cdist(a.handle, b.handle));

/** Symmetric eigen-decomposition (LAPACK): eigenvalues ascending [n], eigenvectors as columns [n, n]. Reads the lower triangle. */
export function eigh(a: Tensor): { values: Tensor; vectors: Tensor } {
  const [v, w] = N.eigh(a.handle);
  return { values: new Tensor(v), vectors: new Tensor(w) };
}
/** Eigenvalues (ascending) of a symmetric matrix, without the vectors. Reads the lower triangle. */
export const eigvalsh = (a: Tensor): Tensor => new Tensor(N.eigvalsh(a.handle));
/** Lower Cholesky factor L of a = L Lᵀ, or null when a is not positive definite (LAPACK potrf). */
export function cholesky(a: Tensor): Tensor | null {
  const [l, info] = N.choleskyEx(a.handle).map((h) => new Tensor(h)) as [Tensor, Tensor];
  if (info.item() === 0) return l;
  l.dispose();
  return null;
}
