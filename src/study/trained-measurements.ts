// Study v2 part B's measurements over the trained runs (trained-study.ts), each a file of its own
// under `<root>/measurements`, read back on a rerun:
//   1. the operating-points protocol (operating-points.ts) on the main CTF run (the largest stage 2)
//      against the baseline: settings chosen on the validation range held out from training,
//      headline numbers on the report set;
//   2. every stage 2 (the aux-size curve, the design variants) on the true coarse maps of the
//      validation images (stage 2 alone), and full CTF (the shared stage 1, then that stage 2) at
//      the main run's best setting; the main stage 2 also unrestricted and with top-k 32;
//   3. convergence: FID of CTF and the baseline at every kept snapshot, each at its best setting;
//   4. the best-against-best rows (seed 0) and the real-image floor under a second feature network;
//   5. CTF over other coarse labels (other K, random clusters) against the 1x stage 2 over the main
//      clusters, and the baseline over the small-codebook tokenizer: each with its own guidance
//      scale chosen on the validation range, K chosen there too, the chosen setting on the report set.
import { join } from 'node:path';
import { referenceStats } from '../eval/metrics.js';
import { loadFeatureNetwork } from '../eval/load-feature-network.js';
import { MetricsLog } from '../train/metrics-log.js';
import { loadRun, type LoadedRun, type LoadOptions, type SystemKind } from '../run/load-run.js';
import { RunDir } from '../run/run-dir.js';
import type { GPT } from '../models/gpt.js';
import type { SamplingOverrides } from '../ctf/index.js';
import type { OnProgress } from '../util/progress.js';
import {
  generated,
  heldOutImages,
  measurer,
  measureStage2Alone,
  runOperatingPoints,
  type Measure,
  type Measurement,
  type OperatingPointsConfig,
  type OperatingPointsResult,
} from './operating-points.js';
import { decodeTokenMaps } from '../sample/images.js';
import { checkSources } from './sources.js';
import {
  baselineRun,
  coarseRun,
  secondNetworkPath,
  seedRun,
  stage2Run,
  type CoarseRun,
  type Stage2Run,
  type TrainedStudyConfig,
} from './trained-study.js';

export interface TrainedMeasureOptions {
  cfg: number[];
  temperatures: number[];
  sweepN: number;
  headlineN: number;
  seeds: number[];
  /** images per point of the convergence curve */
  curveN: number;
  onProgress?: OnProgress;
}

export interface StageSize {
  /** all parameters */
  total: number;
  /** the transformer blocks' parameters (no embeddings or output head): the size the aux-size ratios are of */
  blocks: number;
}

export interface Stage2Row {
  run: Stage2Run;
  params: StageSize;
  /** final validation loss and accuracy of stage 2 (held-out range) */
  valLoss: number;
  valAcc: number;
  trueCoarse: Measurement;
  full: Measurement;
}

export interface CurvePoint {
  system: SystemKind;
  /** the training seed (0: the main runs; others: `config.trainingSeeds`) */
  seed: number;
  step: number;
  /** validation loss of each stage at this step (stage 1 and 2 for CTF) */
  valLoss: Record<string, number>;
  m: Measurement;
}

/** A run's guidance scale chosen on the validation range (seed 0, at its system's best temperature), and that setting on the report set. */
export interface Chosen {
  sweep: Measurement[];
  validation: Measurement;
  report: Measurement;
}

export interface Validated {
  valLoss: number;
  valAcc: number;
}

export interface CoarseRow {
  run: CoarseRun;
  /** the run folder measured (a coarse-label variant's, or the 1x stage 2 over the main clusters) */
  dir: string;
  stage1: Validated;
  stage2: Validated;
  /** stage 2 alone: the true coarse maps (these clusters) of the validation images */
  trueCoarse: Measurement;
  chosen: Chosen;
}

/** A headline system pair trained with one seed, each at seed 0's setting chosen on the validation range, on the report set. */
export interface SeedRow {
  seed: number;
  ctf: Measurement;
  baseline: Measurement;
  /** final validation loss of each stage */
  valLoss: { stage1: number; stage2: number; baseline: number };
}

export interface TrainedStudyResult {
  config: TrainedStudyConfig;
  options: Omit<TrainedMeasureOptions, 'onProgress'>;
  points: OperatingPointsResult;
  params: { stage1: StageSize; baseline: StageSize };
  stage2: Stage2Row[];
  /** the main stage 2 on the true coarse maps, drawing from every code (unrestricted) and from the top 32 */
  stage2Sampling: { unrestricted: Measurement; topK32: Measurement };
  curve: CurvePoint[];
  /** the second feature network's id and its rows: real images, each system at its best setting (seed 0) */
  secondNetwork: { id: string; real: Measurement; best: Record<SystemKind, Measurement> };
  /** codes in the shipped tokenizer's codebook */
  codebookSize: number;
  /** the main clusters (with the 1x stage 2) first, then each coarse-label variant; K is chosen among the k-means rows by `chosen.validation` */
  coarse: CoarseRow[];
  /** the baseline over a tokenizer with only K codes, and that tokenizer's reconstructions of the validation images */
  smallCodebook: { codes: number; reconstruction: Measurement; chosen: Chosen } | null;
  /** the headline systems per training seed: seed 0 (the main runs) first, then `config.trainingSeeds` */
  trainingSeeds: SeedRow[];
}

function sizeOf(m: GPT): StageSize {
  const blocks = m
    .namedParameters()
    .filter(([n]) => n.startsWith('layers.'))
    .reduce((a, [, p]) => a + p.numel, 0);
  return { total: m.parameterCount(), blocks };
}

/** The validation numbers a stage's metrics log holds at `step` (the last validation at or before it). */
function validationAt(run: string, stage: 'stage1' | 'stage2' | 'baseline', step: number): Validated {
  const rows = new MetricsLog(new RunDir(run).metrics(stage)).read().filter((r) => r.valLoss !== undefined && r.step <= step);
  const last = rows[rows.length - 1];
  return { valLoss: Number(last?.valLoss ?? NaN), valAcc: Number(last?.valAcc ?? NaN) };
}

export async function measureTrainedStudy(c: TrainedStudyConfig, o: TrainedMeasureOptions): Promise<TrainedStudyResult> {
  const out = join(c.root, 'measurements');
  const statsCache = join(c.root, 'stats');
  const main = c.stage2[0]!;
  const points = await runOperatingPoints({
    out: join(out, 'points'),
    runs: { ctf: stage2Run(c, main.name), baseline: baselineRun(c) },
    classifier: c.classifier,
    validation: c.data.validation,
    report: c.data.report,
    cfg: o.cfg,
    temperatures: o.temperatures,
    sweepN: o.sweepN,
    headlineN: o.headlineN,
    seeds: o.seeds,
    statsCache,
    onProgress: o.onProgress,
  } satisfies OperatingPointsConfig);

  const smallBaseline = c.smallCodebook ? [baselineRun(c, c.smallCodebook.codes)] : [];
  await checkSources(out, [
    ...c.stage2.map((s) => stage2Run(c, s.name)),
    ...c.coarse.map((v) => coarseRun(c, v)),
    baselineRun(c),
    ...smallBaseline,
    ...c.trainingSeeds.flatMap((seed) => [seedRun(c, 'ctf', seed), seedRun(c, 'baseline', seed)]),
    c.classifier,
  ]);
  const { model: classifier } = await loadFeatureNetwork(c.classifier);
  const steps = Array.from({ length: Math.floor(c.steps / c.keepEvery) }, (_, i) => (i + 1) * c.keepEvery);
  const measure = measurer({
    out,
    classifier,
    refs: {
      validation: await referenceStats({ classifier, dataset: c.data.validation, cacheDir: statsCache }),
      report: await referenceStats({ classifier, dataset: c.data.report, cacheDir: statsCache }),
    },
    total:
      2 * (c.stage2.length - 1) +
      2 +
      2 * steps.length * (1 + c.trainingSeeds.length) +
      (c.coarse.length + 1) * (o.cfg.length + 2) +
      (c.smallCodebook ? o.cfg.length + 2 : 0) +
      2 * c.trainingSeeds.length,
    onProgress: o.onProgress,
  });
  const loaded: LoadedRun[] = [];
  const open = async (dir: string, kind: SystemKind) => {
    const r = await loadRun(dir, kind);
    loaded.push(r);
    return r;
  };
  try {
    const best = points.best.ctf.settings;
    const stage2: Stage2Row[] = [];
    let stage1: StageSize | null = null;
    let stage2Sampling: TrainedStudyResult['stage2Sampling'] | null = null;
    let mainRun: LoadedRun | null = null;
    let fromValidation: ReturnType<typeof heldOutImages> | null = null;
    for (const s of c.stage2) {
      const dir = stage2Run(c, s.name);
      const run = await open(dir, 'ctf');
      if (run.models.kind !== 'ctf') throw new Error(`${dir} is not a CTF run`);
      if (s === main) mainRun = run;
      stage1 ??= sizeOf(run.models.stage1);
      // every stage 2 shares the tokenizer and the clusters: the held-out set is encoded once
      fromValidation ??= heldOutImages(run, c.data.validation);
      const trueCoarse = (name: string, sampling: SamplingOverrides) => measureStage2Alone(measure, fromValidation!, run, name, sampling);
      const settings = { ...best, seed: o.seeds[0]! };
      const [onTrue, full] =
        s === main
          ? [points.breakdown.stage2Sampled, points.best.ctf.report[0]!]
          : [
              await trueCoarse(`${s.name}-true-coarse-stage2-sampled`, {}),
              await measure(`${s.name}-full`, 'report', generated(run, o.headlineN, settings), { system: 'ctf', settings }),
            ];
      if (s === main)
        stage2Sampling = {
          unrestricted: await trueCoarse(`${s.name}-true-coarse-stage2-unrestricted`, { stage2: { restrict: false } }),
          topK32: await trueCoarse(`${s.name}-true-coarse-stage2-top-k32`, { stage2: { topK: 32 } }),
        };
      stage2.push({ run: s, params: sizeOf(run.models.stage2), ...validationAt(dir, 'stage2', c.steps), trueCoarse: onTrue, full });
    }
    const baselineLoaded = await open(baselineRun(c), 'baseline');
    const baseline = baselineLoaded.models;
    if (baseline.kind !== 'baseline') throw new Error(`${baselineRun(c)} holds no baseline`);

    const curve: CurvePoint[] = [];
    for (const seed of [0, ...c.trainingSeeds])
      for (const system of ['ctf', 'baseline'] as const) {
        const dir = seedRun(c, system, seed);
        const stages = system === 'ctf' ? (['stage1', 'stage2'] as const) : (['baseline'] as const);
        for (const step of steps) {
          const settings = { ...points.best[system].settings, seed: o.seeds[0]! };
          const name = `curve-${system}${seed === 0 ? '' : `-seed${seed}`}-step${step}`;
          // a snapshot is loaded only when its measurement is still to be made, and let go after it
          const m = await measure(name, 'report', generatedFrom(dir, system, o.curveN, settings, { step }), { system, settings });
          const valLoss = Object.fromEntries(stages.map((s) => [s, validationAt(dir, s, step).valLoss]));
          curve.push({ system, seed, step, valLoss, m });
        }
      }
    const secondNetwork = await measureSecondNetwork(c, points, { ctf: mainRun!, baseline: baselineLoaded }, o);
    const coarse = await measureCoarse(c, points, measure, o);
    const smallCodebook = c.smallCodebook ? await measureSmallCodebook(c, c.smallCodebook.codes, points, measure, o) : null;
    const trainingSeeds = await measureTrainingSeeds(c, points, measure, o);
    const { onProgress: _p, ...options } = o;
    return {
      config: c,
      options,
      points,
      params: { stage1: stage1!, baseline: sizeOf(baseline.baseline) },
      stage2,
      stage2Sampling: stage2Sampling!,
      curve,
      secondNetwork,
      codebookSize: mainRun!.tokenizer.model.config.codebookSize,
      coarse,
      smallCodebook,
      trainingSeeds,
    };
  } finally {
    loaded.forEach((r) => r.dispose());
    classifier.dispose();
  }
}

/** The real-image floor and each system's best setting (seed 0) measured with the second feature network. */
async function measureSecondNetwork(
  c: TrainedStudyConfig,
  points: OperatingPointsResult,
  runs: Record<SystemKind, LoadedRun>,
  o: TrainedMeasureOptions,
): Promise<TrainedStudyResult['secondNetwork']> {
  const out = join(c.root, 'measurements', 'second-network');
  await checkSources(out, [stage2Run(c, c.stage2[0]!.name), baselineRun(c), secondNetworkPath(c)]);
  const { model: network, id } = await loadFeatureNetwork(secondNetworkPath(c));
  try {
    const cacheDir = join(c.root, 'stats');
    const measure = measurer({
      out,
      classifier: network,
      refs: {
        validation: await referenceStats({ classifier: network, dataset: c.data.validation, cacheDir }),
        report: await referenceStats({ classifier: network, dataset: c.data.report, cacheDir }),
      },
      total: 3,
      onProgress: o.onProgress,
    });
    const real = await measure(
      'reference-real',
      'report',
      heldOutImages(runs.ctf, c.data.validation)((v) => v.images),
    );
    const best = {} as Record<SystemKind, Measurement>;
    for (const s of ['ctf', 'baseline'] as const) {
      const settings = { ...points.best[s].settings, seed: o.seeds[0]! };
      best[s] = await measure(`best-${s}-seed${settings.seed}`, 'report', generated(runs[s], o.headlineN, settings), {
        system: s,
        settings,
      });
    }
    return { id, real, best };
  } finally {
    network.dispose();
  }
}

/** The guidance scale of a run chosen on the validation range (o.cfg at `temperature`, seed 0), then that setting on the report set. */
async function chooseOnValidation(
  measure: Measure,
  name: string,
  run: LoadedRun,
  temperature: number,
  o: TrainedMeasureOptions,
): Promise<Chosen> {
  const system = run.models.kind;
  const seed = o.seeds[0]!;
  const sweep: Measurement[] = [];
  for (const cfg of o.cfg) {
    const settings = { cfg, temperature, seed };
    sweep.push(
      await measure(`${name}-sweep-cfg${cfg}-t${temperature}`, 'validation', generated(run, o.sweepN, settings), { system, settings }),
    );
  }
  const validation = sweep.reduce((a, b) => (b.fid < a.fid ? b : a));
  const settings = { ...validation.settings!, seed };
  const report = await measure(`${name}-chosen`, 'report', generated(run, o.headlineN, settings), { system, settings });
  return { sweep, validation, report };
}

/** Opens a run (or its snapshot at `o.step`), measures it, lets it go. */
async function withRun<R>(dir: string, kind: SystemKind, f: (run: LoadedRun) => Promise<R>, o: LoadOptions = {}): Promise<R> {
  const run = await loadRun(dir, kind, o);
  try {
    return await f(run);
  } finally {
    run.dispose();
  }
}

/** `generated` from a run (or its snapshot) opened only when the measurement is still to be made, and let go after it. */
const generatedFrom =
  (dir: string, system: SystemKind, n: number, settings: SamplingOverrides & { seed: number }, o: LoadOptions = {}) =>
  () =>
    withRun(dir, system, async (run) => generated(run, n, settings)(), o);

/** The headline systems of every training seed at seed 0's chosen settings (seed 0's own measurements are the operating points'). */
async function measureTrainingSeeds(
  c: TrainedStudyConfig,
  points: OperatingPointsResult,
  measure: Measure,
  o: TrainedMeasureOptions,
): Promise<SeedRow[]> {
  const rows: SeedRow[] = [];
  for (const seed of [0, ...c.trainingSeeds]) {
    const at = (system: SystemKind) => {
      const settings = { ...points.best[system].settings, seed: o.seeds[0]! };
      return seed === 0
        ? points.best[system].report[0]!
        : measure(`training-seed${seed}-${system}`, 'report', generatedFrom(seedRun(c, system, seed), system, o.headlineN, settings), {
            system,
            settings,
          });
    };
    const [ctf, baseline] = [seedRun(c, 'ctf', seed), seedRun(c, 'baseline', seed)];
    const finalLoss = (dir: string, stage: 'stage1' | 'stage2' | 'baseline') => validationAt(dir, stage, c.steps).valLoss;
    rows.push({
      seed,
      ctf: await at('ctf'),
      baseline: await at('baseline'),
      valLoss: { stage1: finalLoss(ctf, 'stage1'), stage2: finalLoss(ctf, 'stage2'), baseline: finalLoss(baseline, 'baseline') },
    });
  }
  return rows;
}

/**
 * CTF over each coarse labelling: the main clusters (through the 1x stage 2, the size every variant's
 * stage 2 has) and the variants of `c.coarse`, each at its own guidance scale (the main CTF run's
 * temperature) chosen on the validation range.
 */
async function measureCoarse(
  c: TrainedStudyConfig,
  points: OperatingPointsResult,
  measure: Measure,
  o: TrainedMeasureOptions,
): Promise<CoarseRow[]> {
  if (c.coarse.length === 0) return [];
  const reference = c.stage2.find((s) => s.width === c.model.dim && !s.flags?.length);
  if (!reference)
    throw new Error(`the coarse-label variants compare with a stage 2 of stage 1's width (${c.model.dim}); the study trains none`);
  const rows: CoarseRow[] = [];
  const temperature = points.best.ctf.settings.temperature!;
  for (const [run, dir] of [
    [{ name: reference.name, k: c.k, method: 'kmeans' }, stage2Run(c, reference.name)] as const,
    ...c.coarse.map((v) => [v, coarseRun(c, v)] as const),
  ])
    rows.push(
      await withRun(dir, 'ctf', async (loaded) => ({
        run,
        dir,
        stage1: validationAt(dir, 'stage1', c.steps),
        stage2: validationAt(dir, 'stage2', c.steps),
        trueCoarse: await measureStage2Alone(
          measure,
          heldOutImages(loaded, c.data.validation),
          loaded,
          `${run.name}-true-coarse-stage2-sampled`,
          {},
        ),
        chosen: await chooseOnValidation(measure, run.name, loaded, temperature, o),
      })),
    );
  return rows;
}

/** The key control: the baseline over a tokenizer with only `codes` codes, at its own guidance scale (the main baseline's temperature) chosen on the validation range, and that tokenizer's reconstruction floor. */
async function measureSmallCodebook(
  c: TrainedStudyConfig,
  codes: number,
  points: OperatingPointsResult,
  measure: Measure,
  o: TrainedMeasureOptions,
): Promise<NonNullable<TrainedStudyResult['smallCodebook']>> {
  return withRun(baselineRun(c, codes), 'baseline', async (run) => ({
    codes,
    reconstruction: await measure(
      `c${codes}-reference-reconstruction`,
      'report',
      heldOutImages(run, c.data.validation)((v) => decodeTokenMaps(run, v.codes)),
    ),
    chosen: await chooseOnValidation(measure, `baseline-c${codes}`, run, points.best.baseline.settings.temperature!, o),
  }));
}
