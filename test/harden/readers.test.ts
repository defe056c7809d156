// Reads of user-named files, each tried on what a careless or hostile user can hand it: special
// files (/dev/zero behind a symlink, a FIFO, a directory) and decompression or allocation bombs.
// Every reader must refuse with an error naming the file, at once, and its peak memory (measured
// in a child process that runs only that reader) must stay below a stated bound: 128 MiB for the
// readers without libtorch, 320 MiB for the one that loads it (a process with libtorch alone
// peaks near 210 MiB). Each bomb would take 1 GiB or more if read naively.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { saveCheckpoint } from '../../src/io/index.js';
import { gzipWithZeros, jpegDeclaring, picklePtBomb, pngBomb, ptBomb } from './bombs.js';
import { readInChild, scratch } from './helpers.js';
import type { ReaderName } from './read-file.js';

const BOUND_MIB: Record<ReaderName, number> = {
  safetensors: 128,
  torch: 128,
  idx: 128,
  image: 128,
  run: 128,
  metrics: 128,
  'token-cache': 128,
  clusters: 320,
};
const GiB = 1024;

const dir = scratch('readers');
const file = (name: string, bytes: Uint8Array | string): string => {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
};
const link = (name: string, to: string): string => {
  const p = join(dir, name);
  symlinkSync(to, p);
  return p;
};
const fifo = (name: string): string => {
  const p = join(dir, name);
  execFileSync('mkfifo', [p]);
  return p;
};

/** Reads `path` with `reader` in a child process: refused as `expected`, within the reader's memory bound. */
function refusedBounded(reader: ReaderName, path: string, expected: RegExp): void {
  const r = readInChild(reader, path);
  assert.equal(r.status, 0, `${reader} child failed: ${r.stderr}`);
  assert.match(r.outcome, expected);
  assert.ok(r.outcome.includes(path) || r.outcome.includes(path.split('/').pop()!), `the error names the file: ${r.outcome}`);
  assert.ok(r.maxRssMiB < BOUND_MIB[reader], `${reader} on ${path}: peak RSS ${r.maxRssMiB.toFixed(0)} MiB ≥ ${BOUND_MIB[reader]} MiB`);
}

test('special files: /dev/zero behind a symlink, a FIFO and a directory are refused by every reader, without hanging', () => {
  const zero = link('zero.safetensors', '/dev/zero');
  const pipe = fifo('pipe.safetensors');
  const folder = join(dir, 'folder.safetensors');
  mkdirSync(folder);
  for (const reader of ['safetensors', 'torch', 'idx', 'image', 'metrics', 'token-cache', 'clusters'] as const) {
    refusedBounded(reader, zero, /is a character device, not a regular file/);
    refusedBounded(reader, pipe, /is a FIFO \(named pipe\), not a regular file/);
    refusedBounded(reader, folder, /is a directory, not a regular file/);
  }
});

test('safetensors and token caches: sizes come from the header, which must match the file', async () => {
  const claim = Buffer.alloc(16);
  claim.writeBigUInt64LE(1n << 40n);
  refusedBounded(
    'safetensors',
    file('claims-1tb.safetensors', claim),
    /header length 1099511627776 runs past the end of the file \(16 bytes\)/,
  );
  // a token cache whose metadata declares far more codes than the file holds
  const cache = join(dir, 'lying.tokens.safetensors');
  const int32 = (n: number) => ({ dtype: 'int32' as const, shape: [n], data: new Uint8Array(4 * n) });
  await saveCheckpoint(
    cache,
    new Map([
      ['codes', { ...int32(8), shape: [2, 1, 4] }],
      ['labels', int32(2)],
    ]),
    { kind: 'token-cache', n: 1_000_000_000, variants: 2, gridH: 16, gridW: 16, numClasses: 1, classNames: ['a'], codebookSize: 4 },
  );
  refusedBounded(
    'token-cache',
    cache,
    /corrupt token cache: codes must be int32 \[1000000000, 2, 256\] as its metadata declares, found int32 \[2, 1, 4\]/,
  );
});

test('.pt zips: a 1 MiB file holding a 1 GiB deflate stream is refused at once, whatever its headers declare', () => {
  // the zip declares the stream's true size: the pickle says the storage is 48 bytes
  const declared = file('declares-1gib.pt', ptBomb(GiB, GiB << 20));
  refusedBounded('torch', declared, /storage record archive\/data\/0 holds 1073741824 bytes but 12 float32 elements need 48/);
  // the zip declares 48 bytes: inflation stops at the first byte past them
  const lying = file('declares-48.pt', ptBomb(GiB, 48));
  const r = readInChild('torch', lying);
  assert.match(r.outcome, /declares-48\.pt: record archive\/data\/0: (inflated data is longer than recorded|too many bytes in the stream)/);
  assert.ok(r.seconds < 20 && r.maxRssMiB < BOUND_MIB.torch, `${r.seconds} s, ${r.maxRssMiB} MiB`);
  // nothing declares a pickle's size but its record: above 256 MiB it is refused before inflating
  refusedBounded(
    'torch',
    file('pickle-bomb.pt', picklePtBomb(GiB)),
    /record archive\/data\.pkl declares 1073741826 bytes, more than the 268435456-byte limit/,
  );
});

test('IDX: a raw file must be as long as its header says; a gzip stream inflates only that far', () => {
  // the header of an IDX ubyte file of these dims (00 00 08 <ndims> <dims as big-endian uint32>)
  const idxHeader = (dims: number[]) => {
    const h = new Uint8Array(4 + 4 * dims.length);
    h[2] = 0x08;
    h[3] = dims.length;
    dims.forEach((d, i) => new DataView(h.buffer).setUint32(4 + 4 * i, d));
    return h;
  };
  refusedBounded(
    'idx',
    file('short-images-idx3-ubyte', idxHeader([60000, 28, 28])),
    /is 16 bytes but its dims \[60000, 28, 28\] of uint8 make 47040016 \(truncated\)/,
  );
  // 10 images declared, then 1 GiB of zeros
  refusedBounded(
    'idx',
    file('bomb-images-idx3-ubyte.gz', gzipWithZeros(idxHeader([10, 28, 28]), GiB)),
    /gzip stream inflates to more than the 7856 bytes its header declares/,
  );
});

test('images: the declared size is checked before decoding (a 20000×20000 PNG of a few hundred KB, a JPEG header)', () => {
  const png = pngBomb(20000, 20000);
  assert.ok(png.length < 1 << 20, `the PNG bomb is ${png.length} bytes`);
  refusedBounded(
    'image',
    file('huge.png', png),
    /declares 20000x20000 = 400000000 pixels, more than the limit of 16777216; raise it with --max-pixels/,
  );
  refusedBounded('image', file('huge.jpg', jpegDeclaring(60000, 60000)), /declares 60000x60000 = 3600000000 pixels, more than the limit/);
  refusedBounded('image', link('zero.png', '/dev/zero'), /is a character device, not a regular file/);
});

test('run.json and metrics logs: special files are refused', () => {
  for (const [name, make] of [
    ['run-zero', (p: string) => symlinkSync('/dev/zero', join(p, 'run.json'))],
    ['run-fifo', (p: string) => execFileSync('mkfifo', [join(p, 'run.json')])],
  ] as const) {
    const run = join(dir, name);
    mkdirSync(run);
    make(run);
    refusedBounded('run', run, /run\.json: cannot be read as JSON \(.* is (a character device|a FIFO \(named pipe\)), not a regular file/);
  }
});
