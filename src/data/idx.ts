/**
 * IDX file reader (the MNIST / Fashion-MNIST container format).
 *
 * Layout: 2 zero bytes, a dtype byte, a dimension count byte, then that many
 * big-endian uint32 sizes, then the data, big-endian, row-major.
 * Gzip is detected from the content (1f 8b), not from the file name.
 *
 * Sizes come from the header: a raw file must be exactly as long as its dims say, and a gzip
 * stream is inflated only up to that length (a stream longer than its header declares is
 * refused without inflating the rest). Files are opened as regular files only.
 */

import { closeSync } from 'node:fs';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { FileRefusedError, openRegularFileSync, readExactlySync } from '../io/regular-file.js';

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

interface IdxHeader {
  dt: { name: IdxDtype; bytes: number };
  dims: number[];
  count: number;
  headerLen: number;
  /** header + data bytes */
  need: number;
}

/** Parses the header from the first bytes of an (uncompressed) IDX file. */
function parseIdxHeader(buf: Uint8Array, source: string): IdxHeader {
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
  return { dt, dims, count, headerLen, need: headerLen + count * dt.bytes };
}

/** Largest IDX header: 4 bytes + 255 dimensions of 4 bytes. */
const MAX_IDX_HEADER = 4 + 4 * 255;

/**
 * Inflates a gzip IDX stream up to the length its header declares: the header is read from a
 * bounded first inflation, and the stream is then inflated with that length as the output limit.
 */
function gunzipIdx(gz: Uint8Array, source: string): Uint8Array {
  let head: Uint8Array;
  try {
    // at most 4 KiB of input: its output is bounded (deflate expands at most ~1032:1)
    head = gunzipSync(gz.subarray(0, 4096), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  } catch (e) {
    throw new IdxError(`${source}: gzip data is corrupt or truncated (${(e as Error).message})`);
  }
  const h = parseIdxHeader(head.subarray(0, MAX_IDX_HEADER), source);
  if (h.need > MAX_IDX_BYTES)
    throw new IdxError(
      `${source}: IDX header declares dims [${h.dims.join(', ')}] of ${h.dt.name}, ${h.need} bytes, more than ${MAX_IDX_BYTES}`,
    );
  try {
    return gunzipSync(gz, { maxOutputLength: Math.max(h.need, 1) });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw new IdxError(
        `${source}: gzip stream inflates to more than the ${h.need} bytes its header declares (dims [${h.dims.join(', ')}] of ${h.dt.name})`,
      );
    throw new IdxError(`${source}: gzip data is corrupt or truncated (${(e as Error).message})`);
  }
}

/** Largest IDX data held in memory (Node's limit on one buffer). */
const MAX_IDX_BYTES = 2 ** 32;

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
    buf = gunzipIdx(buf, source);
  }
  const { dt, dims, count, headerLen, need } = parseIdxHeader(buf, source);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
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

/**
 * Reads and parses an IDX file (raw or gzip), a regular file only. A raw file is read only when
 * its length is what its header declares; a gzip file is read whole (it is compressed) and
 * inflated only up to its declared length.
 */
export function readIdx(path: string): IdxArray {
  let fd: number;
  let size: number;
  try {
    ({ fd, size } = openRegularFileSync(path, 'an IDX file'));
  } catch (e) {
    if (e instanceof FileRefusedError) throw new IdxError(e.message);
    const err = e as NodeJS.ErrnoException;
    throw new IdxError(err.code === 'ENOENT' ? `IDX file not found: ${path}` : `cannot read IDX file ${path}: ${err.message}`);
  }
  try {
    const head = readExactlySync(fd, Math.min(size, MAX_IDX_HEADER), 0, path);
    if (!isGzip(head)) {
      const h = parseIdxHeader(head, path);
      if (size !== h.need)
        throw new IdxError(
          `${path}: IDX file is ${size} bytes but its dims [${h.dims.join(', ')}] of ${h.dt.name} make ${h.need}` +
            (size < h.need ? ' (truncated)' : ' (unexpected trailing bytes)'),
        );
    }
    return parseIdx(readExactlySync(fd, size, 0, path), path, { copy: false });
  } finally {
    closeSync(fd);
  }
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
