// Data-parallel training through the CLI, in real processes on loopback: the same command line
// trains the same model whatever the number of processes and however they were started (`ctfgen
// launch` on one machine, two "machines" with --nnodes 2, torchrun) — per-step losses and final
// weights within 1e-4 — for the stage-1, stage-2 and baseline trainers (an uneven split of the
// batch, gradient accumulation), the tokenizer (dead-code restarts) and the feature classifier.
// A killed process ends the run within the timeout with an error naming it, and the run resumes
// from its last checkpoint with one process, ending where an uninterrupted run ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { syntheticSetup, type SyntheticSetup } from '../train/synthetic.js';
import { loadCheckpoint } from '../../src/io/index.js';
import { MetricsLog } from '../../src/train/metrics-log.js';
import { assertSameTraining, cli, ctfgen, freePort, rankEnv, start } from './helpers.js';

let s: SyntheticSetup;
test.before(async () => {
  s = await syntheticSetup();
});

const STEPS = 20;
function trainArgs(stage: string, run: string, extra: string[] = []): string[] {
  return [
    'train',
    stage,
    '--run',
    join(s.dir, run),
    '--tokenizer',
    s.tokenizer,
    '--train-cache',
    s.train,
    '--val-cache',
    s.val,
    ...(stage === 'baseline' ? [] : ['--clusters', s.clustersPath]),
    '--preset',
    'tiny',
    '--steps',
    String(STEPS),
    // 15 samples: 8 + 7 over two processes
    '--batch-size',
    '15',
    '--dropout',
    '0',
    '--class-dropout',
    '0',
    '--validate-every',
    '10',
    '--seed',
    '3',
    ...extra,
  ];
}
const files = (run: string, stage: string) => ({
  metrics: join(s.dir, run, `${stage}.metrics.jsonl`),
  checkpoint: join(s.dir, run, `${stage}.safetensors`),
});
const launch = async (n: number, args: string[], extra: string[] = []) =>
  ctfgen(['launch', '--nproc-per-node', String(n), '--master-port', String(await freePort()), ...extra, '--', 'ctfgen', ...args]);

/** A command that writes a checkpoint `out` (and `<out>.metrics.jsonl`), run alone and in 2 processes. */
async function aloneAndInTwo(name: string, args: (out: string) => string[]) {
  const files = (out: string) => ({ metrics: `${out}.metrics.jsonl`, checkpoint: out });
  const [one, two] = [join(s.dir, `${name}-one.safetensors`), join(s.dir, `${name}-two.safetensors`)];
  ctfgen(args(one));
  const { stdout } = await launch(2, args(two));
  return { one: files(one), two: files(two), stdout };
}

test('stage 1 with gradient accumulation: 2 processes (ctfgen launch) train as 1', async () => {
  const accum = ['--grad-accum', '2'];
  ctfgen(trainArgs('stage1', 'one-s1', accum));
  const r = await launch(2, trainArgs('stage1', 'two-s1', accum));
  assert.match(r.stdout, /^\[0\] train stage1: 20 steps/m);
  assert.doesNotMatch(r.stdout, /^\[1\]/m, 'only rank 0 reports');
  await assertSameTraining(files('one-s1', 'stage1'), files('two-s1', 'stage1'), STEPS);
});

test('baseline: two "machines" (--nnodes 2, one process each) train as 1', async () => {
  ctfgen(trainArgs('baseline', 'one-base'));
  const port = String(await freePort());
  const node = (rank: number) =>
    start([
      process.execPath,
      cli,
      'launch',
      '--nproc-per-node',
      '1',
      '--nnodes',
      '2',
      '--node-rank',
      String(rank),
      '--master-addr',
      '127.0.0.1',
      '--master-port',
      port,
      '--',
      'ctfgen',
      ...trainArgs('baseline', 'two-nodes'),
    ]);
  const done = await Promise.all([node(0).done, node(1).done]);
  for (const d of done) assert.equal(d.code, 0, d.stderr);
  await assertSameTraining(files('one-base', 'baseline'), files('two-nodes', 'baseline'), STEPS);
});

// Debian's torchrun (PyTorch 1.13 on Python 3.11) fails on its default --redirects 0; 1 works
const torchrun = spawnSync('torchrun', ['--help'], { encoding: 'utf8' });
test(
  'stage 2 under torchrun --no_python (its agent hosts the store) trains as 1 process',
  { skip: torchrun.status !== 0 && 'no torchrun' },
  async () => {
    ctfgen(trainArgs('stage2', 'one-s2'));
    const r = spawnSync(
      'torchrun',
      [
        '--no_python',
        '--nproc_per_node',
        '2',
        '--master_port',
        String(await freePort()),
        '-r',
        '1',
        '-t',
        '1',
        process.execPath,
        cli,
        ...trainArgs('stage2', 'torchrun-s2'),
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    await assertSameTraining(files('one-s2', 'stage2'), files('torchrun-s2', 'stage2'), STEPS);
  },
);

test('tokenizer training (with dead-code restarts) in 2 processes trains as 1', async () => {
  const { one, two } = await aloneAndInTwo('tok', (out) => [
    ...'tokenizer train --preset tiny --batch-size 7 --val-images 8 --seed 2'.split(' '),
    '--steps',
    String(STEPS),
    '--out',
    out,
  ]);
  const used = 'quantize.codebook_used';
  await assertSameTraining(one, two, STEPS, { wholeModel: true, skip: [used] });
  // LlamaGen's record of recent codes: the same but where rounding tipped a near-tie between two codes
  const [a, b] = await Promise.all([loadCheckpoint(one.checkpoint), loadCheckpoint(two.checkpoint)]);
  const [ua, ub] = [a, b].map((c) => c.tensors.get(used)!.data);
  const differ = ua!.reduce((n, x, i) => n + (x !== ub![i] ? 1 : 0), 0);
  assert.ok(differ <= ua!.length / 1000, `${differ} bytes of ${used} differ`);
  const restarts = (run: { metrics: string }) =>
    new MetricsLog(run.metrics)
      .read()
      .filter((r) => r.restarts !== undefined)
      .map((r) => r.restarts);
  assert.ok(Number(restarts(one).at(-1)) > 0, 'the run restarted dead codes');
  assert.deepEqual(restarts(two), restarts(one));
});

test('feature classifier training in 2 processes trains as 1', async () => {
  // fixture: 300 images, batch 30 → 10 steps per epoch. At the preset's 2e-3 on this toy set a
  // max-pool or ReLU decision flipped by rounding (convolutions of 15 and 30 images round
  // differently) moves single weights by up to 1e-3 within 20 steps; at 5e-4 they stay within 1e-5.
  const classifier = '--data fixture --test fixture --epochs 2 --batch-size 30 --lr 5e-4'.split(' ');
  const { one, two, stdout } = await aloneAndInTwo('cls', (out) => ['eval', 'classifier', 'train', ...classifier, '--out', out]);
  assert.match(stdout, /^\[0\] classifier .*: test accuracy/m);
  await assertSameTraining(one, two, STEPS);
});

test('a killed process ends the run within the timeout naming it; the run resumes with 1 process and ends as an uninterrupted one', async () => {
  const steps = ['--steps', '80', '--save-every', '5', '--batch-size', '16'];
  ctfgen(trainArgs('baseline', 'uninterrupted', steps));
  const port = await freePort();
  const args = [cli, ...trainArgs('baseline', 'killed', steps)];
  const ranks = [0, 1].map((r) => start([process.execPath, ...args], rankEnv(r, 2, port, 20)));
  const checkpoint = files('killed', 'baseline').checkpoint;
  while (!existsSync(checkpoint)) await new Promise((resolve) => setTimeout(resolve, 20));
  const killedAt = Date.now();
  ranks[1]!.kill('SIGKILL');
  const [r0] = await Promise.all(ranks.map((r) => r.done));
  assert.equal(r0!.code, 1);
  assert.match(r0!.stderr, /ctfgen: \w+ on rank 0 of 2 failed: rank 1 is lost/);
  assert.ok(Date.now() - killedAt < 20_000, 'rank 0 stopped within the 20 s timeout');
  const r = ctfgen([...trainArgs('baseline', 'killed', steps), '--resume']);
  const resumedAt = Number(/resumed at (\d+)/.exec(r.stdout)?.[1]);
  assert.ok(resumedAt >= 5 && resumedAt < 80, r.stdout);
  await assertSameTraining(files('uninterrupted', 'baseline'), files('killed', 'baseline'), 80);
});
