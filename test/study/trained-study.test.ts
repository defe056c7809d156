// Study v2 part B end to end at toy scale: real ctfgen commands train stage 1 once, two stage 2s
// over it (hard-linked), the baseline and a second feature network on ranges of the fixture; the
// measurements read the kept snapshots, land in files and read back; the report carries them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStudy, StudyLog } from '../../src/study/runner.js';
import { measureTrainedStudy, type TrainedMeasureOptions } from '../../src/study/trained-measurements.js';
import { writeTrainedReport } from '../../src/study/trained-report.js';
import { baselineRun, shareStage1, stage2Run, trainedStudySteps, type TrainedStudyConfig } from '../../src/study/trained-study.js';
import { RunDir } from '../../src/run/run-dir.js';
import { shippedPath } from '../../src/util/package-root.js';

const tokenizer = shippedPath('models/fashion-mnist/tokenizer.safetensors');
const shipped = existsSync(tokenizer);

test('shareStage1 refuses a folder without a trained stage 1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctf-share-'));
  assert.throws(() => shareStage1(dir, join(dir, 'to')), /has no trained stage 1 to share/);
});

test('study v2 part B: trained runs, snapshots, measurements read back, report', { skip: !shipped && 'no shipped tokenizer' }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'ctf-v2-'));
  const c: TrainedStudyConfig = {
    root,
    tokenizer,
    data: { train: 'fixture@0:200', validation: 'fixture@200:250', report: 'fixture@250:300' },
    classifier: shippedPath('models/fashion-mnist-classifier.safetensors'),
    k: 16,
    model: { dim: 32, layers: 1, heads: 2 },
    stage2: [
      { name: 'aux4x', width: 64 },
      { name: 'aux1x', width: 32 },
    ],
    secondNetwork: ['--data', 'fixture@0:200', '--test', 'fixture@200:300', '--epochs', '1', '--batch-size', '50', '--seed', '1'],
    steps: 8,
    batchSize: 16,
    budget: ['--preset', 'tiny', '--validate-every', '4', '--save-every', '4'],
    provenance: 'Toy data.',
    keepEvery: 4,
  };
  const log = new StudyLog(join(root, 'log.json'));
  assert.ok(runStudy(trainedStudySteps(c), log));
  const main = new RunDir(stage2Run(c, 'aux4x'));
  const other = new RunDir(stage2Run(c, 'aux1x'));
  assert.deepEqual(main.snapshotSteps('stage1'), [4, 8]);
  assert.deepEqual(main.snapshotSteps('stage2'), [4, 8]);
  assert.deepEqual(new RunDir(baselineRun(c)).snapshotSteps('baseline'), [4, 8]);
  // one stage 1, shared: the same file under both runs
  assert.equal(statSync(main.checkpoint('stage1')).ino, statSync(other.checkpoint('stage1')).ino);
  assert.equal(statSync(main.checkpoint('stage1', 4)).ino, statSync(other.checkpoint('stage1', 4)).ino);
  const records = JSON.stringify(log.records);
  assert.ok(runStudy(trainedStudySteps(c), log), 'a rerun finds every step done');
  assert.equal(JSON.stringify(new StudyLog(join(root, 'log.json')).records), records);

  const o: TrainedMeasureOptions = { cfg: [1, 2], temperatures: [1], sweepN: 20, headlineN: 20, seeds: [0, 1], curveN: 20 };
  const r = await measureTrainedStudy(c, o);
  assert.deepEqual(
    r.curve.map((p) => `${p.system}@${p.step}`),
    ['ctf@4', 'ctf@8', 'baseline@4', 'baseline@8'],
  );
  for (const s of ['ctf', 'baseline'] as const) {
    const [early, late] = r.curve.filter((p) => p.system === s);
    assert.notEqual(early!.m.fid, late!.m.fid, `${s}: the snapshots are different weights`);
    assert.deepEqual(late!.m.settings, { ...r.points.best[s].settings, seed: 0 });
  }
  assert.ok(r.curve.find((p) => p.system === 'ctf' && p.step === 8)!.valLoss.stage2! > 0);
  assert.deepEqual(
    r.stage2.map((a) => a.run.name),
    ['aux4x', 'aux1x'],
  );
  const [big, small] = r.stage2;
  // dims 32 and 64 share LlamaGen's FFN width (256, the rounding multiple): 4x attention, 2x FFN
  const perLayer = (d: number) => 4 * d * d + 3 * d * 256 + 2 * d;
  assert.equal(big!.params.blocks, perLayer(64));
  assert.equal(small!.params.blocks, perLayer(32));
  assert.equal(small!.params.blocks, r.params.stage1.blocks);
  assert.equal(big!.full, r.points.best.ctf.report[0], "the main run's full-CTF row is the headline's seed 0");
  assert.notEqual(small!.trueCoarse.fid, big!.trueCoarse.fid);
  assert.ok(Number.isFinite(r.stage2Sampling.unrestricted.fid) && Number.isFinite(r.stage2Sampling.topK32.fid));
  assert.match(r.secondNetwork.id, /^[0-9a-f]{12}$/);
  assert.deepEqual(r.secondNetwork.best.baseline.settings, { ...r.points.best.baseline.settings, seed: 0 });
  assert.notEqual(r.secondNetwork.best.ctf.fid, r.points.best.ctf.report[0]!.fid, 'another network, other numbers');
  assert.equal(r.secondNetwork.real.n, 50);

  const again = await measureTrainedStudy(c, o);
  assert.deepEqual(JSON.parse(JSON.stringify(again)), JSON.parse(JSON.stringify(r)), 'a rerun reads every measurement back');

  const report = await writeTrainedReport(r, log.records, join(root, 'report.md'), join(root, 'figures'));
  const md = readFileSync(report, 'utf8');
  assert.match(md, /\| CTF converges faster \(FID against steps\) \| step 4: CTF [\d.]+ vs [\d.]+; step 8: /);
  assert.match(md, /\| a larger stage 2 helps \| aux1x: stage 2 alone [\d.]+, full CTF/);
  assert.match(md, /the FID ranking holds under a second feature network/);
  for (const f of ['v2-sweep.png', 'v2-convergence.png', 'v2-aux-size.png']) assert.ok(existsSync(join(root, 'figures', f)), f);
});
