// Trains the per-dataset feature network (classifier.ts) through the shared training loop (AdamW,
// warm-up + cosine learning rate, metrics log, exact resume, cancellation), with horizontal-flip
// augmentation, then saves it as a ctfgen checkpoint (weights only, with meta {kind:
// 'feature-classifier', config, dataset, testAccuracy, imageSize, channels, …}), atomically. With a
// process group the ranks share every batch (train/loop.ts); rank 0 measures and saves.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ProcessGroup } from '../dist/group.js';
import { batchAtStep, numBatches } from '../data/loader.js';
import { canonicalDatasetSpec, openDataset, type OpenDatasetOptions } from '../data/open.js';
import type { TransformSpec } from '../data/transforms.js';
import { loadCheckpoint, saveCheckpoint } from '../io/index.js';
import { AdamW, decayGroups, loadWeights } from '../nn/index.js';
import * as T from '../torch/index.js';
import { capBatchSize, claimOutput, runLoop } from '../train/loop.js';
import type { OnProgress, OnWarning, StopSignal } from '../util/progress.js';
import {
  FeatureClassifier,
  classifierId,
  classifierInputTransform,
  type FeatureClassifierConfig,
  type ResolvedClassifierConfig,
} from './classifier.js';
import { datasetOutputs } from './metrics.js';

export const CLASSIFIER_KIND = 'feature-classifier';

export interface ClassifierMeta {
  kind: typeof CLASSIFIER_KIND;
  config: ResolvedClassifierConfig;
  /** training dataset spec (canonicalDatasetSpec: how runs record theirs, so eval-defaults can match them) */
  dataset: string;
  /** dataset spec the accuracy was measured on (canonical) */
  testDataset: string;
  testAccuracy: number;
  imageSize: number;
  channels: number;
  /** dataset sample → classifier input (no flip); use it for reference statistics */
  transform: TransformSpec;
  classNames: string[];
  /** classifierId of the saved weights */
  id: string;
  epochs: number;
  steps: number;
  batchSize: number;
  lr: number;
  seed: number;
  trainSeconds: number;
}

export interface TrainClassifierOptions {
  /** training dataset spec, e.g. fashion-mnist:train */
  data: string;
  /** test dataset spec, e.g. fashion-mnist:test */
  test: string;
  imageSize: number;
  channels: 1 | 3;
  /** default 4 */
  epochs?: number;
  /** default 128 */
  batchSize?: number;
  /** peak learning rate (default 2e-3), warmed up then cosine-decayed to lr/20 */
  lr?: number;
  /** AdamW decoupled decay on conv/linear weights (default 0.05) */
  weightDecay?: number;
  seed?: number;
  /** horizontal flip probability (default 0.5) */
  hflip?: number;
  /** checkpoint path: the training checkpoint while it trains (resumable), then the classifier */
  out: string;
  /** continue from the training checkpoint at `out` */
  resume?: boolean;
  /** start over an existing checkpoint at `out`, replacing it */
  overwrite?: boolean;
  /** architecture overrides (widths, featureDim, groups, dropout) */
  model?: Partial<Omit<FeatureClassifierConfig, 'channels' | 'imageSize' | 'numClasses'>>;
  /** stop after this many optimizer steps (tests) */
  maxSteps?: number;
  /** dataset opening options (dataDir, limit, …) for the training and test splits */
  open?: OpenDatasetOptions;
  testOpen?: OpenDatasetOptions;
  /** measure test accuracy after every epoch, not only at the end */
  evalEachEpoch?: boolean;
  onProgress?: OnProgress;
  signal?: StopSignal;
  /** told of a capped batch size or a torn metrics line (default: a process warning) */
  onWarning?: OnWarning;
  /** data-parallel over these ranks (rank 0 measures and saves; the others return NaN accuracies) */
  group?: ProcessGroup | null;
  precision?: T.Precision;
}

export interface TrainClassifierResult {
  model: FeatureClassifier;
  meta: ClassifierMeta;
  testAccuracy: number;
  /** accuracy on the training batches of the last epoch (augmented, while training) */
  trainAccuracy: number;
  steps: number;
  seconds: number;
}

/** Trains the classifier into `out`, holding `<out>.lock` throughout. */
export async function trainClassifier(o: TrainClassifierOptions): Promise<TrainClassifierResult> {
  const lock = claimOutput(o.out, { resume: o.resume, overwrite: o.overwrite, purpose: 'classifier train', group: o.group });
  try {
    return await trainClassifierLocked(o);
  } finally {
    lock.release();
  }
}

async function trainClassifierLocked(o: TrainClassifierOptions): Promise<TrainClassifierResult> {
  const start = performance.now();
  const seed = o.seed ?? 0;
  const epochs = o.epochs ?? 4;
  const lr = o.lr ?? 2e-3;
  const ds = openDataset(o.data, o.open);
  const batchSize = capBatchSize(o.batchSize ?? 128, ds.length, `the training set ${ds.name}`, o.onWarning);
  const test = openDataset(o.test, o.testOpen ?? o.open);
  if (test.numClasses !== ds.numClasses || test.classNames.some((c, i) => c !== ds.classNames[i]))
    throw new Error(`trainClassifier: ${o.data} and ${o.test} have different classes`);
  T.manualSeed(seed);
  const model = new FeatureClassifier({ ...o.model, channels: o.channels, imageSize: o.imageSize, numClasses: ds.numClasses });
  const transform = classifierInputTransform(ds, model.config);
  const testTransform = classifierInputTransform(test, model.config);
  const optimizer = new AdamW(decayGroups(model.namedParameters(), o.weightDecay ?? 0.05), { lr, betas: [0.9, 0.99] });
  const perEpoch = numBatches(ds.length, batchSize, true);
  const total = Math.min(epochs * perEpoch, o.maxSteps ?? Infinity);
  // accuracy over the training batches of the current epoch (augmented, while training)
  let epochAcc = { right: 0, seen: 0 };
  const main = !o.group || o.group.rank === 0;
  let trainAccuracy = NaN;
  const meta = {
    kind: CLASSIFIER_KIND as typeof CLASSIFIER_KIND,
    config: model.config,
    dataset: canonicalDatasetSpec(o.data),
    testDataset: canonicalDatasetSpec(o.test),
    imageSize: o.imageSize,
    channels: o.channels,
    transform: testTransform,
    classNames: [...ds.classNames],
    epochs,
    batchSize,
    lr,
    seed,
  };
  try {
    const r = await runLoop({
      name: 'classifier',
      model,
      optimizer,
      totalSteps: total,
      schedule: { lr, warmupSteps: Math.min(100, Math.max(1, Math.floor(total / 20))), decay: 'cosine', minLr: lr / 20 },
      checkpointPath: o.out,
      metricsPath: `${o.out}.metrics.jsonl`,
      resume: o.resume,
      meta,
      itemsPerStep: batchSize,
      itemName: 'images',
      onProgress: o.onProgress,
      signal: o.signal,
      onWarning: o.onWarning,
      batchSize,
      group: o.group,
      precision: o.precision,
      microStep: (step, _micro, part) => {
        const b = batchAtStep(ds, { batchSize, seed, transform: { ...transform, hflip: o.hflip ?? 0.5 }, part }, step);
        const x = T.fromArray(b.images, [b.n, b.c, b.h, b.w]);
        const y = T.fromArray(b.labels, [b.n], 'int64');
        const { logits } = model.forward(x);
        const right = T.noGrad(() => logits.argmax(1).eq(y).sum().item());
        return { loss: T.crossEntropy(logits, y), metrics: { acc: right / b.n } };
      },
      afterStep: (step, metrics) => {
        if (step % perEpoch === 0) epochAcc = { right: 0, seen: 0 };
        epochAcc = { right: epochAcc.right + metrics.acc! * batchSize, seen: epochAcc.seen + batchSize };
        trainAccuracy = epochAcc.right / epochAcc.seen;
      },
      validate: o.evalEachEpoch
        ? async () => ({ testAccuracy: (await datasetOutputs(model, test, { transform: testTransform })).accuracy })
        : undefined,
      validateEvery: o.evalEachEpoch ? perEpoch : undefined,
    });
    model.eval();
    const testAccuracy = main ? (await datasetOutputs(model, test, { transform: testTransform })).accuracy : NaN;
    const seconds = (performance.now() - start) / 1000;
    const full: ClassifierMeta = { ...meta, testAccuracy, id: classifierId(model), steps: r.steps, trainSeconds: seconds };
    if (main) await saveClassifier(o.out, model, full);
    return { model, meta: full, testAccuracy, trainAccuracy, steps: r.steps, seconds };
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    optimizer.dispose();
  }
}

/** Saves the weights and meta atomically (creating the folder). */
export async function saveClassifier(path: string, model: FeatureClassifier, meta: ClassifierMeta): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await saveCheckpoint(path, T.tensorsToRaw(model.stateDict()), { ...meta, id: classifierId(model) });
}

export interface LoadedClassifier {
  model: FeatureClassifier;
  meta: ClassifierMeta;
  /** classifierId of the loaded weights */
  id: string;
}

/** Loads a classifier saved by trainClassifier/saveClassifier, in eval mode. */
export async function loadClassifier(path: string): Promise<LoadedClassifier> {
  const { tensors, meta } = await loadCheckpoint(path);
  if (meta.kind !== CLASSIFIER_KIND) throw new Error(`${path}: not a feature classifier (kind ${JSON.stringify(meta.kind)})`);
  const m = meta as unknown as ClassifierMeta;
  const model = loadWeights(new FeatureClassifier(m.config), tensors, { source: path, dtype: 'float32', strict: true });
  return { model, meta: m, id: classifierId(model) };
}

export interface ClassifierPreset {
  data: string;
  test: string;
  imageSize: number;
  channels: 1 | 3;
  epochs: number;
  batchSize: number;
  lr: number;
  out: string;
}

/** Defaults per `--data` name; plain dataset specs fall back to `custom`-style settings. */
export const CLASSIFIER_PRESETS: Record<string, ClassifierPreset> = {
  'fashion-mnist': {
    data: 'fashion-mnist:train',
    test: 'fashion-mnist:test',
    imageSize: 32,
    channels: 1,
    epochs: 4,
    batchSize: 128,
    lr: 2e-3,
    out: 'models/fashion-mnist-classifier.safetensors',
  },
  // 32x32 RGB; Google emoji, every 5th held out for testing (Twitter's drawings are another style)
  emoji: {
    data: 'emoji-google@not-every:5',
    test: 'emoji-google@every:5',
    imageSize: 32,
    channels: 3,
    epochs: 30,
    batchSize: 64,
    lr: 2e-3,
    out: 'models/emoji-classifier.safetensors',
  },
};
