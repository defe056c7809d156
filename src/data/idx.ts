/**
 * IDX file reader (the MNIST / Fashion-MNIST container format).
 *
 * Layout: 2 zero bytes, a dtype byte, a dimension count byte, then that many
 * big-endian uint32 sizes, then the data, big-endian, row-major.
 * Gzip is detected from the content (1f 8b), not from the file name.
 */

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  dtype: IdxDtype;
  dims: number[];
  data: IdxData;
}

const DTYPES: Record<number, { name: IdxDtype; bytes: number }> = {
  0x08: { name: 'uint8', bytes: 1 },
  0x09: { name: 'int8', bytes: 1 },
  0x0b: { name: 'int16', bytes: 2 },
  0x0c: { name: 'int32', bytes: 4 },
  0x0d: { name: 'float32', bytes: 4 },
  0x0e: { name: 'float64', bytes: 8 },
};

export class IdxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdxError';
  }
}

/** True if the bytes start with the gzip magic. */
export function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

/**
 * Parses IDX bytes (raw or gzip). `source` names the file in error messages.
 * uint8 data is a view on the decompressed buffer for gzip input; for raw input it
 * is a copy unless `copy: false` (then it aliases `bytes`).
 */
export function parseIdx(bytes: Uint8Array, source = '<buffer>', opts: { copy?: boolean } = {}): IdxArray {
  let buf = bytes;
  let owned = opts.copy === false;
  if (isGzip(buf)) {
    owned = true;
    try {
      buf = gunzipSync(buf);
    } catch (e) {
      throw new IdxError(`${source}: gzip data is corrupt or truncated (${(e as Error).message})`);
    }
  }
  if (buf.length < 4) {
    throw new IdxError(`${source}: truncated IDX file: ${buf.length} bytes, the header alone needs at least 4`);
  }
  if (buf[0] !== 0 || buf[1] !== 0) {
    const hex = Array.from(buf.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new IdxError(`${source}: not an IDX file: magic bytes are ${hex}, expected 00 00 <dtype> <ndims>`);
  }
  const dt = DTYPES[buf[2]];
  if (!dt) {
    throw new IdxError(`${source}: unknown IDX dtype code 0x${buf[2].toString(16).padStart(2, '0')} (known: 08 09 0b 0c 0d 0e)`);
  }
  const ndims = buf[3];
  if (ndims === 0) throw new IdxError(`${source}: IDX header declares 0 dimensions`);
  const headerLen = 4 + 4 * ndims;
  if (buf.length < headerLen) {
    throw new IdxError(`${source}: truncated IDX file: ${buf.length} bytes, the header of ${ndims} dimensions needs ${headerLen}`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let d = 0; d < ndims; d++) {
    const n = view.getUint32(4 + 4 * d, false);
    dims.push(n);
    count *= n;
  }
  const need = headerLen + count * dt.bytes;
  if (buf.length < need) {
    throw new IdxError(`${source}: truncated IDX file: dims [${dims.join(', ')}] of ${dt.name} need ${need} bytes, file has ${buf.length}`);
  }
  if (buf.length > need) {
    throw new IdxError(
      `${source}: IDX file has ${buf.length - need} unexpected trailing bytes after dims [${dims.join(', ')}] of ${dt.name}`,
    );
  }
  let data: IdxData;
  switch (dt.name) {
    case 'uint8':
      // A plain Uint8Array (not a Node Buffer): a view when the buffer is ours, else a copy.
      data = owned ? new Uint8Array(buf.buffer, buf.byteOffset + headerLen, count) : new Uint8Array(buf.subarray(headerLen, need));
      break;
    case 'int8':
      data = Int8Array.from(buf.subarray(headerLen, need), (b) => (b << 24) >> 24);
      break;
    case 'int16': {
      const a = new Int16Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getInt16(headerLen + 2 * i, false);
      data = a;
      break;
    }
    case 'int32': {
      const a = new Int32Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getInt32(headerLen + 4 * i, false);
      data = a;
      break;
    }
    case 'float32': {
      const a = new Float32Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getFloat32(headerLen + 4 * i, false);
      data = a;
      break;
    }
    case 'float64': {
      const a = new Float64Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getFloat64(headerLen + 8 * i, false);
      data = a;
      break;
    }
  }
  return { dtype: dt.name, dims, data };
}

/** Reads and parses an IDX file (raw or gzip). */
export function readIdx(path: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new IdxError(err.code === 'ENOENT' ? `IDX file not found: ${path}` : `cannot read IDX file ${path}: ${err.message}`);
  }
  return parseIdx(bytes, path, { copy: false });
}

/** Builds IDX bytes (uncompressed) — for tests and fixtures. */
export function encodeIdx(dtype: IdxDtype, dims: number[], values: ArrayLike<number>): Uint8Array {
  const code = Number(Object.keys(DTYPES).find((k) => DTYPES[Number(k)].name === dtype));
  const bytes = DTYPES[code].bytes;
  const count = dims.reduce((a, b) => a * b, 1);
  if (values.length !== count) throw new RangeError(`encodeIdx: ${values.length} values for dims [${dims.join(', ')}]`);
  const out = new Uint8Array(4 + 4 * dims.length + count * bytes);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  let o = 4 + 4 * dims.length;
  for (let i = 0; i < count; i++, o += bytes) {
    const v = values[i];
    switch (dtype) {
      case 'uint8':
        view.setUint8(o, v);
        break;
      case 'int8':
        view.setInt8(o, v);
        break;
      case 'int16':
        view.setInt16(o, v, false);
        break;
      case 'int32':
        view.setInt32(o, v, false);
        break;
      case 'float32':
        view.setFloat32(o, v, false);
        break;
      case 'float64':
        view.setFloat64(o, v, false);
        break;
    }
  }
  return out;
}
