// Device-tagged tests: they run where the addon was built against a CUDA libtorch and a GPU is
// visible (scripts/gpu-check.sh), and are skipped elsewhere. Ops, random draws, training (float32
// and bf16), sampling and NCCL collectives on CUDA against the CPU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessGroup } from '../../src/dist/group.js';
import { loadRun } from '../../src/run/load-run.js';
import { sampleImages } from '../../src/sample/images.js';
import * as T from '../../src/torch/index.js';
import { packageRoot } from '../../src/util/package-root.js';
import { assertClose } from '../helpers.js';
import { syntheticSetup, trainToyBaseline } from '../train/synthetic.js';
import { freePort, rankEnv, start } from '../dist/helpers.js';

const gpus = T.cudaDeviceCount();
const skip = gpus === 0 && 'no CUDA device visible to this addon';

/** fn's result computed on `device` (the CPU is the device again afterwards, also for a promise). */
function on<R>(device: string, fn: () => R): R {
  T.setDevice(device);
  let r: R;
  try {
    r = fn();
  } catch (e) {
    T.setDevice('cpu');
    throw e;
  }
  if (r instanceof Promise) return r.finally(() => T.setDevice('cpu')) as R;
  T.setDevice('cpu');
  return r;
}

test('ops on cuda:0 give the CPU results; copy-out comes back through the CPU', { skip }, () => {
  const x = Float32Array.from({ length: 2 * 3 * 8 * 8 }, (_, i) => Math.sin(i));
  const compute = () =>
    T.tidy(() => {
      const t = T.fromArray(x, [2, 3, 8, 8]);
      const w = T.fromArray(
        Float32Array.from({ length: 4 * 3 * 9 }, (_, i) => Math.cos(i) / 9),
        [4, 3, 3, 3],
      );
      const y = T.conv2d(t, w, null, { padding: 1 }).flatten(1, 3);
      return Array.from(y.matmul(y.transpose(0, 1)).softmax(-1).toFloat32Array());
    });
  assert.equal(
    on('cuda:0', () => T.currentDevice()),
    'cuda:0',
  );
  assertClose(on('cuda:0', compute), on('cpu', compute), 1e-4);
});

test('a seed draws the same numbers on the CPU and on CUDA', { skip }, () => {
  const draw = () =>
    T.tidy(() => {
      T.manualSeed(7);
      return [...T.randn([5]).toArray(), ...T.rand([3]).toArray(), ...T.randint(0, 9, [4]).toArray()];
    });
  assert.deepEqual(on('cuda', draw), draw());
});

test('training on CUDA follows the CPU run; bf16 on CUDA follows float32', { skip }, async () => {
  const s = await syntheticSetup();
  const train = (name: string, device: string, precision: T.Precision) =>
    on(device, () => trainToyBaseline(s, name, { dim: 64, nLayer: 2, steps: 20, batchSize: 16, precision }));
  const cpu = await train('cpu', 'cpu', 'fp32');
  assertClose(await train('cuda', 'cuda:0', 'fp32'), cpu, 1e-3, 'CUDA float32 losses');
  const bf16 = await train('cuda-bf16', 'cuda:0', 'bf16');
  bf16.forEach((l, i) => assert.ok(Math.abs(l - cpu[i]!) < 0.05 * cpu[i]!, `step ${i + 1}: bf16 ${l} vs ${cpu[i]}`));
});

const shipped = join(packageRoot, 'models', 'fashion-mnist', 'ctf');
test(
  'the shipped CTF models sample on CUDA what they sample on the CPU',
  { skip: skip || (!existsSync(join(shipped, 'run.json')) && 'no shipped models') },
  async () => {
    const draw = (device: string) =>
      on(device, async () => {
        const run = await loadRun(shipped);
        try {
          return sampleImages(run, { classes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], seed: 3 });
        } finally {
          run.dispose();
        }
      });
    const [gpu, cpu] = [await draw('cuda:0'), await draw('cpu')];
    const same = gpu.tokens.reduce((n, t, i) => n + (t === cpu.tokens[i] ? 1 : 0), 0) / cpu.tokens.length;
    // a draw whose uniform falls within rounding of a CDF step may tip either way
    assert.ok(same > 0.95, `${(100 * same).toFixed(1)}% of the tokens agree`);
  },
);

test('NCCL: a one-process group on cuda:0 reduces, broadcasts and gathers', { skip }, () => {
  T.setDevice('cuda:0');
  const g = ProcessGroup.init({
    rank: 0,
    size: 1,
    store: { kind: 'file', path: join(mkdtempSync(join(tmpdir(), 'ctf-nccl-')), 'store') },
    backend: 'nccl',
    timeoutMs: 60_000,
  });
  try {
    T.tidy(() => {
      const a = T.tensor([1, 2, 3]);
      g.allReduce([a], 'avg');
      g.broadcast([a], 0);
      assert.deepEqual(g.allGather(a)[0]!.toArray(), [1, 2, 3]);
      g.barrier();
    });
  } finally {
    g.destroy();
    T.setDevice('cpu');
  }
});

test('NCCL between 2 processes on 2 GPUs', { skip: gpus < 2 && 'fewer than 2 GPUs' }, async () => {
  const worker = join(packageRoot, 'dist', 'test', 'dist', 'worker.js');
  const port = await freePort();
  const done = await Promise.all(
    [0, 1].map((r) => start([process.execPath, worker, 'collectives'], { ...rankEnv(r, 2, port), TEST_CUDA: '1' }).done),
  );
  for (const d of done) {
    assert.equal(d.code, 0, d.stderr);
    assert.deepEqual(JSON.parse(d.stdout).c, [1.5]);
  }
});
