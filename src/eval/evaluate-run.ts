// Sample N images (balanced over classes) from a trained run and measure FID / IS / precision /
// recall / class accuracy against a real split, with sampling speed; optionally repeated over the
// values of one sampling setting (a sweep). With a process group the ranks share the drawing
// (sample/distributed.ts) and rank 0 measures.
import type { ProcessGroup } from '../dist/group.js';
import { sampleImagesSpread } from '../sample/distributed.js';
import type * as T from '../torch/index.js';
import { resolveSampling, withSampling, type SamplingOverrides, type SamplingSettings } from '../ctf/index.js';
import type { GenerationProgress } from '../sample/images.js';
import type { PackedWeights } from '../models/gpt-packed.js';
import { loadRun, type SystemKind } from '../run/load-run.js';
import type { StopSignal } from '../util/progress.js';
import { resolveEvalDefaults, type EvalDefaults } from './eval-defaults.js';
import { loadReference } from './evaluate-files.js';
import { loadFeatureNetwork } from './load-feature-network.js';
import { evaluateImages, networkInput, type EvaluationResult, type PrecisionRecallSets } from './metrics.js';

export interface EvalRunOptions {
  run: string;
  system?: SystemKind;
  /** generated images */
  n: number;
  /** precision of the sampling weights (default fp32) */
  weights?: PackedWeights;
  /** evaluate the weights kept at this training step instead of the final ones */
  step?: number;
  /** feature network: a ctfgen classifier or Inception-v3 (default: the classifier of the run's dataset, eval-defaults.ts) */
  classifier?: string;
  /** real images: a dataset spec, a .npz or an image folder (default: the test split of the run's dataset) */
  reference?: string;
  /** precision/recall on equal-sized sets (default) or on both whole sets */
  prSets?: PrecisionRecallSets;
  /** a reference image folder is prepared with ADM's center_crop_arr at this size */
  centerCrop?: number;
  /** told which classifier and reference the evaluation uses, and why */
  onDefaults?: (d: EvalDefaults) => void;
  sampling?: SamplingOverrides;
  seed?: number;
  batchSize?: number;
  /** repeat over these values of one sampling setting (by its flag name, e.g. cfg or stage2-top-k) */
  sweep?: { name: string; values: number[] };
  /** folder for cached reference statistics */
  statsCache: string;
  onProgress?: (p: GenerationProgress) => void;
  signal?: StopSignal;
  /** share the drawing over these ranks; rank 0 alone measures (the others return no results) */
  group?: ProcessGroup | null;
  precision?: T.Precision;
}

export interface RunEvaluation extends EvaluationResult {
  run: string;
  system: SystemKind;
  settings: SamplingSettings & { seed: number; weights?: PackedWeights };
  /** the training step of the kept weights evaluated (absent: the final weights) */
  step?: number;
  imagesPerSecond: number;
  seconds: { stage1: number; stage2: number; decode: number; total: number };
  reference: string;
  classifier: string;
}

/** `cfg=1.5,2,3` → a sweep over a sampling setting. */
export function parseSweep(s: string): { name: string; values: number[] } {
  const m = /^([A-Za-z0-9-]+)=([-0-9.,e]+)$/.exec(s.trim());
  if (!m) throw new Error(`a sweep looks like cfg=1.5,2,3 or stage2-temperature=0.8,1.1, got '${s}'`);
  const values = m[2]!.split(',').map(Number);
  for (const v of values) withSampling({}, m[1]!, v); // validates the name and every value
  return { name: m[1]!, values };
}

export async function evaluateRun(o: EvalRunOptions): Promise<RunEvaluation[]> {
  const main = !o.group || o.group.rank === 0;
  const run = await loadRun(o.run, o.system, { weights: o.weights, step: o.step });
  let network: Awaited<ReturnType<typeof loadFeatureNetwork>> | null = null;
  try {
    const d = await resolveEvalDefaults({
      dataset: run.info.dataset,
      source: `run ${o.run}`,
      classifier: o.classifier,
      reference: o.reference,
    });
    if (main) o.onDefaults?.(d);
    network = main ? await loadFeatureNetwork(d.classifier) : null;
    const k = run.info.numClasses;
    const labels = Int32Array.from({ length: o.n }, (_, i) => i % k);
    const measure = network ? await measurer(network.model, { ...o, ...d }, k, labels) : null;
    const settingsList = o.sweep ? o.sweep.values.map((v) => withSampling(o.sampling ?? {}, o.sweep!.name, v)) : [o.sampling ?? {}];
    const results: RunEvaluation[] = [];
    for (const sampling of settingsList) {
      const seed = o.seed ?? 0;
      const t0 = performance.now();
      const r = sampleImagesSpread(
        run,
        { classes: labels, seed, sampling, batchSize: o.batchSize ?? 100, onProgress: o.onProgress, signal: o.signal },
        { group: o.group, precision: o.precision },
      );
      const total = (performance.now() - t0) / 1000;
      if (!measure) continue;
      const m = await measure(r.images, r.shape);
      results.push({
        ...m,
        run: o.run,
        system: run.kind,
        settings: { ...resolveSampling(sampling), seed, weights: o.weights ?? 'fp32' },
        ...(o.step !== undefined ? { step: o.step } : {}),
        imagesPerSecond: o.n / total,
        seconds: { ...r.seconds, total },
        reference: d.reference,
        classifier: network!.id,
      });
    }
    return results;
  } finally {
    run.dispose();
    network?.model.dispose();
  }
}

type Network = Awaited<ReturnType<typeof loadFeatureNetwork>>['model'];

/** The metrics of generated images against the reference statistics (computed or cached once). */
async function measurer(classifier: Network, o: EvalRunOptions & EvalDefaults, k: number, labels: Int32Array) {
  const ref = await loadReference(o.reference, classifier, { cacheDir: o.statsCache, centerCrop: o.centerCrop });
  // class accuracy needs a classifier of the run's classes (Inception's are ImageNet's)
  const ownClasses = classifier.datasetClasses !== false;
  if (ownClasses && k !== classifier.config.numClasses)
    throw new Error(`the run has ${k} classes but the classifier ${o.classifier} has ${classifier.config.numClasses}`);
  return (images: Float32Array, shape: [number, number, number, number]): Promise<EvaluationResult> =>
    evaluateImages({
      images: networkInput(images, shape, classifier.config),
      labels: ownClasses ? labels : undefined,
      classifier,
      referenceStats: ref,
      precisionRecall: { sets: o.prSets },
    });
}
