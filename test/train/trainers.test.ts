// Stage 1, stage 2 and baseline trainers on the fixture (with a stand-in tokenizer): validation
// loss falls, resume reproduces the loss sequence, and stage 2 recovers fine tokens from coarse
// labels better than picking a random member of each cluster; EMA weights resume exactly and are
// what sampling loads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { MetricsLog } from '../../src/train/metrics-log.js';
import { trainTokens, type TokenTrainOptions } from '../../src/train/train-tokens.js';
import { clusterMembers } from '../../src/cluster/clusters.js';
import { Ema } from '../../src/train/ema.js';
import { Linear } from '../../src/nn/index.js';
import * as T from '../../src/torch/index.js';
import { loadCheckpoint } from '../../src/io/index.js';
import { loadStage } from '../../src/run/load-run.js';
import { RunDir } from '../../src/run/run-dir.js';
import { syntheticSetup, LEVELS, type SyntheticSetup } from './synthetic.js';

let setup: SyntheticSetup;
const base = (s: SyntheticSetup, stage: TokenTrainOptions['stage'], run: string, steps: number): TokenTrainOptions => ({
  stage,
  run: join(s.dir, run),
  tokenizer: s.tokenizer,
  trainCache: s.train,
  valCache: s.val,
  clusters: stage === 'baseline' ? undefined : s.clustersPath,
  model: { dim: 32, nLayer: 2, nHead: 2 },
  steps,
  batchSize: 16,
  schedule: { lr: 3e-3 },
  validateEvery: steps,
  seed: 1,
});

test.before(async () => {
  setup = await syntheticSetup();
});

for (const stage of ['stage1', 'stage2', 'baseline'] as const) {
  test(`train ${stage}: validation loss falls well below the untrained ln(V)`, async () => {
    const r = await trainTokens(base(setup, stage, `fall-${stage}`, 40));
    const V = stage === 'stage1' ? 8 : LEVELS;
    assert.ok(r.last.valLoss! < 0.8 * Math.log(V), `val loss ${r.last.valLoss} vs ln V ${Math.log(V)}`);
    r.model.dispose();
  });
}

test('a resumed run reproduces the uninterrupted loss sequence', async () => {
  const opts = (run: string) => ({
    ...base(setup, 'stage1', run, 16),
    validateEvery: 8,
    schedule: { lr: 3e-3, warmupSteps: 2, decay: 'cosine' as const },
  });
  (await trainTokens(opts('full'))).model.dispose();
  (await trainTokens({ ...opts('resumed'), untilStep: 8 })).model.dispose();
  const rest = await trainTokens({ ...opts('resumed'), resume: true });
  rest.model.dispose();
  assert.equal(rest.resumedFrom, 8);
  const losses = (name: string) =>
    new MetricsLog(join(setup.dir, name, 'stage1.metrics.jsonl')).read().map((r) => (r.loss ?? r.valLoss) as number);
  assert.equal(losses('full').length, 16 + 2);
  assert.deepEqual(losses('resumed'), losses('full'));
});

test('stage 2 given true coarse labels beats a random member of the cluster', async () => {
  const r = await trainTokens({ ...base(setup, 'stage2', 'stage2-vs-random', 80), schedule: { lr: 3e-3 } });
  r.model.dispose();
  // accuracy of guessing a uniformly random member of the true cluster
  const sizes = clusterMembers(setup.clusters.idxToCluster, setup.clusters.k).map((m) => m.length);
  const { codes, n, variants } = setup.valCache;
  let expected = 0;
  for (let i = 0; i < n; i++)
    for (let p = 0; p < 49; p++) expected += 1 / sizes[setup.clusters.idxToCluster[codes[i * variants * 49 + p]!]!]!;
  expected /= n * 49;
  assert.ok(r.last.valAcc! > expected + 0.1, `stage-2 accuracy ${r.last.valAcc} vs random member ${expected}`);
});

test('EMA: shadow = decay·shadow + (1 − decay)·weight; a resumed run ends with the same averages; sampling loads them', async () => {
  const lin = new Linear(1, 1, { bias: false });
  T.noGrad(() => lin.weight.fill_(1));
  const ema = new Ema(lin, 0.5);
  for (const w of [3, 5]) {
    T.noGrad(() => lin.weight.fill_(w));
    ema.update();
  }
  assert.deepEqual(ema.stateTensors().get('ema.weight')!.toArray(), [3.5]);
  assert.throws(() => new Ema(lin, 1), /EMA decay must lie in \(0, 1\)/);
  ema.dispose();
  lin.dispose();

  const opts = (run: string) => ({ ...base(setup, 'stage1', run, 12), validateEvery: 6, ema: 0.9, schedule: { lr: 3e-3 } });
  (await trainTokens(opts('ema-full'))).model.dispose();
  (await trainTokens({ ...opts('ema-resumed'), untilStep: 6 })).model.dispose();
  (await trainTokens({ ...opts('ema-resumed'), resume: true })).model.dispose();
  const full = await loadCheckpoint(join(setup.dir, 'ema-full', 'stage1.safetensors'));
  const resumed = await loadCheckpoint(join(setup.dir, 'ema-resumed', 'stage1.safetensors'));
  const emaNames = [...full.optimizer.keys()].filter((n) => n.startsWith('ema.'));
  assert.ok(emaNames.length > 0 && emaNames.length === full.tensors.size, 'every weight has an average');
  for (const n of emaNames) assert.deepEqual(resumed.optimizer.get(n)!.data, full.optimizer.get(n)!.data, n);
  // the averages differ from the last weights, and sampling loads the averages
  const head = 'output.weight';
  assert.notDeepEqual(full.optimizer.get(`ema.${head}`)!.data, full.tensors.get(head)!.data);
  const model = await loadStage(new RunDir(join(setup.dir, 'ema-full')), 'stage1');
  assert.deepEqual(
    new Uint8Array(model.output.weight.contiguous().toFloat32Array().buffer),
    new Uint8Array(full.optimizer.get(`ema.${head}`)!.data),
  );
  model.dispose();
});

test('--keep-every: each kept snapshot holds the weights of that step, later steps leave it alone, and loadStage reads it by step', async () => {
  const opts = (run: string) => ({ ...base(setup, 'stage1', run, 12), validateEvery: 6, schedule: { lr: 3e-3 } });
  (await trainTokens({ ...opts('kept'), keepEvery: 6 })).model.dispose();
  (await trainTokens({ ...opts('stopped'), untilStep: 6 })).model.dispose();
  const dir = new RunDir(join(setup.dir, 'kept'));
  assert.deepEqual(dir.snapshotSteps('stage1'), [6, 12]);
  const snapshot = await loadCheckpoint(dir.checkpoint('stage1', 6));
  const stopped = await loadCheckpoint(join(setup.dir, 'stopped', 'stage1.safetensors'));
  const final = await loadCheckpoint(dir.checkpoint('stage1'));
  assert.equal(snapshot.meta.step, 6);
  assert.equal(snapshot.optimizer.size, 0, 'a snapshot carries no optimizer state');
  for (const [n, t] of stopped.tensors) assert.deepEqual(snapshot.tensors.get(n)!.data, t.data, n);
  const last = await loadCheckpoint(dir.checkpoint('stage1', 12));
  for (const [n, t] of final.tensors) assert.deepEqual(last.tensors.get(n)!.data, t.data, n);
  assert.notDeepEqual(snapshot.tensors.get('output.weight')!.data, final.tensors.get('output.weight')!.data);
  const model = await loadStage(dir, 'stage1', 6);
  assert.deepEqual(
    new Uint8Array(model.output.weight.contiguous().toFloat32Array().buffer),
    new Uint8Array(snapshot.tensors.get('output.weight')!.data),
  );
  model.dispose();
  await assert.rejects(loadStage(dir, 'stage1', 4), /no stage1 snapshot at step 4 .*kept steps are 6, 12/);
  await assert.rejects(loadStage(new RunDir(join(setup.dir, 'stopped')), 'stage1', 6), /--keep-every/);
});
