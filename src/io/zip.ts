/**
 * Random access to the entries of a zip archive (a PyTorch checkpoint), from a file path or an
 * in-memory buffer, one entry at a time: a multi-GB checkpoint is never read into one Buffer.
 *
 * yauzl does the parsing of the central directory (ZIP64 included, which torch writes for
 * files over 4 GB) and the inflating of deflated entries. Stored entries, which is what torch
 * writes, are read with one positioned read straight into the destination array (yauzl 3's
 * readLocalFileHeader gives the data offset), which is much faster than its 64 KB stream for
 * GB-sized storages.
 *
 * Sizes: a record is never inflated past the size its entry declares (the stream is stopped at the
 * first byte beyond it), callers pass the size they expect (torch: what the pickle declares for
 * the storage) so a record declaring more is refused before anything is inflated, and `maxBytes`
 * bounds records nothing else declares (the pickle). Paths are opened as regular files only.
 *
 * CRC-32 checking costs about 3 s per GB here (zlib.crc32), and PyTorch's own reader does not
 * check it, so by default ('small') only records up to SMALL_RECORD_BYTES (the pickle, small
 * tensors) are checked; `verifyCrc: true` checks every record, `false` none.
 *
 * `stream` reads one entry chunk by chunk (numpy .npz image arrays of many GB), and
 * `writeZipAtomic` writes an archive of stored entries streamed from iterables, through yazl
 * (yauzl's sibling: ZIP64 where needed, sizes checked), to a temporary file renamed at the end.
 */
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { writeFileAtomic } from './atomic.js';
import { CheckpointError } from './errors.js';
import { FileRefusedError, openRegularFile } from './regular-file.js';

export interface ZipEntryInfo {
  name: string;
  compressionMethod: number;
  compressedSize: number;
  uncompressedSize: number;
  crc32: number;
}

/** The parts of yauzl 3's ZipFile used here (its bundled @types describe yauzl 2). */
interface YZipFile {
  readEntry(): void;
  on(ev: 'entry', fn: (e: YEntry) => void): void;
  on(ev: 'end', fn: () => void): void;
  on(ev: 'error', fn: (err: Error) => void): void;
  openReadStream(entry: YEntry, cb: (err: Error | null, stream?: NodeJS.ReadableStream) => void): void;
  readLocalFileHeader(entry: YEntry, opts: { minimal: true }, cb: (err: Error | null, h?: { fileDataStart: number }) => void): void;
  close(): void;
  isOpen: boolean;
}
interface YEntry {
  fileName: string;
  compressionMethod: number;
  compressedSize: number;
  uncompressedSize: number;
  crc32: number;
}

const YOPTS = { lazyEntries: true, autoClose: false, validateEntrySizes: true, decodeStrings: true, strictFileNames: false };

/** Deflate cannot expand data by more than about 1032:1; anything claiming more is corrupt. */
const MAX_DEFLATE_RATIO = 1032;
const READ_CHUNK = 1 << 30;

/** Records up to this size are CRC-checked under the default verifyCrc: 'small'. */
export const SMALL_RECORD_BYTES = 1024 * 1024;

export type VerifyCrc = boolean | 'small';

export interface ZipReaderOptions {
  /** which records to CRC-check: all (true), none (false), or up to SMALL_RECORD_BYTES ('small', default) */
  verifyCrc?: VerifyCrc;
}

const crc32: ((data: Uint8Array, value?: number) => number) | undefined = (zlib as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;

export class ZipError extends CheckpointError {
  constructor(message: string) {
    super(message);
    this.name = 'ZipError';
  }
}

/**
 * yauzl's view of an opened file: positioned reads and range streams on our FileHandle, which
 * stays ours to close (yauzl's own fd reader closes the descriptor it is given).
 */
class HandleReader extends yauzl.RandomAccessReader {
  constructor(private readonly fh: FileHandle) {
    super();
  }
  // not fh.createReadStream: destroying such a stream closes the handle itself
  override _readStreamForRange(start: number, end: number): Readable {
    const fh = this.fh;
    let at = start;
    return new Readable({
      highWaterMark: 1 << 16,
      read(size) {
        const n = Math.min(size, end - at);
        if (n <= 0) return void this.push(null);
        const buf = Buffer.allocUnsafe(n);
        fh.read(buf, 0, n, at).then(
          ({ bytesRead }) => {
            if (bytesRead === 0) return this.destroy(new Error('file is truncated'));
            at += bytesRead;
            this.push(buf.subarray(0, bytesRead));
          },
          (e: Error) => this.destroy(e),
        );
      },
    });
  }
  override read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    callback: (err: Error | null, bytesRead?: number) => void,
  ): void {
    this.fh.read(buffer, offset, length, position).then(
      (r) => callback(null, r.bytesRead),
      (e: Error) => callback(e),
    );
  }
}

export class ZipReader {
  readonly entries = new Map<string, ZipEntryInfo>();
  private readonly raw = new Map<string, YEntry>();

  private constructor(
    private readonly zip: YZipFile,
    private readonly buffer: Uint8Array | undefined,
    private fh: FileHandle | undefined,
    readonly label: string,
    private readonly verifyCrc: VerifyCrc,
  ) {}

  /** Opens an archive from a path or a buffer; `label` names it in errors. */
  static async open(
    src: string | Uint8Array,
    label = typeof src === 'string' ? src : '<buffer>',
    opts: ZipReaderOptions = {},
  ): Promise<ZipReader> {
    let fh: FileHandle | undefined;
    let size = 0;
    if (typeof src === 'string') {
      try {
        ({ handle: fh, size } = await openRegularFile(src, 'a zip archive'));
      } catch (e) {
        throw e instanceof FileRefusedError ? new ZipError(e.message) : new ZipError(`${label}: ${(e as Error).message}`);
      }
    }
    const zip = await new Promise<YZipFile>((resolve, reject) => {
      const cb = (err: Error | null, z?: unknown): void => (err || !z ? reject(err ?? new Error('no zip file')) : resolve(z as YZipFile));
      try {
        if (fh) yauzl.fromRandomAccessReader(new HandleReader(fh), size, YOPTS, cb as never);
        else
          yauzl.fromBuffer(
            Buffer.from((src as Uint8Array).buffer, (src as Uint8Array).byteOffset, (src as Uint8Array).byteLength),
            YOPTS,
            cb as never,
          );
      } catch (e) {
        reject(e as Error);
      }
    }).catch(async (e: Error) => {
      await fh?.close();
      throw new ZipError(`${label}: not a readable zip archive (${e.message})`);
    });
    const reader = new ZipReader(zip, typeof src === 'string' ? undefined : src, fh, label, opts.verifyCrc ?? 'small');
    try {
      await new Promise<void>((resolve, reject) => {
        zip.on('entry', (e: YEntry) => {
          if (!e.fileName.endsWith('/') && !reader.raw.has(e.fileName)) {
            reader.raw.set(e.fileName, e);
            reader.entries.set(e.fileName, {
              name: e.fileName,
              compressionMethod: e.compressionMethod,
              compressedSize: e.compressedSize,
              uncompressedSize: e.uncompressedSize,
              crc32: e.crc32,
            });
          }
          zip.readEntry();
        });
        zip.on('end', () => resolve());
        zip.on('error', (err: Error) => reject(err));
        zip.readEntry();
      });
    } catch (e) {
      await reader.close();
      throw new ZipError(`${label}: corrupt zip archive (${(e as Error).message})`);
    }
    return reader;
  }

  /**
   * The bytes of one entry, as a fresh Uint8Array (offset 0, so any typed view is aligned).
   * `expectedSize`, when given, must equal the entry's size; a record above `maxBytes` is refused.
   * Both are checked against the declared size before anything is read or inflated.
   */
  async read(name: string, expectedSize?: number, maxBytes?: number): Promise<Uint8Array> {
    const e = this.raw.get(name);
    if (!e) throw new ZipError(`${this.label}: missing record ${name}`);
    const size = e.uncompressedSize;
    if (expectedSize !== undefined && size !== expectedSize) {
      throw new ZipError(`${this.label}: record ${name} holds ${size} bytes, expected ${expectedSize}`);
    }
    if (maxBytes !== undefined && size > maxBytes)
      throw new ZipError(`${this.label}: record ${name} declares ${size} bytes, more than the ${maxBytes}-byte limit for it`);
    let out: Uint8Array;
    if (e.compressionMethod === 0) {
      if (e.compressedSize !== size) throw new ZipError(`${this.label}: record ${name}: stored sizes disagree`);
      out = await this.readStored(e);
    } else if (e.compressionMethod === 8) {
      if (size > e.compressedSize * MAX_DEFLATE_RATIO + 1024) {
        throw new ZipError(`${this.label}: record ${name} claims ${size} bytes from ${e.compressedSize} compressed bytes`);
      }
      out = await this.readDeflated(e);
    } else {
      throw new ZipError(`${this.label}: record ${name} uses unsupported compression method ${e.compressionMethod}`);
    }
    const check = this.verifyCrc === true || (this.verifyCrc === 'small' && size <= SMALL_RECORD_BYTES);
    if (check && crc32 && (e.crc32 !== 0 || size === 0)) {
      const c = crc32(out) >>> 0;
      if (c !== e.crc32 >>> 0) throw new ZipError(`${this.label}: record ${name} is corrupt (CRC-32 mismatch)`);
    }
    return out;
  }

  /**
   * The bytes of one entry as a sequence of chunks (at most `chunkSize` each), for entries too
   * large to hold at once. Stored entries are read by positioned reads; deflated ones are inflated
   * as a stream that may not run past the recorded size (nor claim an impossible ratio). The
   * CRC-32 is checked under the reader's verifyCrc policy, at the end. Stopping early (break) is fine.
   */
  async *stream(name: string, opts: { chunkSize?: number } = {}): AsyncGenerator<Uint8Array, void, undefined> {
    const e = this.raw.get(name);
    if (!e) throw new ZipError(`${this.label}: missing record ${name}`);
    const size = e.uncompressedSize;
    const chunkSize = opts.chunkSize ?? 1 << 22;
    const check = crc32 && (this.verifyCrc === true || (this.verifyCrc === 'small' && size <= SMALL_RECORD_BYTES));
    let crc = 0;
    let done = 0;
    const fail = (what: string): never => {
      throw new ZipError(`${this.label}: record ${name} ${what}`);
    };
    if (e.compressionMethod === 0) {
      if (e.compressedSize !== size) fail('has stored sizes that disagree');
      const start = await this.dataStart(e);
      if (this.buffer && start + size > this.buffer.byteLength) fail('runs past the end');
      if (!this.buffer && !this.fh) throw new ZipError(`${this.label}: archive is closed`);
      while (done < size) {
        const n = Math.min(chunkSize, size - done);
        let chunk: Uint8Array;
        if (this.buffer) chunk = this.buffer.slice(start + done, start + done + n);
        else {
          chunk = this.alloc(n, name);
          const { bytesRead } = await this.fh!.read(chunk, 0, n, start + done);
          if (bytesRead !== n) fail('is truncated');
        }
        if (check) crc = crc32!(chunk, crc);
        done += n;
        yield chunk;
      }
    } else if (e.compressionMethod === 8) {
      if (size > e.compressedSize * MAX_DEFLATE_RATIO + 1024) fail(`claims ${size} bytes from ${e.compressedSize} compressed bytes`);
      const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) => {
        try {
          this.zip.openReadStream(e, (err, st) => (err || !st ? reject(err ?? new Error('no stream')) : resolve(st)));
        } catch (err) {
          reject(err as Error);
        }
      }).catch((err: Error) => fail(`cannot be read: ${err.message}`));
      try {
        for await (const piece of stream as AsyncIterable<Buffer>) {
          if (done + piece.length > size) fail('inflates to more bytes than recorded');
          if (check) crc = crc32!(piece, crc);
          done += piece.length;
          for (let o = 0; o < piece.length; o += chunkSize) yield new Uint8Array(piece.subarray(o, Math.min(piece.length, o + chunkSize)));
        }
      } catch (err) {
        if (err instanceof ZipError) throw err;
        fail(`is corrupt (${(err as Error).message})`);
      } finally {
        (stream as unknown as { destroy(): void }).destroy();
      }
      if (done !== size) fail('inflates to fewer bytes than recorded');
    } else fail(`uses unsupported compression method ${e.compressionMethod}`);
    if (check && (e.crc32 !== 0 || size === 0) && crc >>> 0 !== e.crc32 >>> 0) fail('is corrupt (CRC-32 mismatch)');
  }

  private alloc(size: number, name: string): Uint8Array {
    try {
      return new Uint8Array(size);
    } catch (err) {
      throw new ZipError(`${this.label}: cannot allocate ${size} bytes for record ${name}: ${(err as Error).message}`);
    }
  }

  /** Offset of an entry's data in the archive (from its local header). */
  private dataStart(e: YEntry): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      try {
        this.zip.readLocalFileHeader(e, { minimal: true }, (err, h) =>
          err || !h ? reject(err ?? new Error('no header')) : resolve(h.fileDataStart),
        );
      } catch (err) {
        reject(err as Error);
      }
    }).catch((err: Error) => {
      throw new ZipError(`${this.label}: record ${e.fileName}: ${err.message}`);
    });
  }

  private async readStored(e: YEntry): Promise<Uint8Array> {
    const start = await this.dataStart(e);
    const size = e.uncompressedSize;
    if (this.buffer) {
      if (start + size > this.buffer.byteLength) throw new ZipError(`${this.label}: record ${e.fileName} runs past the end`);
      return this.buffer.slice(start, start + size);
    }
    const out = this.alloc(size, e.fileName);
    if (!this.fh) throw new ZipError(`${this.label}: archive is closed`);
    let done = 0;
    while (done < size) {
      const n = Math.min(READ_CHUNK, size - done);
      const { bytesRead } = await this.fh.read(out, done, n, start + done);
      if (bytesRead === 0) throw new ZipError(`${this.label}: record ${e.fileName} is truncated`);
      done += bytesRead;
    }
    return out;
  }

  private async readDeflated(e: YEntry): Promise<Uint8Array> {
    const out = this.alloc(e.uncompressedSize, e.fileName);
    await new Promise<void>((resolve, reject) => {
      try {
        this.zip.openReadStream(e, (err, stream) => {
          if (err || !stream) return reject(err ?? new Error('no stream'));
          let off = 0;
          stream.on('data', (chunk: Buffer) => {
            if (off + chunk.length > out.length) {
              (stream as unknown as { destroy(): void }).destroy();
              reject(new Error('inflated data is longer than recorded'));
              return;
            }
            out.set(chunk, off);
            off += chunk.length;
          });
          stream.on('error', (er: Error) => reject(er));
          stream.on('end', () => (off === out.length ? resolve() : reject(new Error('inflated data is shorter than recorded'))));
        });
      } catch (err) {
        reject(err as Error);
      }
    }).catch((err: Error) => {
      throw new ZipError(`${this.label}: record ${e.fileName}: ${err.message}`);
    });
    return out;
  }

  async close(): Promise<void> {
    try {
      if (this.zip.isOpen) this.zip.close();
    } catch {
      // already closed
    }
    const fh = this.fh;
    this.fh = undefined;
    if (fh) await fh.close();
  }
}

export interface ZipWriteEntry {
  name: string;
  /** exact number of bytes `data` yields (checked) */
  size: number;
  data: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
}

/**
 * Writes a zip archive of stored (uncompressed) entries, each streamed from its `data`, atomically
 * (atomic.ts: a killed writer leaves no partial archive at `path`). ZIP64 records are used where
 * sizes or offsets need them, or everywhere with `forceZip64`. Memory does not grow with the sizes.
 */
const ZIP_EPOCH = new Date(1980, 0, 1);

export async function writeZipAtomic(path: string, entries: ZipWriteEntry[], opts: { forceZip64?: boolean } = {}): Promise<void> {
  const zip = new yazl.ZipFile();
  const out = zip.outputStream as Readable;
  // yazl starts pumping entries at once, before the file is open and read from: keep the first
  // error (a failing data source, a size mismatch) and rethrow it after the write is abandoned
  let failure: Error | null = null;
  out.on('error', (err: Error) => (failure ??= err));
  zip.on('error', (err: Error) => out.destroy(err));
  const forceZip64Format = opts.forceZip64 ?? false;
  for (const e of entries) {
    // a fixed entry time (the zip epoch): the same arrays always make the same bytes
    zip.addReadStreamLazy(e.name, { compress: false, size: e.size, forceZip64Format, mtime: ZIP_EPOCH }, (cb) => {
      const src = Readable.from(e.data instanceof Uint8Array ? [e.data] : e.data, { objectMode: false });
      src.on('error', (err: Error) => out.destroy(err));
      cb(null, src);
    });
  }
  zip.end({ forceZip64Format, comment: '' });
  try {
    await writeFileAtomic(path, out as AsyncIterable<Uint8Array>);
  } catch (e) {
    throw failure ?? e;
  }
  if (failure) throw failure;
}
