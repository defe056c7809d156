// `ctfgen eval --run <dir>` (sample, measure, print, write JSON), `ctfgen eval --samples <npz|folder>`,
// `ctfgen eval stats` and `ctfgen eval classifier train`.
import { join } from 'node:path';
import { writeJsonAtomic } from '../io/index.js';
import type { EvalDefaults } from '../eval/eval-defaults.js';
import { evaluateSamples, writeReferenceStats, type SamplesEvalOptions, type StatsOptions } from '../eval/evaluate-files.js';
import { evaluateRun, parseSweep, type RunEvaluation } from '../eval/evaluate-run.js';
import { formatMetrics, type PrecisionRecallSets } from '../eval/metrics.js';
import { CLASSIFIER_PRESETS, trainClassifier } from '../eval/train-classifier.js';
import { isMainProcess } from '../dist/env.js';
import { withCompute, type ComputeFlags } from './compute-flags.js';
import { progressReporter, warn } from './progress.js';
import { samplingFromFlags, type SamplingFlags } from './sampling-flags.js';

export interface EvalCmdOptions extends SamplingFlags, ComputeFlags {
  run: string;
  n: number;
  classifier?: string;
  reference?: string;
  centerCrop?: number;
  prSets: PrecisionRecallSets;
  sweep?: string;
  out?: string;
}

/** Where the evaluation's classifier and reference come from, said before it starts. */
const sayDefaults = (d: EvalDefaults) =>
  console.log(`reference ${d.reference} (${d.because.reference}); feature network ${d.classifier} (${d.because.classifier})`);

const STATS_CACHE = join('runs', 'eval-stats');

export function formatEvaluation(e: RunEvaluation): string {
  const { seed, ...settings } = e.settings;
  return (
    `${e.system} ${JSON.stringify(settings)} seed ${seed}: ${formatMetrics(e)} | ` +
    `${e.imagesPerSecond.toFixed(1)} images/s (n = ${e.n}; reference ${e.reference}, network ${e.classifier})`
  );
}

export async function evalCommand(o: EvalCmdOptions): Promise<void> {
  const bar = progressReporter();
  try {
    const results = await withCompute(o, (group) =>
      evaluateRun({
        run: o.run,
        system: o.system,
        weights: o.weights,
        step: o.step,
        n: o.n,
        classifier: o.classifier,
        reference: o.reference,
        sampling: samplingFromFlags(o),
        seed: o.seed,
        batchSize: o.batchSize,
        sweep: o.sweep ? parseSweep(o.sweep) : undefined,
        centerCrop: o.centerCrop,
        prSets: o.prSets,
        statsCache: STATS_CACHE,
        onDefaults: sayDefaults,
        onProgress: (p) => bar({ phase: p.stage, done: p.done, total: p.total }),
        group,
        precision: o.precision,
      }),
    );
    bar.stop();
    if (!isMainProcess()) return;
    for (const e of results) console.log(formatEvaluation(e));
    if (o.out) await writeJsonAtomic(o.out, results, { indent: 2 });
  } finally {
    bar.stop();
  }
}

/** `ctfgen eval --samples <npz|folder>`: anyone's samples against a reference. */
export async function evalSamplesCommand(
  o: Omit<SamplesEvalOptions, 'statsCache' | 'onDefaults' | 'onNote'> & { out?: string },
): Promise<void> {
  const e = await evaluateSamples({ ...o, statsCache: STATS_CACHE, onDefaults: sayDefaults, onNote: (m) => console.log(m) });
  console.log(`${o.samples}: ${formatMetrics(e)} (n = ${e.n})`);
  if (o.out) await writeJsonAtomic(o.out, e, { indent: 2 });
}

/** `ctfgen eval stats`: reference statistics in ADM's layout. */
export async function evalStatsCommand(o: Omit<StatsOptions, 'statsCache'>): Promise<void> {
  const r = await writeReferenceStats({ ...o, statsCache: STATS_CACHE });
  console.log(
    `${o.out}: mu, sigma (${r.stats.dim}-d)${r.spatial ? `, mu_s, sigma_s (${r.spatial.dim}-d)` : ''} of ${r.stats.n} images of ${o.data} ` +
      `under ${r.classifier} (${r.meta.classifierId}); ${r.note}`,
  );
}

export interface ClassifierTrainCmdOptions extends ComputeFlags {
  /** a preset name (fashion-mnist, emoji) or a training dataset spec */
  data: string;
  test?: string;
  out?: string;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  seed: number;
  resume?: boolean;
  overwrite?: boolean;
}

export async function classifierTrainCommand(o: ClassifierTrainCmdOptions): Promise<void> {
  const p = Object.hasOwn(CLASSIFIER_PRESETS, o.data) ? CLASSIFIER_PRESETS[o.data] : undefined;
  const test = o.test ?? p?.test;
  if (!test) throw new Error(`--data ${o.data} is not a preset (${Object.keys(CLASSIFIER_PRESETS).join(', ')}); give --test <spec> too`);
  const out = o.out ?? p?.out;
  if (!out) throw new Error(`give --out <file.safetensors> for the classifier of ${o.data}`);
  const bar = progressReporter();
  try {
    const r = await withCompute(o, (group) =>
      trainClassifier({
        data: p?.data ?? o.data,
        test,
        imageSize: p?.imageSize ?? 32,
        channels: p?.channels ?? 1,
        epochs: o.epochs ?? p?.epochs,
        batchSize: o.batchSize ?? p?.batchSize,
        lr: o.lr ?? p?.lr,
        seed: o.seed,
        out,
        resume: o.resume,
        overwrite: o.overwrite,
        onProgress: bar,
        onWarning: warn,
        group,
        precision: o.precision,
      }),
    );
    bar.stop();
    if (!isMainProcess()) return r.model.dispose();
    console.log(
      `classifier ${r.meta.id}: test accuracy ${(100 * r.testAccuracy).toFixed(2)}% on ${test} after ${r.steps} steps ` +
        `(${r.seconds.toFixed(0)} s, ${r.model.parameterCount()} parameters), saved to ${out}`,
    );
    r.model.dispose();
  } finally {
    bar.stop();
  }
}
