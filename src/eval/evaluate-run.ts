// `ctfgen eval --run <dir>`: sample N images (balanced over classes) from a trained run and report
// FID / IS / precision / recall / class accuracy against a real split, with sampling speed.
// `--sweep cfg=1.5,2,3` repeats it over one sampling setting.
import { join } from 'node:path';
import { writeJsonAtomic } from '../io/index.js';
import * as T from '../torch/index.js';
import { sampleImages } from '../sample/images.js';
import { loadRun, type SystemKind } from '../sample/load-run.js';
import { samplingFromOptions, type SampleCmdOptions } from '../sample/sample-command.js';
import { loadFeatureNetwork } from './load-feature-network.js';
import { evaluateImages, networkInput, referenceStats, type EvaluationResult } from './metrics.js';

export interface EvalRunOptions extends Omit<SampleCmdOptions, 'class' | 'out' | 'n'> {
  n: number;
  classifier: string;
  reference: string;
  /** e.g. "cfg=1.5,2,3" or "temperature=1,1.1" */
  sweep?: string;
  out?: string;
  statsCache?: string;
}

export interface RunEvaluation extends EvaluationResult {
  run: string;
  system: SystemKind;
  settings: Record<string, unknown>;
  imagesPerSecond: number;
  seconds: { stage1: number; stage2: number; decode: number; total: number };
  reference: string;
  classifier: string;
}

const SWEEPABLE = ['cfg', 'temperature', 'temperature2', 'topK', 'topK2', 'topP', 'cfg2'] as const;

export function parseSweep(s: string | undefined): { key: (typeof SWEEPABLE)[number]; values: number[] } | null {
  if (!s) return null;
  const m = /^([A-Za-z0-9]+)=([-0-9.,e]+)$/.exec(s.trim());
  const key = m?.[1] as (typeof SWEEPABLE)[number] | undefined;
  if (!m || !key || !SWEEPABLE.includes(key))
    throw new Error(`--sweep must look like cfg=1.5,2,3 (keys: ${SWEEPABLE.join(', ')}), got '${s}'`);
  const values = m[2]!.split(',').map(Number);
  if (values.some((v) => !Number.isFinite(v))) throw new Error(`--sweep ${s}: values must be numbers`);
  return { key, values };
}

export async function evaluateRun(o: EvalRunOptions): Promise<RunEvaluation[]> {
  const run = await loadRun(o.run, o.system, { weights: o.weights });
  const { model: classifier, id } = await loadFeatureNetwork(o.classifier);
  try {
    const ref = await referenceStats({ classifier, dataset: o.reference, cacheDir: o.statsCache ?? join('runs', 'eval-stats') });
    const k = run.info.numClasses;
    // class accuracy needs a classifier of the run's classes (Inception's are ImageNet's)
    const ownClasses = classifier.datasetClasses !== false;
    if (ownClasses && k !== classifier.config.numClasses)
      throw new Error(`the run has ${k} classes but the classifier ${o.classifier} has ${classifier.config.numClasses}`);
    const labels = Int32Array.from({ length: o.n }, (_, i) => i % k);
    const sweep = parseSweep(o.sweep);
    const settingsList = sweep ? sweep.values.map((v) => ({ ...o, [sweep.key]: v })) : [o];
    const results: RunEvaluation[] = [];
    for (const s of settingsList) {
      T.manualSeed(s.seed);
      const sampling = samplingFromOptions(s);
      const t0 = performance.now();
      const r = sampleImages(run, labels, { ...sampling, batchSize: o.batchSize ?? 100 });
      const total = (performance.now() - t0) / 1000;
      const images = networkInput(r.images, r.shape as [number, number, number, number], classifier.config);
      const m = await evaluateImages({ images, labels: ownClasses ? labels : undefined, classifier, referenceStats: ref });
      const e: RunEvaluation = {
        ...m,
        run: o.run,
        system: run.kind,
        settings: { ...sampling, seed: s.seed, weights: o.weights ?? 'fp32' },
        imagesPerSecond: o.n / total,
        seconds: { ...r.seconds, total },
        reference: o.reference,
        classifier: id,
      };
      results.push(e);
      console.log(
        `${run.kind} ${JSON.stringify(e.settings)}: FID ${m.fid.toFixed(2)} | IS ${m.isMean.toFixed(2)} ± ${m.isStd.toFixed(2)} | ` +
          `precision ${m.precision.toFixed(3)} | recall ${m.recall.toFixed(3)} | class acc ${Number.isNaN(m.classAccuracy) ? 'n/a' : `${(100 * m.classAccuracy).toFixed(1)}%`} | ` +
          `${e.imagesPerSecond.toFixed(1)} images/s (n = ${m.n})`,
      );
    }
    if (o.out) await writeJsonAtomic(o.out, results, { indent: 2 });
    return results;
  } finally {
    run.dispose();
    classifier.dispose();
  }
}
