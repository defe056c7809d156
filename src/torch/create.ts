// Tensor creation: constants, ranges, seeded random draws (see random.ts) and copy-in.
import { N, type DType } from './native.js';
import { Tensor } from './tensor.js';

export const zeros = (shape: number[], dtype: DType = 'float32'): Tensor => new Tensor(N.zeros(shape, dtype));
export const ones = (shape: number[], dtype: DType = 'float32'): Tensor => new Tensor(N.ones(shape, dtype));
export const full = (shape: number[], value: number, dtype: DType = 'float32'): Tensor => new Tensor(N.full(shape, value, dtype));
/** start..end (exclusive) by step; int64 unless told otherwise. */
export const arange = (start: number, end?: number, step = 1, dtype: DType = 'int64'): Tensor =>
  end === undefined ? new Tensor(N.arange(0, start, step, dtype)) : new Tensor(N.arange(start, end, step, dtype));
export const randn = (shape: number[], dtype: DType = 'float32'): Tensor => new Tensor(N.randn(shape, dtype));
export const rand = (shape: number[], dtype: DType = 'float32'): Tensor => new Tensor(N.rand(shape, dtype));
/** Integers in [low, high). */
export const randint = (low: number, high: number, shape: number[], dtype: DType = 'int64'): Tensor =>
  new Tensor(N.randint(low, high, shape, dtype));
export const randperm = (n: number): Tensor => new Tensor(N.randperm(n));
export const zerosLike = (t: Tensor): Tensor => new Tensor(N.zerosLike(t.handle));
export const onesLike = (t: Tensor): Tensor => new Tensor(N.onesLike(t.handle));

export type HostArray = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array;

/**
 * Copies a typed array into a new tensor of the given shape (one memcpy). The dtype defaults to
 * the array's own kind; a different dtype converts, except that a Uint8Array (or Uint16Array)
 * with a dtype is read as that dtype's raw little-endian bytes (safetensors, .pt storages).
 */
export function fromArray(data: HostArray, shape: number[], dtype?: DType): Tensor {
  return new Tensor(N.fromArray(data, shape, dtype));
}

/** A tensor from a (nested) JS number array; float32 unless told otherwise. */
export function tensor(values: number | number[] | number[][] | number[][][], dtype: DType = 'float32'): Tensor {
  const shape: number[] = [];
  let v: unknown = values;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0];
  }
  const flat = (Array.isArray(values) ? (values as unknown[]).flat(Infinity) : [values]) as number[];
  if (flat.length !== shape.reduce((a, b) => a * b, 1)) throw new Error('tensor(): ragged nested array');
  const isInt = dtype === 'int64' || dtype === 'int32' || dtype === 'uint8' || dtype === 'bool';
  const host = isInt ? Float64Array.from(flat) : Float32Array.from(flat);
  return new Tensor(N.fromArray(host, shape, dtype));
}
