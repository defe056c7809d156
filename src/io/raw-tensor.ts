// Helpers over RawTensor (see util/tensor-types.ts): dtype sizes, validation, typed views, float
// conversions and checksums.
import type { DType, RawTensor } from '../util/tensor-types.js';

export type { DType, RawTensor };

export const DTYPES: readonly DType[] = ['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'uint8', 'bool'];

const BYTE_SIZE: Record<DType, number> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  uint8: 1,
  bool: 1,
};

export function isDType(x: unknown): x is DType {
  return typeof x === 'string' && Object.prototype.hasOwnProperty.call(BYTE_SIZE, x);
}

/** Bytes per element of `dtype`. */
export function dtypeByteSize(dtype: DType): number {
  const n = BYTE_SIZE[dtype];
  if (n === undefined) throw new Error(`unknown dtype ${String(dtype)}`);
  return n;
}

export function isFloatingDType(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16' || dtype === 'bfloat16';
}

/** Number of elements of a tensor of this shape (1 for a 0-d tensor). Throws on a malformed shape. */
export function numElements(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new Error(`invalid shape [${shape.join(', ')}]: dimension ${d}`);
    n *= d;
    if (!Number.isSafeInteger(n)) throw new Error(`invalid shape [${shape.join(', ')}]: element count overflows`);
  }
  return n;
}

/** Byte length the data of a tensor with this dtype and shape must have. */
export function expectedByteLength(dtype: DType, shape: readonly number[]): number {
  const n = numElements(shape) * dtypeByteSize(dtype);
  if (!Number.isSafeInteger(n)) throw new Error(`invalid shape [${shape.join(', ')}]: byte size overflows`);
  return n;
}

/** Throws an Error (prefixed with `what`) unless `raw` is a well-formed RawTensor. */
export function validateRawTensor(raw: RawTensor, what = 'tensor'): void {
  if (raw === null || typeof raw !== 'object') throw new Error(`${what}: not a RawTensor`);
  if (!isDType(raw.dtype)) throw new Error(`${what}: unknown dtype ${String(raw.dtype)}`);
  if (!Array.isArray(raw.shape)) throw new Error(`${what}: shape is not an array`);
  if (!(raw.data instanceof Uint8Array)) throw new Error(`${what}: data is not a Uint8Array`);
  let want: number;
  try {
    want = expectedByteLength(raw.dtype, raw.shape);
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`);
  }
  if (raw.data.byteLength !== want) {
    throw new Error(`${what}: ${raw.dtype} [${raw.shape.join(', ')}] needs ${want} bytes but data has ${raw.data.byteLength}`);
  }
}

/** Builds a validated RawTensor. */
export function makeRawTensor(dtype: DType, shape: readonly number[], data: Uint8Array): RawTensor {
  const raw: RawTensor = { dtype, shape: [...shape], data };
  validateRawTensor(raw);
  return raw;
}

/** Duck-typed check: an object with a known dtype, an array shape and Uint8Array data. */
export function isRawTensor(x: unknown): x is RawTensor {
  if (x === null || typeof x !== 'object') return false;
  const r = x as Partial<RawTensor>;
  return isDType(r.dtype) && Array.isArray(r.shape) && r.data instanceof Uint8Array;
}

/** Returns `bytes` if its byteOffset is a multiple of `align`, otherwise an aligned copy. */
function aligned(bytes: Uint8Array, align: number): Uint8Array {
  if (bytes.byteOffset % align === 0) return bytes;
  return bytes.slice();
}

export type TypedView = Float32Array | Float64Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array;

/**
 * A typed-array view of the elements (copying only if the bytes are misaligned): Float32Array,
 * Float64Array, Uint16Array (the raw bits of float16 and bfloat16), BigInt64Array, Int32Array,
 * Uint8Array (uint8 and bool).
 */
export function typedView(raw: RawTensor): TypedView {
  validateRawTensor(raw);
  const size = dtypeByteSize(raw.dtype);
  const b = aligned(raw.data, size);
  const n = b.byteLength / size;
  switch (raw.dtype) {
    case 'float32':
      return new Float32Array(b.buffer, b.byteOffset, n);
    case 'float64':
      return new Float64Array(b.buffer, b.byteOffset, n);
    case 'float16':
    case 'bfloat16':
      return new Uint16Array(b.buffer, b.byteOffset, n);
    case 'int64':
      return new BigInt64Array(b.buffer, b.byteOffset, n);
    case 'int32':
      return new Int32Array(b.buffer, b.byteOffset, n);
    case 'uint8':
    case 'bool':
      return new Uint8Array(b.buffer, b.byteOffset, n);
  }
}

let halfTable: Float32Array | undefined;

/** float16 bits -> float32 value, via a 65536-entry table built on first use. */
function getHalfTable(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const f = h & 0x3ff;
    let v: number;
    if (e === 0) v = f * 2 ** -24;
    else if (e === 31) v = f === 0 ? Infinity : NaN;
    else v = (1 + f / 1024) * 2 ** (e - 15);
    t[h] = sign * v;
  }
  halfTable = t;
  return t;
}

export function halfBitsToFloat(h: number): number {
  return getHalfTable()[h & 0xffff]!;
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** float32 value -> float16 bits, round to nearest even; overflow -> inf, NaN kept (quiet). */
export function floatToHalfBits(value: number): number {
  f32Scratch[0] = value;
  return f32BitsToHalfBits(u32Scratch[0]!);
}

function f32BitsToHalfBits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (half & 1) !== 0)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1) !== 0)) half++;
  return sign | half;
}

/** float32 bits -> bfloat16 bits, round to nearest even (as torch does); NaN stays a quiet NaN. */
function f32BitsToBf16Bits(x: number): number {
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return ((x >>> 16) & 0x8000) | 0x7fc0;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** The elements converted to float32 (always a fresh array, never aliasing raw.data). */
export function rawToFloat32(raw: RawTensor): Float32Array {
  const v = typedView(raw);
  const n = v.length;
  switch (raw.dtype) {
    case 'float32':
      return Float32Array.from(v as Float32Array);
    case 'float16': {
      const t = getHalfTable();
      const src = v as Uint16Array;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = t[src[i]!]!;
      return out;
    }
    case 'bfloat16': {
      const src = v as Uint16Array;
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = src[i]! << 16;
      return out;
    }
    case 'int64': {
      const src = v as BigInt64Array;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = Number(src[i]!);
      return out;
    }
    case 'float64':
    case 'int32':
    case 'uint8':
    case 'bool': {
      const src = v as Float64Array | Int32Array | Uint8Array;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = src[i]!;
      return out;
    }
  }
}

export type FloatDType = 'float32' | 'float64' | 'float16' | 'bfloat16';

/** Float32 values -> a RawTensor of a floating dtype (float16/bfloat16 round to nearest even). */
export function float32ToRaw(arr: Float32Array, shape: readonly number[], dtype: FloatDType = 'float32'): RawTensor {
  const n = numElements(shape);
  if (arr.length !== n) throw new Error(`float32ToRaw: ${arr.length} values do not fit shape [${shape.join(', ')}]`);
  let data: Uint8Array;
  switch (dtype) {
    case 'float32': {
      const copy = Float32Array.from(arr);
      data = new Uint8Array(copy.buffer);
      break;
    }
    case 'float64': {
      const copy = Float64Array.from(arr);
      data = new Uint8Array(copy.buffer);
      break;
    }
    case 'float16':
    case 'bfloat16': {
      const bits = new Uint32Array(arr.buffer, arr.byteOffset, arr.length);
      const out = new Uint16Array(n);
      const conv = dtype === 'float16' ? f32BitsToHalfBits : f32BitsToBf16Bits;
      for (let i = 0; i < n; i++) out[i] = conv(bits[i]!);
      data = new Uint8Array(out.buffer);
      break;
    }
    default:
      throw new Error(`float32ToRaw: unsupported target dtype ${String(dtype)}`);
  }
  return { dtype, shape: [...shape], data };
}

/** Converts a floating tensor (float16/bfloat16/float64) to float32; other dtypes come back unchanged. */
export function toFloat32Raw(raw: RawTensor): RawTensor {
  if (raw.dtype === 'float32' || !isFloatingDType(raw.dtype)) return raw;
  const values = rawToFloat32(raw);
  return { dtype: 'float32', shape: [...raw.shape], data: new Uint8Array(values.buffer) };
}

export interface Checksum {
  /** element count */
  count: number;
  /** sum of the float32 values, accumulated in float64 (compensated) */
  sum: number;
  /** sum of |x| of the float32 values, accumulated in float64 (compensated) */
  absSum: number;
}

/**
 * A cheap fingerprint: element count, sum and sum of absolute values of the elements as
 * float32 (the same values rawToFloat32 gives), summed in float64 with Neumaier compensation
 * so that the result hardly depends on summation order.
 */
export function checksum(raw: RawTensor): Checksum {
  const v = rawToFloat32(raw);
  let s = 0;
  let cs = 0;
  let a = 0;
  let ca = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    let t = s + x;
    cs += Math.abs(s) >= Math.abs(x) ? s - t + x : x - t + s;
    s = t;
    const ax = Math.abs(x);
    t = a + ax;
    ca += a >= ax ? a - t + ax : ax - t + a;
    a = t;
  }
  return { count: v.length, sum: s + cs, absSum: a + ca };
}

/** Reverses the byte order of every `itemSize`-byte element in place (for big-endian sources). */
export function byteSwapInPlace(bytes: Uint8Array, itemSize: number): void {
  if (itemSize === 1) return;
  if (bytes.byteLength % itemSize !== 0) throw new Error(`byteSwapInPlace: ${bytes.byteLength} bytes is not a multiple of ${itemSize}`);
  for (let i = 0; i < bytes.byteLength; i += itemSize) {
    for (let a = i, b = i + itemSize - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}
