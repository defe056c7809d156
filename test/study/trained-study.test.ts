// Study v2 part B end to end at toy scale: real ctfgen commands train stage 1 once, two stage 2s
// over it (hard-linked), the baseline, a second feature network, CTF over other coarse labels
// (smaller K, random clusters) and the baseline over a tokenizer with K codes, on ranges of the
// fixture; the measurements read the kept snapshots, land in files and read back; the report
// carries them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { loadCheckpoint, type RawTensor } from '../../src/io/index.js';
import { shown } from '../../src/study/operating-points-report.js';
import { runStudy, StudyLog } from '../../src/study/runner.js';
import { shipModels, shippedChoice } from '../../src/study/ship.js';
import { measureTrainedStudy, type SeedRow, type TrainedMeasureOptions } from '../../src/study/trained-measurements.js';
import { writeTrainedReport } from '../../src/study/trained-report.js';
import {
  baselineRun,
  clusterFile,
  coarseRun,
  seedRun,
  shareStage1,
  smallTokenizer,
  stage2Run,
  trainedStudySteps,
  type TrainedStudyConfig,
} from '../../src/study/trained-study.js';
import { openTokenizer } from '../../src/tokenizer/tokenizer-file.js';
import { loadClusters } from '../../src/cluster/cluster-file.js';
import { RunDir } from '../../src/run/run-dir.js';
import { shippedPath } from '../../src/util/package-root.js';

const tokenizer = shippedPath('models/fashion-mnist/tokenizer.safetensors');
const bytes = (t: RawTensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
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
    coarse: [
      { name: 'k4', k: 4, method: 'kmeans' },
      { name: 'random-k16', k: 16, method: 'random' },
    ],
    smallCodebook: {
      codes: 16,
      train: [
        '--preset',
        'tiny',
        '--steps',
        '2',
        '--batch-size',
        '8',
        '--data',
        'fixture@0:200',
        '--test-data',
        'fixture@200:250',
        '--val-images',
        '16',
      ],
    },
    secondNetwork: ['--data', 'fixture@0:200', '--test', 'fixture@200:300', '--epochs', '1', '--batch-size', '50', '--seed', '1'],
    steps: 8,
    batchSize: 16,
    budget: ['--preset', 'tiny', '--validate-every', '4', '--save-every', '4'],
    provenance: 'Toy data.',
    keepEvery: 4,
    trainingSeeds: [1],
  };
  const log = new StudyLog(join(root, 'log.json'));
  for (const bad of [[0], [1, 1], [1.5]])
    assert.throws(
      () => trainedStudySteps({ ...c, trainingSeeds: bad }),
      /trainingSeeds \[.*\]: list other seeds, each once, as positive integers/,
    );
  assert.ok(runStudy(trainedStudySteps(c), log));
  const main = new RunDir(stage2Run(c, 'aux4x'));
  const other = new RunDir(stage2Run(c, 'aux1x'));
  assert.deepEqual(main.snapshotSteps('stage1'), [4, 8]);
  assert.deepEqual(main.snapshotSteps('stage2'), [4, 8]);
  assert.deepEqual(new RunDir(baselineRun(c)).snapshotSteps('baseline'), [4, 8]);
  // one stage 1, shared: the same file under both runs
  assert.equal(statSync(main.checkpoint('stage1')).ino, statSync(other.checkpoint('stage1')).ino);
  assert.equal(statSync(main.checkpoint('stage1', 4)).ino, statSync(other.checkpoint('stage1', 4)).ino);
  for (const v of c.coarse) {
    const run = new RunDir(coarseRun(c, v));
    assert.deepEqual(
      [run.snapshotSteps('stage1'), run.snapshotSteps('stage2')],
      [
        [4, 8],
        [4, 8],
      ],
      v.name,
    );
    const clusters = await loadClusters(clusterFile(c, v));
    assert.deepEqual([clusters.k, clusters.method], [v.k, v.method]);
  }
  for (const [system, stages] of [
    ['ctf', ['stage1', 'stage2']],
    ['baseline', ['baseline']],
  ] as const)
    for (const stage of stages)
      assert.deepEqual(new RunDir(seedRun(c, system, 1)).snapshotSteps(stage), [4, 8], `${system} seed 1 ${stage}`);
  const smallCodebook = await openTokenizer(smallTokenizer(c, 16));
  assert.equal(smallCodebook.model.config.codebookSize, 16);
  smallCodebook.model.dispose();
  assert.deepEqual(new RunDir(baselineRun(c, 16)).snapshotSteps('baseline'), [4, 8]);
  const records = JSON.stringify(log.records);
  assert.ok(runStudy(trainedStudySteps(c), log), 'a rerun finds every step done');
  assert.equal(JSON.stringify(new StudyLog(join(root, 'log.json')).records), records);

  const o: TrainedMeasureOptions = { cfg: [1, 2], temperatures: [1], sweepN: 20, headlineN: 20, seeds: [0, 1], curveN: 20 };
  const r = await measureTrainedStudy(c, o);
  assert.deepEqual(
    r.curve.map((p) => `${p.system}@${p.step}/${p.seed}`),
    ['ctf@4/0', 'ctf@8/0', 'baseline@4/0', 'baseline@8/0', 'ctf@4/1', 'ctf@8/1', 'baseline@4/1', 'baseline@8/1'],
  );
  for (const s of ['ctf', 'baseline'] as const) {
    const [early, late, , lateSeed1] = r.curve.filter((p) => p.system === s);
    assert.notEqual(late!.m.fid, lateSeed1!.m.fid, `${s}: training seed 1's snapshot is other weights`);
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

  assert.deepEqual(
    r.coarse.map((x) => [x.run.name, x.dir]),
    [
      ['aux1x', stage2Run(c, 'aux1x')],
      ['k4', coarseRun(c, c.coarse[0]!)],
      ['random-k16', coarseRun(c, c.coarse[1]!)],
    ],
  );
  assert.equal(r.coarse[0]!.trueCoarse.fid, small!.trueCoarse.fid, "the main clusters' row is the 1x stage 2's");
  for (const x of [...r.coarse.map((x) => x.chosen), r.smallCodebook!.chosen]) {
    assert.equal(x.sweep.length, 2);
    assert.equal(x.validation.fid, Math.min(...x.sweep.map((m) => m.fid)), 'the chosen setting is the best on the validation range');
    assert.equal(x.validation.against, 'validation');
    assert.deepEqual(x.report.settings, x.validation.settings);
    assert.equal(x.report.against, 'report');
  }
  assert.notEqual(r.coarse[1]!.trueCoarse.fid, r.coarse[2]!.trueCoarse.fid, 'other clusters, other stage 2');
  assert.equal(r.smallCodebook!.codes, 16);
  assert.equal(r.smallCodebook!.reconstruction.n, 50);
  assert.notEqual(r.smallCodebook!.reconstruction.fid, r.points.references.reconstruction.fid);
  assert.equal(r.codebookSize, 4096);
  assert.deepEqual(
    r.trainingSeeds.map((x) => x.seed),
    [0, 1],
  );
  assert.equal(r.trainingSeeds[0]!.ctf, r.points.best.ctf.report[0], "training seed 0's row is the headline's sampling seed 0");
  for (const s of ['ctf', 'baseline'] as const) {
    const [zero, one] = r.trainingSeeds.map((x) => x[s]);
    assert.notEqual(one!.fid, zero!.fid, `${s}: another training seed, other weights`);
    assert.deepEqual(one!.settings, { ...r.points.best[s].settings, seed: 0 }, "seed 0's chosen setting");
    assert.equal(one!.against, 'report');
  }
  assert.ok(r.trainingSeeds[1]!.valLoss.stage2 > 0 && r.trainingSeeds[1]!.valLoss.stage2 !== r.trainingSeeds[0]!.valLoss.stage2);

  const again = await measureTrainedStudy(c, o);
  assert.deepEqual(JSON.parse(JSON.stringify(again)), JSON.parse(JSON.stringify(r)), 'a rerun reads every measurement back');

  const report = await writeTrainedReport(r, log.records, join(root, 'report.md'), join(root, 'figures'));
  const md = readFileSync(report, 'utf8');
  assert.match(
    md,
    /\| CTF converges faster \(FID against steps\) \| step 4: CTF [\d.]+ vs [\d.]+; step 8: .*\(means of 2 training seeds, 20 images each\)/,
  );
  assert.match(md, /\| 8 \| [\d.]+ \| [\d.]+ \/ [\d.]+ \| [\d.]+ \/ [\d.]+ \|/);
  assert.match(md, /\| a larger stage 2 helps \| aux1x: stage 2 alone [\d.]+, full CTF/);
  assert.match(md, /the FID ranking holds under a second feature network/);
  assert.match(md, /\| too-small K fails .* k-means K = 4: [\d.]+ \(CFG [\d.]+, τ 1\) \(1024 codes per cluster\) vs k-means K = 16: /);
  assert.match(
    md,
    /\| random clusters fail .* random K = 16: [\d.]+ .* \| (reproduced|not reproduced|inconclusive) \(k-means against random clusters/,
  );
  assert.match(
    md,
    /\| \(the key control\) CTF beats simply using a small codebook: the baseline over a 16-code tokenizer \| seed 0: CTF [\d.]+/,
  );
  assert.match(md, /\*\*K chosen on the validation range: K = (4|16)\*\*/);
  assert.match(md, /\| reconstructions, the 16-code tokenizer \| [\d.]+ /);
  for (const f of ['v2-sweep.png', 'v2-convergence.png', 'v2-aux-size.png']) assert.ok(existsSync(join(root, 'figures', f)), f);
  assert.match(
    md,
    /- Training to convergence: 8 steps per run .* took [\d.]+ h of training for those [\d.]+ epochs, so 10 epochs of them would take about \d+ h/,
  );
  assert.match(
    md,
    /\| CTF has better FID than the baseline, across training seeds \| training seed 0: CTF [\d.]+ vs [\d.]+; training seed 1: /,
  );
  assert.match(md, /## Training seeds \(report set\)[\s\S]*\| 1 \| [\d.]+ \| [\d.]+ \|[\s\S]*\| mean ± sd \| [\d.]+ ± [\d.]+/);
  assert.doesNotMatch(md, /other seeds of the training runs/);
  // shipping: the CTF configuration with the lowest validation FID and the baseline, swapped in over
  // an earlier export of a run on other data
  const choice = shippedChoice(r);
  const fids = choice.ctf.map((x) => x.validation.fid);
  assert.equal(choice.ctf.length, 1 + r.coarse.length);
  assert.deepEqual(
    fids,
    [...fids].sort((a, b) => a - b),
  );
  assert.ok([...choice.ctf, choice.baseline].every((x) => x.validation.against === 'validation'));
  const models = join(root, 'models');
  // a folder given relative to the working directory names the files where they end up
  const shippedFiles = await shipModels(choice, relative(process.cwd(), models));
  assert.deepEqual(shippedFiles.map((f) => relative(models, f)).sort(), [
    'baseline/baseline.safetensors',
    'ctf/clusters.safetensors',
    'ctf/stage1.safetensors',
    'ctf/stage2.safetensors',
    'tokenizer.safetensors',
  ]);
  assert.ok(shippedFiles.every((f) => existsSync(f)));
  const stale = join(models, 'ctf', 'run.json');
  writeFileSync(stale, JSON.stringify({ ...JSON.parse(readFileSync(stale, 'utf8')), dataset: 'fixture@0:100' }));
  await shipModels(choice, models);
  assert.deepEqual(readdirSync(models).sort(), ['baseline', 'ctf', 'tokenizer.safetensors']);
  for (const [system, from, stage] of [
    ['ctf', choice.ctf[0]!.dir, 'stage2'],
    ['ctf', choice.ctf[0]!.dir, 'stage1'],
    ['baseline', choice.baseline.dir, 'baseline'],
  ] as const) {
    assert.equal(new RunDir(join(models, system)).readInfo().dataset, c.data.train);
    const [shippedWeights, trained] = await Promise.all([
      loadCheckpoint(join(models, system, `${stage}.safetensors`)),
      loadCheckpoint(new RunDir(from).checkpoint(stage)),
    ]);
    for (const [name, t] of shippedWeights.tensors)
      assert.ok(bytes(t).equals(bytes(trained.tensors.get(name)!)), `${system} ${stage} ${name}`);
  }
  const mdShipped = readFileSync(
    await writeTrainedReport(
      { ...r, config: { ...c, shipped: models } },
      log.records,
      join(root, 'report-shipped.md'),
      join(root, 'figures'),
    ),
    'utf8',
  );
  assert.ok(
    mdShipped.includes(
      `the CTF configuration with the lowest FID on the validation range, \`${shown(choice.ctf[0]!.dir)}\` (${fids[0]!.toFixed(2)} at `,
    ),
  );
  assert.doesNotMatch(md, /Shipped models/);
  const mdAlone = readFileSync(
    await writeTrainedReport(
      { ...r, coarse: [], config: { ...c, shipped: models } },
      log.records,
      join(root, 'report-alone.md'),
      join(root, 'figures'),
    ),
    'utf8',
  );
  assert.match(
    mdAlone,
    /lowest FID on the validation range, `[^`]+` \([\d.]+ at CFG [\d.]+, τ [\d.]+\); and the baseline/,
    'no runners-up, no "ahead of"',
  );

  // the "more clusters" claim and the list of untried labellings follow the variants the study has
  assert.match(md, /- Not trained \(CPU time\): K above 16 \(entries in `coarse`/);
  const larger = { ...r.coarse[1]!, run: { name: 'k64', k: 64, method: 'kmeans' as const } };
  const md64 = readFileSync(
    await writeTrainedReport({ ...r, coarse: [...r.coarse, larger] }, log.records, join(root, 'report-k64.md'), join(root, 'figures')),
    'utf8',
  );
  assert.match(
    md64,
    /\| more clusters than the main K help a little .* k-means K = 64: [\d.]+ .*\(64 codes per cluster\) vs k-means K = 16: /,
  );
  assert.doesNotMatch(md64, /K above 16/);
  // single-run comparisons count only beyond the training-seed spread when it exceeds the sampling floor
  const [zero, one] = r.trainingSeeds as [SeedRow, SeedRow];
  const spread = { ...r, trainingSeeds: [zero, { ...one, baseline: { ...one.baseline, fid: zero.baseline.fid + 1000 } }] };
  const mdSpread = readFileSync(
    await writeTrainedReport(spread, log.records, join(root, 'report-spread.md'), join(root, 'figures')),
    'utf8',
  );
  assert.match(mdSpread, /count a difference only beyond 1414\.2 FID: twice the larger training-seed sd/); // 2 · 1000/√2
  assert.match(
    mdSpread,
    /\| random clusters fail .* \| inconclusive \(k-means against random clusters, full CTF: a difference of [\d.]+ FID, within the noise floor 1414\.2\)/,
  );
});
