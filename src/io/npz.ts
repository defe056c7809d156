/**
 * NumPy `.npz` archives both ways: the exchange format of OpenAI's ADM evaluator, LlamaGen and VAR
 * (samples `arr_0` uint8 [N, H, W, 3] with labels `arr_1`; reference batches with precomputed
 * `mu`, `sigma`, `mu_s`, `sigma_s`).
 *
 * Reading (NpzFile): every member is a `.npy` array, format version 1, 2 or 3; dtypes uint8,
 * bool, int32, int64, float32, float64 in either byte order; C or Fortran order (returned in C
 * order, native byte order). Object arrays (pickled Python objects) and structured or string
 * dtypes are refused with a clear error: nothing is ever unpickled. Members may be stored
 * (np.savez) or deflated (np.savez_compressed); the zip layer (zip.ts, yauzl) handles ZIP64 and
 * never inflates past a member's recorded size, and a header whose shape disagrees with the
 * member's size is refused before anything is allocated. Large arrays are read in batches along
 * the first axis (`rows`), so memory is bounded by the batch, not the file.
 *
 * Writing (writeNpz): each array is streamed from a typed array or from chunks of its raw bytes
 * into a stored member (zip.ts writeZipAtomic: atomic, ZIP64 where needed), so writing N images
 * needs memory for one chunk, whatever N. Headers are written as numpy does (version 1.0, padded
 * to a multiple of 64 bytes), so numpy, the ADM evaluator and ctfgen read each other's files.
 */
import { CheckpointError } from './errors.js';
import { writeZipAtomic, ZipReader, ZipError, type ZipWriteEntry } from './zip.js';

export type NpyDType = 'uint8' | 'bool' | 'int32' | 'int64' | 'float32' | 'float64';
/** Array data in C order and the machine's (little-endian) byte order; bool as 0/1 bytes. */
export type NpyData = Uint8Array | Int32Array | BigInt64Array | Float32Array | Float64Array;

export interface NpyArray {
  dtype: NpyDType;
  shape: number[];
  data: NpyData;
}

export interface NpyHeader {
  dtype: NpyDType;
  shape: number[];
  fortranOrder: boolean;
  littleEndian: boolean;
  /** bytes before the data (magic, version, header) */
  headerBytes: number;
  /** bytes of data: product(shape) × item size */
  dataBytes: number;
}

export class NpzError extends CheckpointError {
  constructor(message: string) {
    super(message);
    this.name = 'NpzError';
  }
}

/** numpy type code (kind + item size) → dtype */
const CODES: Record<string, { dtype: NpyDType; size: number }> = {
  u1: { dtype: 'uint8', size: 1 },
  b1: { dtype: 'bool', size: 1 },
  i4: { dtype: 'int32', size: 4 },
  i8: { dtype: 'int64', size: 8 },
  f4: { dtype: 'float32', size: 4 },
  f8: { dtype: 'float64', size: 8 },
};
const ITEM_SIZE: Record<NpyDType, number> = { uint8: 1, bool: 1, int32: 4, int64: 8, float32: 4, float64: 8 };
const DESCR: Record<NpyDType, string> = { uint8: '|u1', bool: '|b1', int32: '<i4', int64: '<i8', float32: '<f4', float64: '<f8' };
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export const itemSize = (dtype: NpyDType): number => ITEM_SIZE[dtype];
export const elementCount = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

// ---- the .npy header ----

/** Bytes before the data, from the first 12 bytes of a .npy stream (magic, version, length). */
export function npyPreludeLength(prefix: Uint8Array, label: string): number {
  if (prefix.length < 10 || MAGIC.some((b, i) => prefix[i] !== b)) throw new NpzError(`${label}: not a .npy array (no \\x93NUMPY magic)`);
  const major = prefix[6]!;
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  if (major === 1) return 10 + view.getUint16(8, true);
  if (major === 2 || major === 3) {
    if (prefix.length < 12) throw new NpzError(`${label}: truncated .npy header`);
    return 12 + view.getUint32(8, true);
  }
  throw new NpzError(`${label}: .npy format version ${major}.${prefix[7]} is not supported (1.0, 2.0 and 3.0 are)`);
}

type PyValue = string | number | boolean | PyValue[] | { [k: string]: PyValue } | null;

/** Parses the Python literal of a .npy header (a dict of strings, booleans and int tuples). */
function parsePyLiteral(text: string, label: string): PyValue {
  let i = 0;
  const bad = (what: string): never => {
    throw new NpzError(`${label}: malformed .npy header (${what} at character ${i}): ${JSON.stringify(text.slice(0, 200))}`);
  };
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const value = (): PyValue => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const out: Record<string, PyValue> = {};
      for (;;) {
        ws();
        if (text[i] === '}') return (i++, out);
        const k = value();
        if (typeof k !== 'string') bad('a non-string key');
        ws();
        if (text[i++] !== ':') bad("a missing ':'");
        out[k as string] = value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') bad("a missing ','");
      }
    }
    if (c === '(' || c === '[') {
      const close = c === '(' ? ')' : ']';
      i++;
      const out: PyValue[] = [];
      for (;;) {
        ws();
        if (text[i] === close) return (i++, out);
        out.push(value());
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== close) bad("a missing ','");
      }
    }
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) bad('an unterminated string');
      const s = text.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    const m = /^(True|False|None|-?\d+)L?/.exec(text.slice(i));
    if (!m) return bad('an unexpected token');
    i += m[0].length;
    return m[1] === 'True' ? true : m[1] === 'False' ? false : m[1] === 'None' ? null : Number(m[1]);
  };
  const v = value();
  ws();
  if (i !== text.length) bad('trailing text');
  return v;
}

/** The header of a .npy array from its first `npyPreludeLength` bytes. */
export function parseNpyHeader(bytes: Uint8Array, label: string): NpyHeader {
  const headerBytes = npyPreludeLength(bytes, label);
  if (bytes.length < headerBytes) throw new NpzError(`${label}: truncated .npy header`);
  const start = bytes[6] === 1 ? 10 : 12;
  const text = new TextDecoder(bytes[6] === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, headerBytes)).trim();
  const dict = parsePyLiteral(text, label);
  if (dict === null || typeof dict !== 'object' || Array.isArray(dict)) throw new NpzError(`${label}: the .npy header is not a dict`);
  const { descr, fortran_order: fortran, shape } = dict as Record<string, PyValue>;
  if (Array.isArray(descr)) throw new NpzError(`${label}: structured (record) arrays are not supported; save plain numeric arrays`);
  if (typeof descr !== 'string') throw new NpzError(`${label}: the .npy header has no dtype ('descr')`);
  if (/O/.test(descr))
    throw new NpzError(
      `${label}: an object array (dtype ${descr}) holds pickled Python objects, which ctfgen never loads; ` +
        'save numeric arrays (e.g. np.savez(path, arr_0=images.astype(np.uint8)))',
    );
  const m = /^([<>|=])([a-zA-Z]\d+)$/.exec(descr);
  const code = m ? CODES[m[2]!] : undefined;
  if (!m || !code) throw new NpzError(`${label}: dtype ${descr} is not supported (uint8, bool, int32, int64, float32, float64 are)`);
  if (typeof fortran !== 'boolean') throw new NpzError(`${label}: the .npy header has no boolean 'fortran_order'`);
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0))
    throw new NpzError(`${label}: the .npy header has no shape of non-negative integers`);
  const dims = shape as number[];
  const dataBytes = elementCount(dims) * code.size;
  if (!Number.isSafeInteger(dataBytes)) throw new NpzError(`${label}: shape [${dims.join(', ')}] is too large`);
  return { dtype: code.dtype, shape: dims, fortranOrder: fortran, littleEndian: m[1] !== '>', headerBytes, dataBytes };
}

/** The header numpy writes: version 1.0 (2.0 past 65535 bytes), growth room, padded to 64 bytes. */
export function npyHeader(dtype: NpyDType, shape: readonly number[]): Uint8Array {
  for (const d of shape) if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`npy: bad shape [${shape.join(', ')}]`);
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  // numpy leaves room for the first axis to grow to 21 digits (GROWTH_AXIS_MAX_DIGITS) in place
  const growth = shape.length > 0 ? ' '.repeat(Math.max(0, 21 - String(shape[0]).length)) : '';
  const dict = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${tuple}, }${growth}`;
  const padded = (prelude: number) => Math.ceil((prelude + dict.length + 1) / 64) * 64;
  const v1 = padded(10) - 10 <= 0xffff;
  const prelude = v1 ? 10 : 12;
  const total = padded(prelude);
  const out = new Uint8Array(total);
  out.set(MAGIC);
  out[6] = v1 ? 1 : 2;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (v1) view.setUint16(8, total - prelude, true);
  else view.setUint32(8, total - prelude, true);
  const text = dict.padEnd(total - prelude - 1, ' ') + '\n';
  for (let i = 0; i < text.length; i++) out[prelude + i] = text.charCodeAt(i);
  return out;
}

// ---- typed data ----

/** Typed view of freshly allocated (aligned) bytes of `dtype`, converted to little endian. */
function typed(dtype: NpyDType, bytes: Uint8Array, littleEndian: boolean): NpyData {
  const size = ITEM_SIZE[dtype];
  if (!littleEndian && size > 1)
    for (let o = 0; o < bytes.length; o += size)
      for (let a = o, b = o + size - 1; a < b; a++, b--) {
        const t = bytes[a]!;
        bytes[a] = bytes[b]!;
        bytes[b] = t;
      }
  const { buffer, byteOffset, byteLength } = bytes;
  switch (dtype) {
    case 'uint8':
    case 'bool':
      return bytes;
    case 'int32':
      return new Int32Array(buffer, byteOffset, byteLength / 4);
    case 'int64':
      return new BigInt64Array(buffer, byteOffset, byteLength / 8);
    case 'float32':
      return new Float32Array(buffer, byteOffset, byteLength / 4);
    case 'float64':
      return new Float64Array(buffer, byteOffset, byteLength / 8);
  }
}

/** Fortran-order elements → C order (same shape). */
function fortranToC(a: NpyData, shape: number[]): NpyData {
  const out = new (a.constructor as new (n: number) => NpyData)(a.length);
  const k = shape.length;
  const stride = new Array<number>(k); // Fortran strides
  let s = 1;
  for (let j = 0; j < k; j++) {
    stride[j] = s;
    s *= shape[j]!;
  }
  const idx = new Array<number>(k).fill(0);
  for (let c = 0; c < a.length; c++) {
    let f = 0;
    for (let j = 0; j < k; j++) f += idx[j]! * stride[j]!;
    (out as Float64Array)[c] = (a as Float64Array)[f]!;
    for (let j = k - 1; j >= 0; j--) {
      if (++idx[j]! < shape[j]!) break;
      idx[j] = 0;
    }
  }
  return out;
}

/** Values of an integer or float array as numbers (int64 must be safe integers). */
export function npyNumbers(a: NpyArray, what: string): Float64Array {
  if (a.data instanceof BigInt64Array) {
    const out = new Float64Array(a.data.length);
    for (let i = 0; i < out.length; i++) {
      const v = a.data[i]!;
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER))
        throw new NpzError(`${what}: value ${v} is not a safe integer`);
      out[i] = Number(v);
    }
    return out;
  }
  return Float64Array.from(a.data as ArrayLike<number>);
}

// ---- reading ----

/** Exact-size reads from a sequence of chunks. */
class ChunkReader {
  private chunk: Uint8Array | null = null;
  private off = 0;
  constructor(
    private readonly it: AsyncIterator<Uint8Array>,
    private readonly label: string,
  ) {}
  async readInto(dst: Uint8Array): Promise<Uint8Array> {
    let o = 0;
    while (o < dst.length) {
      if (!this.chunk || this.off === this.chunk.length) {
        const r = await this.it.next();
        if (r.done) throw new NpzError(`${this.label}: ends after ${o} of ${dst.length} expected bytes`);
        this.chunk = r.value;
        this.off = 0;
        continue;
      }
      const n = Math.min(dst.length - o, this.chunk.length - this.off);
      dst.set(this.chunk.subarray(this.off, this.off + n), o);
      o += n;
      this.off += n;
    }
    return dst;
  }
  async close(): Promise<void> {
    await this.it.return?.();
  }
}

export interface NpzReadOptions {
  /** refuse to read an array of more bytes at once (default 4 GiB); use `rows` for large ones */
  maxBytes?: number;
}

/** A .npz archive opened for reading (see the module comment). Close it when done. */
export class NpzFile {
  private constructor(
    private readonly zip: ZipReader,
    readonly label: string,
    /** array name → member name */
    private readonly members: Map<string, string>,
  ) {}

  static async open(src: string | Uint8Array, label = typeof src === 'string' ? src : '<buffer>'): Promise<NpzFile> {
    let zip: ZipReader;
    try {
      zip = await ZipReader.open(src, label);
    } catch (e) {
      throw new NpzError(`${label}: not a readable .npz file (${(e as Error).message.replace(`${label}: `, '')})`);
    }
    // other members (numpy's np.load hands them out as bytes) are left alone
    const members = new Map<string, string>();
    for (const name of zip.entries.keys()) if (name.endsWith('.npy')) members.set(name.slice(0, -4), name);
    if (members.size === 0) {
      await zip.close();
      throw new NpzError(
        `${label}: not a .npz file: it holds no .npy arrays (members: ${[...zip.entries.keys()].slice(0, 5).join(', ') || 'none'})`,
      );
    }
    return new NpzFile(zip, label, members);
  }

  /** Array names (member names without ".npy"), in archive order. */
  get names(): string[] {
    return [...this.members.keys()];
  }

  has(name: string): boolean {
    return this.members.has(name);
  }

  private member(name: string): string {
    const m = this.members.get(name);
    if (!m) throw new NpzError(`${this.label}: no array '${name}' (it has ${this.names.join(', ') || 'none'})`);
    return m;
  }

  /** Opens an array's byte stream and reads its header; checks the header against the member size. */
  private async begin(name: string): Promise<{ header: NpyHeader; reader: ChunkReader; label: string }> {
    const member = this.member(name);
    const label = `${this.label}: ${name}`;
    const size = this.zip.entries.get(member)!.uncompressedSize;
    const reader = new ChunkReader(this.zip.stream(member, { chunkSize: 1 << 22 })[Symbol.asyncIterator](), label);
    try {
      const prefix = await reader.readInto(new Uint8Array(Math.min(12, size)));
      const headerBytes = npyPreludeLength(prefix, label);
      if (headerBytes > 1 << 20 || headerBytes > size) throw new NpzError(`${label}: .npy header length ${headerBytes} is impossible`);
      const all = new Uint8Array(headerBytes);
      all.set(prefix);
      await reader.readInto(all.subarray(prefix.length));
      const header = parseNpyHeader(all, label);
      if (header.headerBytes + header.dataBytes !== size)
        throw new NpzError(
          `${label}: the header describes ${header.dataBytes} data bytes (${header.dtype} [${header.shape.join(', ')}]) ` +
            `but the member holds ${size - header.headerBytes}; the file is corrupt or truncated`,
        );
      return { header, reader, label };
    } catch (e) {
      await reader.close();
      throw e instanceof ZipError ? new NpzError(e.message) : e;
    }
  }

  /** The header of an array (dtype, shape, order), without reading its data. */
  async header(name: string): Promise<NpyHeader> {
    const { header, reader } = await this.begin(name);
    await reader.close();
    return header;
  }

  /** A whole array, in C order and native byte order. */
  async read(name: string, opts: NpzReadOptions = {}): Promise<NpyArray> {
    const { header, reader, label } = await this.begin(name);
    try {
      const max = opts.maxBytes ?? 2 ** 32;
      if (header.dataBytes > max)
        throw new NpzError(`${label}: ${header.dataBytes} bytes is more than ${max} to read at once; read it in batches (rows)`);
      const bytes = await reader.readInto(new Uint8Array(header.dataBytes)).catch(rethrow);
      const data = typed(header.dtype, bytes, header.littleEndian);
      return {
        dtype: header.dtype,
        shape: header.shape,
        data: header.fortranOrder && header.shape.length > 1 ? fortranToC(data, header.shape) : data,
      };
    } finally {
      await reader.close();
    }
  }

  /**
   * Batches of at most `batchRows` entries along the first axis, in order (C order, native byte
   * order). Fortran-order arrays are read whole first (as the ADM evaluator does).
   */
  async *rows(name: string, batchRows: number, opts: NpzReadOptions = {}): AsyncGenerator<NpyArray, void, undefined> {
    if (!Number.isInteger(batchRows) || batchRows < 1) throw new RangeError(`rows: batchRows must be a positive integer, got ${batchRows}`);
    const { header, reader, label } = await this.begin(name);
    try {
      if (header.shape.length === 0) throw new NpzError(`${label}: a 0-d array has no rows`);
      const [n, ...rest] = header.shape as [number, ...number[]];
      if (header.fortranOrder && header.shape.length > 1) {
        await reader.close();
        const all = await this.read(name, opts);
        const per = elementCount(rest);
        for (let from = 0; from < n; from += batchRows) {
          const to = Math.min(n, from + batchRows);
          yield { dtype: all.dtype, shape: [to - from, ...rest], data: all.data.slice(from * per, to * per) };
        }
        return;
      }
      const rowBytes = elementCount(rest) * ITEM_SIZE[header.dtype];
      for (let from = 0; from < n; from += batchRows) {
        const m = Math.min(batchRows, n - from);
        const bytes = await reader.readInto(new Uint8Array(m * rowBytes)).catch(rethrow);
        yield { dtype: header.dtype, shape: [m, ...rest], data: typed(header.dtype, bytes, header.littleEndian) };
      }
    } finally {
      await reader.close();
    }
  }

  async close(): Promise<void> {
    await this.zip.close();
  }
}

const rethrow = (e: unknown): never => {
  throw e instanceof ZipError ? new NpzError(e.message) : e;
};

/** Opens `path`, runs `fn`, closes it. */
export async function withNpz<R>(path: string, fn: (f: NpzFile) => Promise<R>): Promise<R> {
  const f = await NpzFile.open(path);
  try {
    return await fn(f);
  } finally {
    await f.close();
  }
}

// ---- writing ----

export interface NpzArrayInput {
  name: string;
  dtype: NpyDType;
  shape: number[];
  /** a typed array of the dtype (C order), or chunks of its raw little-endian bytes in C order */
  data: NpyData | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
}

function isTyped(d: NpzArrayInput['data']): d is NpyData {
  return ArrayBuffer.isView(d);
}

/**
 * Writes arrays as a .npz archive (stored members `<name>.npy`), atomically and streaming: chunked
 * data is copied through, never gathered. `forceZip64` writes ZIP64 records even for small files
 * (they are used anyway where a member or the archive passes 4 GiB).
 */
export async function writeNpz(path: string, arrays: NpzArrayInput[], opts: { forceZip64?: boolean } = {}): Promise<void> {
  const names = new Set<string>();
  const entries: ZipWriteEntry[] = arrays.map((a) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(a.name) || names.has(a.name))
      throw new RangeError(`writeNpz: bad or repeated array name '${a.name}'`);
    names.add(a.name);
    const header = npyHeader(a.dtype, a.shape);
    const dataBytes = elementCount(a.shape) * ITEM_SIZE[a.dtype];
    if (isTyped(a.data)) {
      const expected = {
        uint8: Uint8Array,
        bool: Uint8Array,
        int32: Int32Array,
        int64: BigInt64Array,
        float32: Float32Array,
        float64: Float64Array,
      }[a.dtype];
      if (!(a.data instanceof expected) || a.data.byteLength !== dataBytes)
        throw new RangeError(`writeNpz: ${a.name} must be a ${expected.name} of ${dataBytes} bytes for ${a.dtype} [${a.shape.join(', ')}]`);
    }
    const body = isTyped(a.data) ? [new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength)] : a.data;
    return { name: `${a.name}.npy`, size: header.length + dataBytes, data: withHeader(header, body) };
  });
  await writeZipAtomic(path, entries, opts);
}

async function* withHeader(header: Uint8Array, body: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield header;
  yield* body;
}

/** A JSON value as a uint8 array (ctfgen's metadata inside a .npz; numpy reads it as bytes). */
export function jsonArray(name: string, value: unknown): NpzArrayInput {
  const data = new TextEncoder().encode(JSON.stringify(value));
  return { name, dtype: 'uint8', shape: [data.length], data };
}

/** The JSON value written by jsonArray. */
export function parseJsonArray(a: NpyArray, what: string): unknown {
  if (a.dtype !== 'uint8' || a.shape.length !== 1) throw new NpzError(`${what}: expected uint8 JSON bytes`);
  try {
    return JSON.parse(new TextDecoder().decode(a.data as Uint8Array)) as unknown;
  } catch (e) {
    throw new NpzError(`${what}: not JSON (${(e as Error).message})`);
  }
}
