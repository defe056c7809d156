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
import { RunDir } from '../train/run-dir.js';
import { resolveEvalDefaults } from './eval-defaults.js';
import { loadReference } from './evaluate-files.js';
import { evaluateImages, formatMetrics, networkInput, type EvaluationResult, type PrecisionRecallSets } from './metrics.js';

export interface EvalRunOptions extends Omit<SampleCmdOptions, 'class' | 'out' | 'n'> {
  n: number;
  /** feature network (default: the classifier of the run's dataset, eval-defaults.ts) */
  classifier?: string;
  /** real images (default: the test split of the run's dataset) */
  reference?: string;
  /** e.g. "cfg=1.5,2,3" or "temperature=1,1.1" */
  sweep?: string;
  out?: string;
  statsCache?: string;
  prSets?: PrecisionRecallSets;
  /** a reference image folder is prepared with ADM's center_crop_arr at this size */
  centerCrop?: number;
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
  const info = new RunDir(o.run).readInfo();
  const d = await resolveEvalDefaults({ dataset: info.dataset, source: `run ${o.run}`, classifier: o.classifier, reference: o.reference });
  console.log(`reference ${d.reference} (${d.because.reference}); feature network ${d.classifier} (${d.because.classifier})`);
  const run = await loadRun(o.run, o.system);
  const { model: classifier, id } = await loadFeatureNetwork(d.classifier);
  try {
    const ref = await loadReference(d.reference, classifier, {
      cacheDir: o.statsCache ?? join('runs', 'eval-stats'),
      centerCrop: o.centerCrop,
    });
    const k = run.info.numClasses;
    // class accuracy needs a classifier of the run's classes (Inception's are ImageNet's)
    const ownClasses = classifier.datasetClasses !== false;
    if (ownClasses && k !== classifier.config.numClasses)
      throw new Error(`the run has ${k} classes but the classifier ${d.classifier} has ${classifier.config.numClasses}`);
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
      const m = await evaluateImages({
        images,
        labels: ownClasses ? labels : undefined,
        classifier,
        referenceStats: ref,
        precisionRecall: { sets: o.prSets },
      });
      const e: RunEvaluation = {
        ...m,
        run: o.run,
        system: run.kind,
        settings: { ...sampling, seed: s.seed },
        imagesPerSecond: o.n / total,
        seconds: { ...r.seconds, total },
        reference: d.reference,
        classifier: id,
      };
      results.push(e);
      console.log(
        `${run.kind} ${JSON.stringify(e.settings)}: ${formatMetrics(m)} | ` + `${e.imagesPerSecond.toFixed(1)} images/s (n = ${m.n})`,
      );
    }
    if (o.out) await writeJsonAtomic(o.out, results, { indent: 2 });
    return results;
  } finally {
    run.dispose();
    classifier.dispose();
  }
}
