// Inference ops for skinny batches (native/src/fast_ops.cc): linear layers over weights packed
// once, writes into preallocated outputs, and one-query attention over a KV cache. None of them
// records gradients; they serve decoding, not training.
import { N, type PackedHandle } from './native.js';
import { Tensor } from './tensor.js';

/** fp32: column panels for the skinny-GEMM kernel of fast_ops.cc; int8: per-channel int8 through oneDNN's dynamic-quantized linear. */
export type PackedKind = 'fp32' | 'int8';

/** A copy of a linear weight [out, in] in the layout its GEMM reads fastest; dispose() frees it. */
export class PackedLinear {
  #handle: PackedHandle | null;
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(
    weight: Tensor,
    readonly kind: PackedKind,
  ) {
    [this.outFeatures, this.inFeatures] = weight.shape as [number, number];
    this.#handle = N.packLinear(weight.handle, kind);
  }

  get #h(): PackedHandle {
    if (this.#handle === null) throw new Error('packed weight used after dispose()');
    return this.#handle;
  }

  /** dst [rows, out] = x [rows, in] · Wᵀ, or dst += x · Wᵀ when accumulating. */
  into(dst: Tensor, x: Tensor, accumulate = false): void {
    N.linearInto_(dst.handle, x.handle, this.#h, accumulate);
  }

  /** x [rows, in] · Wᵀ as a new tensor [rows, out]. */
  apply(x: Tensor): Tensor {
    return new Tensor(N.linearPacked(x.handle, this.#h));
  }

  dispose(): void {
    if (this.#handle !== null) N.freePacked(this.#handle);
    this.#handle = null;
  }
}

/** LlamaGen's RMSNorm of each row of x [rows, d] times w [d], into dst (x's shape). */
export const rmsNormInto = (dst: Tensor, x: Tensor, w: Tensor, eps: number): void => N.rmsNormInto_(dst.handle, x.handle, w.handle, eps);

/** SwiGLU's gate: dst [rows, h] = silu(gateUp[:, :h]) · gateUp[:, h:]. */
export const swigluInto = (dst: Tensor, gateUp: Tensor): void => N.swigluInto_(dst.handle, gateUp.handle);

/** dst [rows, d] = rows of weight [n, d] at indices [rows]. */
export const embeddingInto = (dst: Tensor, weight: Tensor, indices: Tensor): void =>
  N.embeddingInto_(dst.handle, weight.handle, indices.handle);

export interface DecodeAttentionArgs {
  /** [B, (H + 2G)·D]: the q heads, then the k heads, then the v heads of one new token per row */
  qkv: Tensor;
  /** RoPE tables [positions, D/2]; row `pos` rotates the new token */
  cos: Tensor;
  sin: Tensor;
  /** [B, G, capacity, D], written at `pos` */
  keys: Tensor;
  values: Tensor;
  pos: number;
  /** [B, H·D] */
  out: Tensor;
  /** float32 scratch of at least 2·B·H·(pos + 1) elements */
  work: Tensor;
  scale: number;
}

/**
 * One-query attention step: RoPE on the new q and k, k and v written into the caches at pos, then
 * softmax(q·Kᵀ·scale)·V over positions 0..pos for every query head (grouped-query heads share kv
 * head h / (H/G)), into out.
 */
export function decodeAttention(a: DecodeAttentionArgs): void {
  N.decodeAttention_(a.qkv.handle, a.cos.handle, a.sin.handle, a.keys.handle, a.values.handle, a.pos, a.out.handle, a.work.handle, a.scale);
}

/**
 * The q, k and v heads of T tokens per row, qkv [B·T, (H + 2G)·D] (q heads, then k, then v), into
 * q [B, H, T, D], k and v [B, G, T, D], q and k rotated by RoPE rows start..start+T-1 of cos/sin.
 */
export function ropeHeads(qkv: Tensor, cos: Tensor, sin: Tensor, start: number, out: { q: Tensor; k: Tensor; v: Tensor }): void {
  N.ropeHeads_(qkv.handle, cos.handle, sin.handle, start, out.q.handle, out.k.handle, out.v.handle);
}

/** Sum of the tensors' in-place version counters: it grows whenever any of them is written in place. */
export const versionSum = (ts: Tensor[]): number => N.versionSum(ts.map((t) => t.handle));
