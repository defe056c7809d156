/**
 * Robustness: truncated, empty, random and mutated inputs must give an Error (a
 * CheckpointError subclass with a message), never a crash, a hang or a foreign exception.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  CheckpointError,
  RawTensor,
  encodeSafetensors,
  loadStateDict,
  parseSafetensors,
  readTorchCheckpoint,
  unpickle,
} from '../../src/io/index.js';
import { makeZip, prng, ptDir } from './helpers.js';

type Outcome = 'ok' | 'error';

function isOurError(e: unknown): boolean {
  return e instanceof CheckpointError && typeof e.message === 'string' && e.message.length > 0;
}

async function outcome(f: () => unknown): Promise<Outcome> {
  try {
    await f();
    return 'ok';
  } catch (e) {
    if (!isOurError(e)) throw e;
    return 'error';
  }
}

function mutate(seed: Uint8Array, rand: () => number): { bytes: Uint8Array; kind: string } {
  const r = rand();
  const pos = Math.floor(rand() * seed.length);
  if (r < 0.4) {
    const b = Uint8Array.from(seed);
    const flips = 1 + Math.floor(rand() * 4);
    for (let i = 0; i < flips; i++) {
      const p = i === 0 ? pos : Math.floor(rand() * b.length);
      b[p]! ^= 1 << Math.floor(rand() * 8);
    }
    return { bytes: b, kind: 'bitflip' };
  }
  if (r < 0.6) return { bytes: seed.slice(0, pos), kind: 'truncate' };
  if (r < 0.8) {
    const n = 1 + Math.floor(rand() * 8);
    const ins = Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
    const b = new Uint8Array(seed.length + n);
    b.set(seed.subarray(0, pos));
    b.set(ins, pos);
    b.set(seed.subarray(pos), pos + n);
    return { bytes: b, kind: 'insert' };
  }
  // overwrite a run with interesting values (0x00, 0xff, 0x7f, random)
  const b = Uint8Array.from(seed);
  const n = 1 + Math.floor(rand() * 8);
  const v = [0, 0xff, 0x7f, 0x80][Math.floor(rand() * 4)]!;
  for (let i = pos; i < Math.min(b.length, pos + n); i++) b[i] = rand() < 0.8 ? v : Math.floor(rand() * 256);
  return { bytes: b, kind: 'overwrite' };
}

const ptSeeds = ['plain-f32.pt', 'model-bf16.pt', 'views.pt', 'ema.pt', 'proto4.pt'].map(
  (f) => new Uint8Array(fs.readFileSync(path.join(ptDir, f))),
);

const stSeed = encodeSafetensors(
  new Map<string, RawTensor>([
    ['a', { dtype: 'float32', shape: [2, 2], data: new Uint8Array(16).fill(1) }],
    ['b', { dtype: 'bfloat16', shape: [3], data: new Uint8Array(6).fill(2) }],
    ['c', { dtype: 'int64', shape: [], data: new Uint8Array(8).fill(3) }],
  ]),
  { format: 'pt' },
);

test('empty, tiny, truncated and random inputs are rejected with clear errors', async () => {
  const rand = prng(7);
  const inputs: Uint8Array[] = [new Uint8Array(0), Uint8Array.from([0x50]), Uint8Array.from([0x50, 0x4b, 3, 4])];
  for (const s of [...ptSeeds, stSeed])
    for (let n = 0; n < s.length; n += Math.max(1, Math.floor(s.length / 40))) inputs.push(s.slice(0, n));
  for (let i = 0; i < 300; i++) inputs.push(Uint8Array.from({ length: Math.floor(rand() * 3000) }, () => Math.floor(rand() * 256)));
  for (const b of inputs) {
    assert.equal(await outcome(() => readTorchCheckpoint(b)), 'error');
    assert.equal(await outcome(() => parseSafetensors(b)), 'error');
  }
});

test('10,000+ mutated checkpoints: errors or valid results, never crashes or hangs', { timeout: 120_000 }, async () => {
  const rand = prng(12345);
  const counts: Record<string, number> = {};
  const bump = (k: string): void => {
    counts[k] = (counts[k] ?? 0) + 1;
  };
  const t0 = Date.now();
  for (let i = 0; i < 6000; i++) {
    const seed = ptSeeds[i % ptSeeds.length]!;
    const { bytes, kind } = mutate(seed, rand);
    let o: Outcome;
    try {
      o = await outcome(() => readTorchCheckpoint(bytes, { label: `pt mutation ${i}` }));
    } catch (e) {
      assert.fail(`pt mutation ${i} (${kind}) threw a foreign error: ${(e as Error)?.stack ?? String(e)}`);
    }
    if (kind === 'truncate') assert.equal(o, 'error', `truncated pt ${i} was accepted`);
    bump(`pt ${kind} ${o}`);
  }
  for (let i = 0; i < 4000; i++) {
    const { bytes, kind } = mutate(stSeed, rand);
    let o: Outcome;
    try {
      o = await outcome(() => parseSafetensors(bytes, `st mutation ${i}`));
    } catch (e) {
      assert.fail(`safetensors mutation ${i} (${kind}) threw a foreign error: ${(e as Error)?.stack ?? String(e)}`);
    }
    if (kind === 'truncate') assert.equal(o, 'error', `truncated safetensors ${i} was accepted`);
    bump(`st ${kind} ${o}`);
  }
  // the pickle alone, mutated, without the zip's CRC to stop most mutations early
  const pkl = extractPickle(ptSeeds[3]!);
  for (let i = 0; i < 4000; i++) {
    const { bytes, kind } = mutate(pkl, rand);
    try {
      unpickle(bytes, { persistentLoad: () => null });
      bump(`pickle ${kind} ok`);
    } catch (e) {
      if (!isOurError(e)) assert.fail(`pickle mutation ${i} (${kind}) threw a foreign error: ${(e as Error)?.stack ?? String(e)}`);
      bump(`pickle ${kind} error`);
    }
  }
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  assert.ok(total >= 10_000);
  process.stderr.write(`# fuzz: ${total} inputs in ${Date.now() - t0} ms ${JSON.stringify(counts)}\n`);
});

/** The data.pkl record of a stored torch zip (local header parse, enough for our fixtures). */
function extractPickle(zip: Uint8Array): Uint8Array {
  const b = Buffer.from(zip);
  let p = 0;
  while (b.readUInt32LE(p) === 0x04034b50) {
    const size = b.readUInt32LE(p + 18);
    const nameLen = b.readUInt16LE(p + 26);
    const extraLen = b.readUInt16LE(p + 28);
    const name = b.subarray(p + 30, p + 30 + nameLen).toString();
    const start = p + 30 + nameLen + extraLen;
    if (name.endsWith('/data.pkl')) return zip.slice(start, start + size);
    p = start + size;
  }
  throw new Error('no data.pkl');
}

test('deeply nested and self-referencing pickles in a zip are handled', async () => {
  // 200,000 nested lists [[[...]]], deeper than a recursive walker could go
  const depth = 200_000;
  const parts: number[] = [0x80, 2];
  for (let i = 0; i < depth; i++) parts.push(0x5d); // EMPTY_LIST
  for (let i = 0; i < depth - 1; i++) parts.push(0x61); // APPEND
  parts.push(0x2e);
  const deep = makeZip([['a/data.pkl', Uint8Array.from(parts)]]);
  assert.ok(Array.isArray(await readTorchCheckpoint(deep)));
  await assert.rejects(
    loadStateDict(deep),
    (e: unknown) => e instanceof CheckpointError && /holds a list, not a dict of tensors/.test(e.message),
  );
  // d = {}; d['self'] = d
  const cyclic = makeZip([
    ['a/data.pkl', Uint8Array.from([0x80, 2, 0x7d, 0x71, 0, 0x58, 4, 0, 0, 0, ...Buffer.from('self'), 0x68, 0, 0x73, 0x2e])],
  ]);
  const d = (await readTorchCheckpoint(cyclic)) as Map<string, unknown>;
  assert.equal(d.get('self'), d);
  await assert.rejects(loadStateDict(cyclic), /no state dict found/);
});
