// Bridges checkpoint readers/writers (RawTensor: dtype, shape, little-endian bytes) and tensors.
import type { RawTensor } from '../util/tensor-types.js';
import { fromArray } from './create.js';
import type { Tensor } from './tensor.js';

/** One copy of the bytes into a new tensor of the same dtype (optionally converted). */
export function fromRaw(raw: RawTensor, dtype?: Tensor['dtype']): Tensor {
  const t = fromArray(raw.data, raw.shape, raw.dtype);
  if (dtype === undefined || dtype === raw.dtype) return t;
  const c = t.to(dtype);
  t.dispose();
  return c;
}

export function toRaw(t: Tensor): RawTensor {
  return { dtype: t.dtype, shape: t.shape, data: t.toBytes() };
}

/** A whole state dict of raw tensors as tensors (the caller owns and disposes them). */
export function tensorsFromRaw(raw: Map<string, RawTensor>, dtype?: Tensor['dtype']): Map<string, Tensor> {
  return new Map([...raw].map(([k, r]) => [k, fromRaw(r, dtype)]));
}

export function tensorsToRaw(ts: Map<string, Tensor>): Map<string, RawTensor> {
  return new Map([...ts].map(([k, t]) => [k, toRaw(t)]));
}
