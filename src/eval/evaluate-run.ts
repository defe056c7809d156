// Sample N images (balanced over classes) from a trained run and measure FID / IS / precision /
// recall / class accuracy against a real split, with sampling speed; optionally repeated over the
// values of one sampling setting (a sweep).
import { resolveSampling, withSampling, type SamplingOverrides, type SamplingSettings } from '../ctf/index.js';
import { sampleImages, type GenerationProgress } from '../sample/images.js';
import { loadRun, type SystemKind } from '../run/load-run.js';
import type { StopSignal } from '../util/progress.js';
import { loadFeatureNetwork } from './load-feature-network.js';
import { evaluateImages, networkInput, referenceStats, type EvaluationResult } from './metrics.js';

export interface EvalRunOptions {
  run: string;
  system?: SystemKind;
  /** generated images */
  n: number;
  /** feature network checkpoint (ctfgen classifier or Inception-v3) */
  classifier: string;
  /** dataset spec of the real images */
  reference: string;
  sampling?: SamplingOverrides;
  seed?: number;
  batchSize?: number;
  /** repeat over these values of one sampling setting (by its flag name, e.g. cfg or stage2-top-k) */
  sweep?: { name: string; values: number[] };
  /** folder for cached reference statistics */
  statsCache: string;
  onProgress?: (p: GenerationProgress) => void;
  signal?: StopSignal;
}

export interface RunEvaluation extends EvaluationResult {
  run: string;
  system: SystemKind;
  settings: SamplingSettings & { seed: number };
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
  const run = await loadRun(o.run, o.system);
  const { model: classifier, id } = await loadFeatureNetwork(o.classifier);
  try {
    const ref = await referenceStats({ classifier, dataset: o.reference, cacheDir: o.statsCache });
    const k = run.info.numClasses;
    // class accuracy needs a classifier of the run's classes (Inception's are ImageNet's)
    const ownClasses = classifier.datasetClasses !== false;
    if (ownClasses && k !== classifier.config.numClasses)
      throw new Error(`the run has ${k} classes but the classifier ${o.classifier} has ${classifier.config.numClasses}`);
    const labels = Int32Array.from({ length: o.n }, (_, i) => i % k);
    const settingsList = o.sweep ? o.sweep.values.map((v) => withSampling(o.sampling ?? {}, o.sweep!.name, v)) : [o.sampling ?? {}];
    const results: RunEvaluation[] = [];
    for (const sampling of settingsList) {
      const seed = o.seed ?? 0;
      const t0 = performance.now();
      const r = sampleImages(run, {
        classes: labels,
        seed,
        sampling,
        batchSize: o.batchSize ?? 100,
        onProgress: o.onProgress,
        signal: o.signal,
      });
      const total = (performance.now() - t0) / 1000;
      const images = networkInput(r.images, r.shape, classifier.config);
      const m = await evaluateImages({ images, labels: ownClasses ? labels : undefined, classifier, referenceStats: ref });
      results.push({
        ...m,
        run: o.run,
        system: run.kind,
        settings: { ...resolveSampling(sampling), seed },
        imagesPerSecond: o.n / total,
        seconds: { ...r.seconds, total },
        reference: o.reference,
        classifier: id,
      });
    }
    return results;
  } finally {
    run.dispose();
    classifier.dispose();
  }
}
