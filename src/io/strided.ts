/**
 * Copying a strided view (storage offset + sizes + strides, in elements, as PyTorch stores
 * them) out of a storage into C-contiguous bytes.
 */

/** Above this many output bytes, a view that reads storage elements more than once is refused. */
export const MAX_EXPANDED_BYTES = 64 * 1024 * 1024;

export interface StridedView {
  /** storage offset in elements */
  offset: number;
  shape: readonly number[];
  /** strides in elements */
  stride: readonly number[];
}

function isNonNegInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

/**
 * Checks that a view fits in a storage of `storageNumel` elements; returns the element count of
 * the view. Throws an Error describing the problem otherwise.
 */
export function checkStridedView(view: StridedView, storageNumel: number): number {
  const { offset, shape, stride } = view;
  if (!isNonNegInt(offset)) throw new Error(`invalid storage offset ${String(offset)}`);
  if (shape.length !== stride.length) {
    throw new Error(`size [${shape.join(', ')}] and stride [${stride.join(', ')}] have different lengths`);
  }
  let numel = 1;
  let last = offset; // index of the last element the view touches
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    const s = stride[i];
    if (!isNonNegInt(d)) throw new Error(`invalid size [${shape.join(', ')}]`);
    if (!isNonNegInt(s)) throw new Error(`invalid stride [${stride.join(', ')}]`);
    numel *= d;
    if (d > 0) last += (d - 1) * s;
  }
  if (!Number.isSafeInteger(numel) || !Number.isSafeInteger(last)) {
    throw new Error(`size [${shape.join(', ')}] / stride [${stride.join(', ')}] overflow`);
  }
  if (numel > 0 && last >= storageNumel) {
    throw new Error(
      `view (offset ${offset}, size [${shape.join(', ')}], stride [${stride.join(', ')}]) reaches element ${last} ` +
        `of a storage of ${storageNumel} elements`,
    );
  }
  return numel;
}

/** True when the strides are those of a C-contiguous tensor (dimensions of size 1 ignored). */
export function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!;
    if (d === 0) return true;
    if (d !== 1 && stride[i] !== expected) return false;
    expected *= d;
  }
  return true;
}

/**
 * The view's elements as C-contiguous bytes. A contiguous view comes back as a subarray of
 * `storage` (no copy); anything else is copied. `storage` holds `storage.byteLength / itemSize`
 * elements.
 */
export function stridedToContiguous(storage: Uint8Array, itemSize: number, view: StridedView): Uint8Array {
  const storageNumel = Math.floor(storage.byteLength / itemSize);
  const numel = checkStridedView(view, storageNumel);
  const { offset, shape, stride } = view;
  const outBytes = numel * itemSize;
  if (numel === 0) return new Uint8Array(0);
  if (isContiguous(shape, stride)) return storage.subarray(offset * itemSize, offset * itemSize + outBytes);
  if (numel > storageNumel && outBytes > MAX_EXPANDED_BYTES) {
    throw new Error(
      `view (size [${shape.join(', ')}], stride [${stride.join(', ')}]) repeats storage elements and would need ` +
        `${outBytes} bytes; refusing to expand more than ${MAX_EXPANDED_BYTES} bytes`,
    );
  }
  let out: Uint8Array;
  try {
    out = new Uint8Array(outBytes);
  } catch (e) {
    throw new Error(`cannot allocate ${outBytes} bytes for a tensor: ${(e as Error).message}`);
  }
  // Drop size-1 dimensions; they do not affect addressing.
  const dims: number[] = [];
  const strides: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] !== 1) {
      dims.push(shape[i]!);
      strides.push(stride[i]!);
    }
  }
  const nd = dims.length;
  const inner = dims[nd - 1]!;
  const innerStride = strides[nd - 1]!;
  const idx = new Array<number>(nd).fill(0);
  let base = offset; // storage element index of the start of the current inner row
  let o = 0; // output element index
  const runBytes = inner * itemSize;
  // Element-wise copy through integer views when the storage is aligned (always the case for
  // buffers allocated by the readers); otherwise bytewise.
  const canWord = storage.byteOffset % itemSize === 0 && (itemSize === 2 || itemSize === 4 || itemSize === 8);
  const src32 = canWord && itemSize >= 4 ? new Uint32Array(storage.buffer, storage.byteOffset, (storageNumel * itemSize) / 4) : undefined;
  const dst32 = src32 ? new Uint32Array(out.buffer, 0, outBytes / 4) : undefined;
  const src16 = canWord && itemSize === 2 ? new Uint16Array(storage.buffer, storage.byteOffset, storageNumel) : undefined;
  const dst16 = src16 ? new Uint16Array(out.buffer, 0, numel) : undefined;
  for (;;) {
    if (innerStride === 1) {
      out.set(storage.subarray(base * itemSize, base * itemSize + runBytes), o * itemSize);
    } else if (itemSize === 4 && src32 && dst32) {
      for (let j = 0, s = base; j < inner; j++, s += innerStride) dst32[o + j] = src32[s]!;
    } else if (itemSize === 8 && src32 && dst32) {
      for (let j = 0, s = base * 2, d = o * 2; j < inner; j++, s += innerStride * 2, d += 2) {
        dst32[d] = src32[s]!;
        dst32[d + 1] = src32[s + 1]!;
      }
    } else if (itemSize === 2 && src16 && dst16) {
      for (let j = 0, s = base; j < inner; j++, s += innerStride) dst16[o + j] = src16[s]!;
    } else {
      for (let j = 0; j < inner; j++) {
        const s = (base + j * innerStride) * itemSize;
        const d = (o + j) * itemSize;
        for (let b = 0; b < itemSize; b++) out[d + b] = storage[s + b]!;
      }
    }
    o += inner;
    // advance the outer index (odometer over dims 0..nd-2)
    let k = nd - 2;
    while (k >= 0) {
      idx[k]!++;
      base += strides[k]!;
      if (idx[k]! < dims[k]!) break;
      base -= strides[k]! * dims[k]!;
      idx[k] = 0;
      k--;
    }
    if (k < 0) break;
  }
  return out;
}
