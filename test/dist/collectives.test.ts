// c10d through the addon, between real processes on loopback: collectives give the right values
// with a TCPStore and with a FileStore; a peer that dies, or stalls past the timeout, ends the
// others' collective with an error naming the operation, the rank and what happened to the peer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/package-root.js';
import { distEnv, isMainProcess } from '../../src/dist/env.js';
import { allRanges, rankRange } from '../../src/dist/shard.js';
import { buckets } from '../../src/dist/data-parallel.js';
import * as T from '../../src/torch/index.js';
import { freePort, rankEnv, start } from './helpers.js';

const worker = join(packageRoot, 'dist', 'test', 'dist', 'worker.js');

async function runWorkers(scenario: string, size: number, opts: { timeoutS?: number; file?: string } = {}) {
  const port = await freePort();
  const procs = Array.from({ length: size }, (_, r) =>
    start([process.execPath, worker, scenario, ...(opts.file ? [opts.file] : [])], rankEnv(r, size, port, opts.timeoutS)),
  );
  return Promise.all(procs.map((p) => p.done));
}

test('rankRange shares N items out in order, the first N mod size ranks taking one more', () => {
  assert.deepEqual(allRanges(7, 3), [
    { from: 0, count: 3 },
    { from: 3, count: 2 },
    { from: 5, count: 2 },
  ]);
  assert.deepEqual(allRanges(2, 4), [
    { from: 0, count: 1 },
    { from: 1, count: 1 },
    { from: 2, count: 0 },
    { from: 2, count: 0 },
  ]);
  for (const [n, size] of [
    [0, 1],
    [16, 2],
    [15, 2],
    [101, 7],
  ] as const) {
    const all = allRanges(n, size).flatMap((r) => Array.from({ length: r.count }, (_, i) => r.from + i));
    assert.deepEqual(
      all,
      Array.from({ length: n }, (_, i) => i),
    );
  }
  // in units of 4 (batches): 11 items are batches [0-3] [4-7] [8-10]
  assert.deepEqual(allRanges(11, 2, 4), [
    { from: 0, count: 8 },
    { from: 8, count: 3 },
  ]);
  assert.deepEqual(allRanges(5, 3, 4), [
    { from: 0, count: 4 },
    { from: 4, count: 1 },
    { from: 5, count: 0 },
  ]);
  assert.throws(() => rankRange(4, 2, 2), /rank 2 is outside a world of 2/);
});

test("torchrun's environment: alone without it, every variable checked with it", () => {
  assert.equal(distEnv({}), null);
  assert.equal(distEnv({ WORLD_SIZE: '1', RANK: '0' }), null);
  const e = distEnv({ ...rankEnv(1, 2, 29501), TORCHELASTIC_USE_AGENT_STORE: 'True', TORCHELASTIC_RESTART_COUNT: '2' })!;
  assert.deepEqual(
    { ...e },
    {
      rank: 1,
      worldSize: 2,
      localRank: 1,
      localWorldSize: 2,
      masterAddr: '127.0.0.1',
      masterPort: 29501,
      agentStore: true,
      restartCount: 2,
      timeoutMs: 30000,
    },
  );
  assert.throws(() => distEnv({ WORLD_SIZE: '2', RANK: '0', MASTER_PORT: '1' }), /MASTER_ADDR is not set/);
  assert.throws(() => distEnv({ WORLD_SIZE: '2', MASTER_ADDR: 'x', MASTER_PORT: '1' }), /RANK is not set.*ctfgen launch/);
  assert.throws(() => distEnv({ ...rankEnv(2, 2, 1) }), /RANK 2 is outside WORLD_SIZE 2/);
  assert.throws(() => distEnv({ ...rankEnv(0, 2, 1), CTFGEN_DIST_TIMEOUT: '0' }), /CTFGEN_DIST_TIMEOUT must be a positive number/);
  assert.equal(isMainProcess({}), true);
  assert.equal(isMainProcess({ RANK: '1' }), false);
});

test('gradient buckets: consecutive, one dtype each, at most the byte limit unless one tensor is larger', () => {
  T.tidy(() => {
    const ts = [T.zeros([10]), T.zeros([10]), T.zeros([30]), T.zeros([5], 'float64'), T.zeros([2])];
    const sizes = buckets(ts, 80).map((b) => b.map((t) => t.numel));
    assert.deepEqual(sizes, [[10, 10], [30], [5], [2]]);
  });
});

for (const store of ['tcp', 'file'] as const)
  test(`collectives between 3 processes over a ${store === 'tcp' ? 'TCPStore' : 'FileStore'}`, async () => {
    const file = store === 'file' ? join(mkdtempSync(join(tmpdir(), 'ctf-store-')), 'store') : undefined;
    const results = await runWorkers('collectives', 3, { file });
    for (const [r, f] of results.entries()) {
      assert.equal(f.code, 0, `rank ${r}: ${f.stderr}`);
      const v = JSON.parse(f.stdout);
      assert.deepEqual(v.a, [6, 12]);
      assert.deepEqual(v.b, [[30], [3]].flat());
      assert.deepEqual(v.c, [2]);
      assert.deepEqual(v.m, [2, 0]);
      assert.deepEqual(v.p, [2, 2, 2]);
      assert.deepEqual(v.gathered, [
        [0, 0],
        [100, 1],
        [200, 2],
      ]);
      assert.deepEqual(v.json, { hello: 'from 0', n: [1, 2] });
      assert.deepEqual(v.numbers, [3, 1.5]);
      assert.deepEqual(v.allRows, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
  });

test('a peer that dies ends the next collective at once, with an error naming it', async () => {
  const [r0, r1] = await runWorkers('die', 2, { timeoutS: 30 });
  assert.equal(r1!.code, 7);
  assert.equal(r0!.code, 0, r0!.stderr);
  const { error } = JSON.parse(r0!.stdout) as { error: string };
  assert.match(error, /^allReduce on rank 0 of 2 failed: rank 1 is lost \(no heartbeat for [\d.]+ s\) \(gloo: .+\)$/);
  assert.ok(r0!.ms < 20_000, `rank 0 took ${r0!.ms} ms, the timeout is 30 s`);
});

test('a peer that is alive but never joins makes the collective time out, saying every rank is alive', async () => {
  const [r0] = await runWorkers('stall', 2, { timeoutS: 3 });
  const { error } = JSON.parse(r0!.stdout) as { error: string };
  assert.match(error, /^allReduce on rank 0 of 2 failed: every rank is still alive, so a peer is stuck or slow/);
  assert.ok(r0!.ms < 15_000, `rank 0 took ${r0!.ms} ms with a 3 s timeout`);
});
