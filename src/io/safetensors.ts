/**
 * safetensors (https://github.com/huggingface/safetensors) reading and writing.
 *
 * Layout: 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * `{"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [begin, end]}, ...}`
 * padded with spaces to a multiple of 8, then the data section; offsets are relative to the
 * start of the data section, which the tensors must cover exactly (no overlaps, no holes).
 * Every header field is validated; errors name the file and the problem.
 */
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { CheckpointError } from './errors.js';
import { DType, RawTensor, dtypeByteSize, validateRawTensor } from './raw-tensor.js';
import { openRegularFile, readExactly, readTextFileSync } from './regular-file.js';

export class SafetensorsError extends CheckpointError {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

export const SAFETENSORS_DTYPE: Readonly<Record<DType, string>> = {
  float32: 'F32',
  float64: 'F64',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  uint8: 'U8',
  bool: 'BOOL',
};

const FROM_SAFETENSORS: Readonly<Record<string, DType>> = Object.fromEntries(
  Object.entries(SAFETENSORS_DTYPE).map(([k, v]) => [v, k as DType]),
);

/** Valid safetensors dtypes that RawTensor has no type for. */
const UNSUPPORTED_DTYPES = new Set(['I8', 'I16', 'U16', 'U32', 'U64', 'F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F6_E2M3', 'F6_E3M2', 'F4', 'C64']);

/** The reference implementation refuses headers above 100 MB. */
export const MAX_HEADER_BYTES = 100_000_000;

/** Files up to this size are read into one buffer and tensors are views into it. */
export const DEFAULT_WHOLE_FILE_LIMIT = 1 << 30;

export interface SafetensorsEntry {
  name: string;
  dtype: DType;
  shape: number[];
  /** byte offsets relative to the start of the data section */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  /** absolute file offset of the data section (8 + header length) */
  dataStart: number;
  dataLength: number;
}

export interface SafetensorsFile {
  tensors: Map<string, RawTensor>;
  metadata: Record<string, string>;
}

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

function isObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

function isNonNegInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

/** Reads and checks the 8-byte header length against the file size. */
function headerLength(first8: Uint8Array, fileSize: number, label: string): number {
  if (fileSize < 8) throw new SafetensorsError(`${label}: file is ${fileSize} bytes, too short for a safetensors header`);
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(fileSize - 8))
    throw new SafetensorsError(`${label}: header length ${n} runs past the end of the file (${fileSize} bytes)`);
  if (n > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(`${label}: header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (n < 2n) throw new SafetensorsError(`${label}: header length ${n} is too small`);
  return Number(n);
}

/** Parses and validates the JSON header given the size of the data section that follows it. */
export function parseSafetensorsHeader(
  headerBytes: Uint8Array,
  dataLength: number,
  label = '<buffer>',
): { entries: SafetensorsEntry[]; metadata: Record<string, string> } {
  let text: string;
  try {
    text = fatalUtf8.decode(headerBytes);
  } catch {
    throw new SafetensorsError(`${label}: header is not valid UTF-8`);
  }
  if (!text.startsWith('{')) throw new SafetensorsError(`${label}: header does not start with '{'`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(`${label}: header is not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(json)) throw new SafetensorsError(`${label}: header is not a JSON object`);
  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const name of Object.keys(json)) {
    const v = json[name];
    if (name === '__metadata__') {
      if (!isObject(v)) throw new SafetensorsError(`${label}: __metadata__ is not an object`);
      for (const k of Object.keys(v)) {
        const s = v[k];
        if (typeof s !== 'string') throw new SafetensorsError(`${label}: __metadata__ value for ${JSON.stringify(k)} is not a string`);
        Object.defineProperty(metadata, k, { value: s, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    const what = `${label}: tensor ${JSON.stringify(name)}`;
    if (!isObject(v)) throw new SafetensorsError(`${what}: header entry is not an object`);
    const { dtype: st, shape, data_offsets: offs } = v;
    if (typeof st !== 'string') throw new SafetensorsError(`${what}: dtype is missing`);
    const dtype = Object.prototype.hasOwnProperty.call(FROM_SAFETENSORS, st) ? FROM_SAFETENSORS[st] : undefined;
    if (dtype === undefined) {
      throw new SafetensorsError(`${what}: ${UNSUPPORTED_DTYPES.has(st) ? 'unsupported' : 'unknown'} dtype ${JSON.stringify(st)}`);
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegInt))
      throw new SafetensorsError(`${what}: shape is not a list of non-negative integers`);
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(isNonNegInt)) {
      throw new SafetensorsError(`${what}: data_offsets is not a pair of non-negative integers`);
    }
    const [begin, end] = offs as [number, number];
    if (begin > end) throw new SafetensorsError(`${what}: data_offsets [${begin}, ${end}] are reversed`);
    if (end > dataLength)
      throw new SafetensorsError(`${what}: data_offsets [${begin}, ${end}] run past the data section (${dataLength} bytes)`);
    let want = dtypeByteSize(dtype);
    for (const d of shape as number[]) want *= d;
    if (!Number.isSafeInteger(want)) throw new SafetensorsError(`${what}: shape [${shape.join(', ')}] is too large`);
    if (end - begin !== want) {
      throw new SafetensorsError(
        `${what}: ${st} [${shape.join(', ')}] needs ${want} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`,
      );
    }
    entries.push({ name, dtype, shape: [...(shape as number[])], begin, end });
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev: SafetensorsEntry | undefined;
  for (const e of sorted) {
    if (e.begin < at) throw new SafetensorsError(`${label}: tensors ${JSON.stringify(prev!.name)} and ${JSON.stringify(e.name)} overlap`);
    if (e.begin > at)
      throw new SafetensorsError(`${label}: data section has a hole at bytes [${at}, ${e.begin}) before ${JSON.stringify(e.name)}`);
    at = e.end;
    prev = e;
  }
  if (at !== dataLength)
    throw new SafetensorsError(`${label}: data section has ${dataLength - at} trailing bytes not covered by any tensor`);
  return { entries, metadata };
}

/** Parses a whole safetensors file held in memory; tensor data are views into `buf` (no copy). */
export function parseSafetensors(buf: Uint8Array, label = '<buffer>'): SafetensorsFile {
  const n = headerLength(buf.subarray(0, 8), buf.byteLength, label);
  const dataStart = 8 + n;
  const { entries, metadata } = parseSafetensorsHeader(buf.subarray(8, dataStart), buf.byteLength - dataStart, label);
  const tensors = new Map<string, RawTensor>();
  for (const e of entries) {
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: buf.subarray(dataStart + e.begin, dataStart + e.end) });
  }
  return { tensors, metadata };
}

/** Reads and validates the header of an opened safetensors file. */
async function readHeaderOf(fh: FileHandle, size: number, file: string): Promise<SafetensorsHeader> {
  const first8 = new Uint8Array(8);
  await fh.read(first8, 0, Math.min(8, size), 0);
  const n = headerLength(first8, size, file);
  const header = await readExactly(fh, n, 8, file);
  const dataStart = 8 + n;
  const { entries, metadata } = parseSafetensorsHeader(header, size - dataStart, file);
  return { entries, metadata, dataStart, dataLength: size - dataStart };
}

/** Reads only the header of a safetensors file. */
export async function readSafetensorsHeader(file: string): Promise<SafetensorsHeader> {
  const { handle, size } = await openRegularFile(file, 'a safetensors file');
  try {
    return await readHeaderOf(handle, size, file);
  } finally {
    await handle.close();
  }
}

export interface ReadSafetensorsOptions {
  /**
   * Files up to this many bytes are read with one read and the tensors are views into that
   * buffer; larger files are read tensor by tensor (default 1 GiB).
   */
  wholeFileLimit?: number;
}

/**
 * Reads a safetensors file (see ReadSafetensorsOptions for how memory is used). Only regular
 * files are read, and only after the header is validated: the tensors it declares must cover the
 * data section exactly, so what is read is what the header declares and no more.
 */
export async function readSafetensors(file: string, opts: ReadSafetensorsOptions = {}): Promise<SafetensorsFile> {
  const { handle: fh, size } = await openRegularFile(file, 'a safetensors file');
  try {
    const header = await readHeaderOf(fh, size, file);
    if (size <= (opts.wholeFileLimit ?? DEFAULT_WHOLE_FILE_LIMIT)) {
      const data = await readExactly(fh, header.dataLength, header.dataStart, file);
      const tensors = new Map<string, RawTensor>();
      for (const e of header.entries) tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: data.subarray(e.begin, e.end) });
      return { tensors, metadata: header.metadata };
    }
    const tensors = new Map<string, RawTensor>();
    for (const e of header.entries)
      tensors.set(e.name, {
        dtype: e.dtype,
        shape: e.shape,
        data: await readExactly(fh, e.end - e.begin, header.dataStart + e.begin, file),
      });
    return { tensors, metadata: header.metadata };
  } finally {
    await fh.close();
  }
}

function utf8Compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The bytes of a safetensors file as chunks: the header (length + JSON + padding), then each
 * tensor's data (the tensors' own arrays, not copied). Tensors are laid out by element size,
 * largest first, then by name, so every tensor starts aligned to its element size; the header
 * JSON is compact, `__metadata__` first, padded with spaces to a multiple of 8 bytes, as the
 * reference implementation writes it.
 */
export function serializeSafetensors(tensors: ReadonlyMap<string, RawTensor>, metadata?: Readonly<Record<string, string>>): Uint8Array[] {
  const items = [...tensors.entries()];
  for (const [name, t] of items) {
    if (typeof name !== 'string' || name.length === 0) throw new SafetensorsError(`tensor names must be non-empty strings`);
    if (name === '__metadata__') throw new SafetensorsError(`a tensor cannot be named __metadata__`);
    validateRawTensor(t, `tensor ${JSON.stringify(name)}`);
  }
  items.sort(([na, a], [nb, b]) => dtypeByteSize(b.dtype) - dtypeByteSize(a.dtype) || utf8Compare(na, nb));
  const parts: string[] = [];
  if (metadata && Object.keys(metadata).length > 0) {
    const kv = Object.keys(metadata).map((k) => {
      const v = metadata[k];
      if (typeof v !== 'string') throw new SafetensorsError(`metadata value for ${JSON.stringify(k)} is not a string`);
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    parts.push(`"__metadata__":{${kv.join(',')}}`);
  }
  let offset = 0;
  for (const [name, t] of items) {
    const end = offset + t.data.byteLength;
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"${SAFETENSORS_DTYPE[t.dtype]}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${end}]}`,
    );
    offset = end;
  }
  const json = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  const head = new Uint8Array(8 + padded);
  new DataView(head.buffer).setBigUint64(0, BigInt(padded), true);
  head.set(json, 8);
  head.fill(0x20, 8 + json.length);
  return [head, ...items.map(([, t]) => t.data)];
}

/** serializeSafetensors joined into one buffer. */
export function encodeSafetensors(tensors: ReadonlyMap<string, RawTensor>, metadata?: Readonly<Record<string, string>>): Uint8Array {
  const chunks = serializeSafetensors(tensors, metadata);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

/** Writes a safetensors file atomically, streaming tensor data without joining it. */
export async function writeSafetensors(
  file: string,
  tensors: ReadonlyMap<string, RawTensor>,
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  await writeFileAtomic(file, serializeSafetensors(tensors, metadata));
}

export interface SafetensorsIndex {
  /** tensor name -> shard path (absolute, resolved next to the index file) */
  weightMap: Map<string, string>;
  /** the index's "metadata" object (e.g. total_size), untyped */
  metadata: Record<string, unknown>;
}

/** Reads a sharded-checkpoint index (`model.safetensors.index.json`). */
export async function readSafetensorsIndexFile(indexPath: string): Promise<SafetensorsIndex> {
  let json: unknown;
  try {
    json = JSON.parse(readTextFileSync(indexPath, { what: 'a safetensors index', maxBytes: MAX_HEADER_BYTES }));
  } catch (e) {
    throw new SafetensorsError(`${indexPath}: not a readable JSON index (${(e as Error).message})`);
  }
  if (!isObject(json) || !isObject(json.weight_map)) throw new SafetensorsError(`${indexPath}: index has no "weight_map" object`);
  const dir = path.dirname(indexPath);
  const weightMap = new Map<string, string>();
  for (const name of Object.keys(json.weight_map)) {
    const shard = json.weight_map[name];
    if (typeof shard !== 'string' || shard === '' || shard === '.' || shard === '..' || /[/\\]/.test(shard)) {
      throw new SafetensorsError(`${indexPath}: weight_map entry for ${JSON.stringify(name)} is not a file name in the index's folder`);
    }
    weightMap.set(name, path.join(dir, shard));
  }
  return { weightMap, metadata: isObject(json.metadata) ? json.metadata : {} };
}

/**
 * Reads every tensor a sharded checkpoint's index lists, from its shards. `metadata` merges
 * the shards' `__metadata__` (first shard wins); `indexMetadata` is the index's own.
 */
export async function readSafetensorsIndex(
  indexPath: string,
  opts: ReadSafetensorsOptions = {},
): Promise<SafetensorsFile & { indexMetadata: Record<string, unknown> }> {
  const index = await readSafetensorsIndexFile(indexPath);
  const shards = new Map<string, SafetensorsFile>();
  for (const shard of new Set(index.weightMap.values())) shards.set(shard, await readSafetensors(shard, opts));
  const tensors = new Map<string, RawTensor>();
  const metadata: Record<string, string> = {};
  for (const s of shards.values()) {
    for (const [k, v] of Object.entries(s.metadata)) {
      if (!Object.prototype.hasOwnProperty.call(metadata, k))
        Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
  }
  for (const [name, shard] of index.weightMap) {
    const t = shards.get(shard)!.tensors.get(name);
    if (!t) throw new SafetensorsError(`${indexPath}: tensor ${JSON.stringify(name)} is not in its shard ${path.basename(shard)}`);
    tensors.set(name, t);
  }
  return { tensors, metadata, indexMetadata: index.metadata };
}
