/** Shared helpers for the src/io tests: fixture paths, a tiny zip writer, a seeded PRNG. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zlib from 'node:zlib';

function findRepoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'ctfgen') return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the ctfgen repository root');
    dir = up;
  }
}

export const repoRoot = findRepoRoot();
/** The shared folder (read-only fixtures): $CTFGEN_SHARED or <repo>/../shared. */
export const sharedDir = process.env.CTFGEN_SHARED ?? path.resolve(repoRoot, '..', 'shared');
export const llamagenDir = path.join(sharedDir, 'fixtures', 'llamagen-ref-a');
export const fixturesDir = path.join(repoRoot, 'test', 'fixtures');
export const ptDir = path.join(fixturesDir, 'pt');

export function readJson<T>(p: string): T {
  return JSON.parse(fs.readFileSync(p, 'utf8')) as T;
}

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(fs.realpathSync(process.env.TMPDIR ?? '/tmp'), `ctfgen-${prefix}-`));
}

/** One zip record as written: its body (stored or raw-deflated bytes) and what its headers declare. */
export interface ZipRecord {
  name: string;
  /** 0 stored, 8 deflated */
  method: number;
  body: Uint8Array;
  crc: number;
  /** the uncompressed size the headers declare */
  size: number;
}

/** Zip bytes from records whose headers say whatever the record says (sizes below 4 GiB, no ZIP64). */
export function zipRecords(records: readonly ZipRecord[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const { name, method, body, crc, size } of records) {
    const nameBuf = Buffer.from(name, 'utf8');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(0, 10);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(0, 12);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBuf, Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    centrals.push(central, nameBuf);
    offset += 30 + nameBuf.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(records.length, 8);
  eocd.writeUInt16LE(records.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

/** A minimal zip writer (stored or deflated records), enough to hand-craft torch-like files. */
export function makeZip(entries: Array<[string, Uint8Array]>, opts: { deflate?: boolean } = {}): Buffer {
  return zipRecords(
    entries.map(([name, data]) => ({
      name,
      method: opts.deflate ? 8 : 0,
      body: opts.deflate ? zlib.deflateRawSync(data) : data,
      crc: zlib.crc32(data) >>> 0,
      size: data.length,
    })),
  );
}

/** mulberry32: a small deterministic PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Builds a pickle from parts: numbers are opcode/argument bytes, strings are latin1 text. */
export function pk(...parts: Array<number | string | Uint8Array>): Uint8Array {
  const bytes: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') bytes.push(p);
    else if (typeof p === 'string') for (const c of Buffer.from(p, 'latin1')) bytes.push(c);
    else bytes.push(...p);
  }
  return Uint8Array.from(bytes);
}

/** BINUNICODE opcode with its argument. */
export function str(s: string): Uint8Array {
  const b = Buffer.from(s, 'utf8');
  const h = Buffer.alloc(5);
  h[0] = 0x58;
  h.writeUInt32LE(b.length, 1);
  return Buffer.concat([h, b]);
}

/** The pickle of torch.save({'w': tensor}) over storage '0' (FloatStorage of `numel` elements) with the given view. */
export function tensorPickle(size: number[], stride: number[], offset: number, numel = 4): Uint8Array {
  // prettier-ignore
  return pk(
    0x80, 2, '}', str('w'),
    'ctorch._utils\n_rebuild_tensor_v2\n',
    '(',
    '(', str('storage'), 'ctorch\nFloatStorage\n', str('0'), str('cpu'), 'K', numel, 't', 'Q',
    'K', offset,
    '(', ...size.flatMap((s) => ['K', s]), 't',
    '(', ...stride.flatMap((s) => ['K', s]), 't',
    0x89, 'ccollections\nOrderedDict\n', ')', 'R',
    't', 'R', 's', '.',
  );
}

export interface TensorFacts {
  dtype: string;
  shape: number[];
  sha256: string;
  count: number;
  sum: number;
  absSum: number;
}
