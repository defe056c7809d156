// Samples in ADM's .npz layout: label orders, the pixel conversion LlamaGen uses, numpy reading our
// files, resuming from shards (same bytes as an uninterrupted run) and a SIGKILLed writer leaving no
// output file, with a sampler that draws from the torch generator as the real one does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NpzFile } from '../../src/io/index.js';
import { sampleLabels, toAdmPixels, writeNpzSamples, type BatchSampler } from '../../src/sample/npz-samples.js';
import * as T from '../../src/torch/index.js';
import { packageRoot } from '../../src/util/package-root.js';
import { tmpDir } from '../io/helpers.js';

const PYTHON = process.env.CTFGEN_PYTHON ?? '/usr/bin/python3';

/** Grey 4x4 images of uniform noise in [-1, 1) from the torch generator (as sampling draws). */
const noiseSampler: BatchSampler = (classes) =>
  T.tidy(() => ({ images: T.rand([classes.length, 1, 4, 4]).mul(2).sub(1).toFloat32Array(), shape: [classes.length, 1, 4, 4] }));

const options = (out: string) => ({
  out,
  n: 25,
  numClasses: 4,
  labels: 'balanced' as const,
  seed: 5,
  sample: noiseSampler,
  size: [4, 4] as [number, number],
  batchSize: 3,
  shardSize: 10,
  meta: { run: 'test', dataset: 'fixture' },
});

async function arrays(path: string): Promise<{ pixels: Uint8Array; labels: number[] }> {
  const f = await NpzFile.open(path);
  try {
    const a = await f.read('arr_0');
    assert.deepEqual(a.shape, [25, 4, 4, 3]);
    return { pixels: a.data as Uint8Array, labels: Array.from((await f.read('arr_1')).data as BigInt64Array, Number) };
  } finally {
    await f.close();
  }
}

test('labels: balanced is i mod K (N/K each), uniform is seeded and covers the classes', () => {
  const b = sampleLabels(50, 10, 'balanced', 0);
  assert.deepEqual(Array.from(b.subarray(0, 12)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
  assert.deepEqual(
    Array.from({ length: 10 }, (_, c) => b.filter((l) => l === c).length),
    Array(10).fill(5),
  );
  const u = sampleLabels(2000, 7, 'uniform', 3);
  assert.deepEqual(Array.from(u), Array.from(sampleLabels(2000, 7, 'uniform', 3)));
  assert.notDeepEqual(Array.from(u), Array.from(sampleLabels(2000, 7, 'uniform', 4)));
  for (let c = 0; c < 7; c++) assert.ok(Math.abs(u.filter((l) => l === c).length - 2000 / 7) < 80);
  assert.throws(() => sampleLabels(3, 2, 'stratified' as never, 0), /--labels must be balanced or uniform/);
});

test('pixels: floor(clamp(127.5 x + 128, 0, 255)) as LlamaGen converts; grey replicated to RGB, NCHW → NHWC', () => {
  const grey = Float32Array.from([-1, -0.5, 0, 1, 1.5, -2]);
  assert.deepEqual(
    Array.from(toAdmPixels(grey, [1, 1, 2, 3])),
    [0, 0, 0, 64, 64, 64, 128, 128, 128, 255, 255, 255, 255, 255, 255, 0, 0, 0],
  );
  const rgb = Float32Array.from([1, 1, -1, -1, 0, 0]); // channel planes of a 1x2 image
  assert.deepEqual(Array.from(toAdmPixels(rgb, [1, 3, 1, 2])), [255, 0, 128, 255, 0, 128]);
});

test('a resumed run writes exactly the bytes of an uninterrupted one; numpy reads the file; the plan must match', async () => {
  const d = tmpDir('npzs');
  const whole = join(d, 'whole.npz');
  await writeNpzSamples(options(whole));
  assert.ok(!existsSync(`${whole}.shards`), 'shards removed after assembly');

  const resumed = join(d, 'resumed.npz');
  const failing: BatchSampler = (classes, first) => {
    if (first >= 20) throw new Error('interrupted');
    return noiseSampler(classes, first);
  };
  await assert.rejects(writeNpzSamples({ ...options(resumed), sample: failing }), /interrupted/);
  assert.ok(!existsSync(resumed), 'no output file after a failure');
  assert.deepEqual(
    readdirSync(`${resumed}.shards`)
      .filter((f) => f.endsWith('.npz'))
      .sort(),
    ['shard-000000000.npz', 'shard-000000010.npz'],
  );
  await assert.rejects(writeNpzSamples(options(resumed)), /holds an interrupted run \(2 of 3 shards\); pass --resume/);
  await assert.rejects(writeNpzSamples({ ...options(resumed), seed: 6, resume: true }), /was started with other settings/);
  const r = await writeNpzSamples({ ...options(resumed), resume: true });
  assert.deepEqual(r, { sampled: 5, resumedFrom: 20 });
  const a = await arrays(whole);
  const b = await arrays(resumed);
  assert.ok(Buffer.from(a.pixels).equals(Buffer.from(b.pixels)), 'resumed pixels differ');
  assert.deepEqual(
    b.labels,
    Array.from({ length: 25 }, (_, i) => i % 4),
  );

  const seen = JSON.parse(
    execFileSync(
      PYTHON,
      [
        '-c',
        'import sys, json, numpy as np; z = np.load(sys.argv[1]); a = z["arr_0"]; print(json.dumps([list(a.shape), a.dtype.str, bool((a[..., 0] == a[..., 2]).all()), z["arr_1"].tolist(), json.loads(bytes(z["ctfgen_meta"]))["dataset"], int(a.sum())]))',
        whole,
      ],
      { encoding: 'utf8' },
    ),
  ) as unknown[];
  assert.deepEqual(seen, [[25, 4, 4, 3], '|u1', true, a.labels, 'fixture', a.pixels.reduce((s, v) => s + v, 0)]);
});

test('a writer killed with SIGKILL leaves no output file, and --resume finishes it', async () => {
  const d = tmpDir('npzs');
  const out = join(d, 'killed.npz');
  const mod = (p: string) => JSON.stringify(join(packageRoot, 'dist', p));
  // a child that samples slowly (50 ms a batch) into shards of 6
  const script = `
    const { writeNpzSamples } = await import(${mod('src/sample/npz-samples.js')});
    const T = await import(${mod('src/torch/index.js')});
    const sample = (classes) => { const t = Date.now(); while (Date.now() - t < 50); return T.tidy(() => ({ images: T.rand([classes.length, 1, 4, 4]).toFloat32Array(), shape: [classes.length, 1, 4, 4] })); };
    await writeNpzSamples({ out: process.argv[1], n: 60, numClasses: 3, labels: 'balanced', seed: 1, sample, size: [4, 4], batchSize: 2, shardSize: 6, resume: process.argv[2] === 'resume', meta: {} });
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, out], { stdio: 'ignore' });
  const shardsDir = `${out}.shards`;
  const t0 = Date.now();
  while (!(existsSync(shardsDir) && readdirSync(shardsDir).filter((f) => /^shard-.*\.npz$/.test(f)).length >= 2)) {
    if (Date.now() - t0 > 60_000) assert.fail('the child wrote no shards');
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  assert.ok(!existsSync(out), 'a killed run left an output file');
  execFileSync(process.execPath, ['--input-type=module', '-e', script, out, 'resume']);
  const f = await NpzFile.open(out);
  assert.deepEqual((await f.header('arr_0')).shape, [60, 4, 4, 3]);
  await f.close();
  assert.deepEqual(readdirSync(d), ['killed.npz']);
  assert.ok(readFileSync(out).length > 60 * 48);
});
