// Trains the per-dataset feature network (classifier.ts) with AdamW, warmup + cosine learning
// rate, horizontal-flip augmentation, and saves it as a ctfgen checkpoint (weights only, with
// meta {kind: 'feature-classifier', config, dataset, testAccuracy, imageSize, channels, …}),
// atomically. `runClassifierTrainCli` is what `ctfgen eval classifier train` calls.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { progress } from '../cli/progress.js';
import { batches, numBatches } from '../data/loader.js';
import { canonicalDatasetSpec, openDataset, type OpenDatasetOptions } from '../data/open.js';
import type { TransformSpec } from '../data/transforms.js';
import { loadCheckpoint, saveCheckpoint } from '../io/index.js';
import { AdamW, decayGroups } from '../nn/index.js';
import * as T from '../torch/index.js';
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
  /** checkpoint path; none → not saved */
  out?: string;
  /** architecture overrides (widths, featureDim, groups, dropout) */
  model?: Partial<Omit<FeatureClassifierConfig, 'channels' | 'imageSize' | 'numClasses'>>;
  /** stop after this many optimizer steps (tests) */
  maxSteps?: number;
  /** dataset opening options (dataDir, limit, …) for the training and test splits */
  open?: OpenDatasetOptions;
  testOpen?: OpenDatasetOptions;
  /** measure test accuracy after every epoch, not only at the end */
  evalEachEpoch?: boolean;
  quiet?: boolean;
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

function lrAt(step: number, total: number, peak: number): number {
  const warmup = Math.min(100, Math.max(1, Math.floor(total / 20)));
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const t = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
  const min = peak / 20;
  return min + 0.5 * (peak - min) * (1 + Math.cos(Math.PI * t));
}

export async function trainClassifier(o: TrainClassifierOptions): Promise<TrainClassifierResult> {
  const start = performance.now();
  const seed = o.seed ?? 0;
  const epochs = o.epochs ?? 4;
  const batchSize = o.batchSize ?? 128;
  const lr = o.lr ?? 2e-3;
  const ds = openDataset(o.data, o.open);
  const test = openDataset(o.test, o.testOpen ?? o.open);
  if (test.numClasses !== ds.numClasses || test.classNames.some((c, i) => c !== ds.classNames[i]))
    throw new Error(`trainClassifier: ${o.data} and ${o.test} have different classes`);
  T.manualSeed(seed);
  const model = new FeatureClassifier({ ...o.model, channels: o.channels, imageSize: o.imageSize, numClasses: ds.numClasses });
  const transform = classifierInputTransform(ds, model.config);
  const testTransform = classifierInputTransform(test, model.config);
  const params = model.parameters();
  const optimizer = new AdamW(decayGroups(model.namedParameters(), o.weightDecay ?? 0.05), { lr, betas: [0.9, 0.99] });
  const perEpoch = numBatches(ds.length, batchSize, true);
  if (perEpoch === 0) throw new Error(`trainClassifier: ${o.data} has ${ds.length} samples, fewer than a batch of ${batchSize}`);
  const total = Math.min(epochs * perEpoch, o.maxSteps ?? Infinity);
  const bar = o.quiet ? null : progress('classifier', total);
  let step = 0;
  let trainAccuracy = NaN;
  let testAccuracy = NaN;
  try {
    for (let epoch = 0; epoch < epochs && step < total; epoch++) {
      let correct = 0;
      let seen = 0;
      let lossSum = 0;
      model.train();
      const it = batches(ds, {
        batchSize,
        seed,
        epoch,
        dropLast: true,
        reuseBuffers: true,
        transform: { ...transform, hflip: o.hflip ?? 0.5 },
      });
      for (const b of it) {
        if (step >= total) break;
        optimizer.lr = lrAt(step, total, lr);
        const [loss, right] = T.tidy(() => {
          T.zeroGrad(params);
          const x = T.fromArray(b.images, [b.n, b.c, b.h, b.w]);
          const y = T.fromArray(b.labels, [b.n], 'int64');
          const { logits } = model.forward(x);
          const l = T.crossEntropy(logits, y);
          l.backward();
          optimizer.step();
          return [l.item(), T.noGrad(() => logits.argmax(1).eq(y).sum().item())];
        });
        step++;
        correct += right;
        seen += b.n;
        lossSum += loss * b.n;
        bar?.update(step, { epoch: epoch + 1, loss: lossSum / seen, acc: correct / seen });
      }
      trainAccuracy = correct / Math.max(seen, 1);
      if (o.evalEachEpoch && step < total) {
        const acc = (await datasetOutputs(model, test, { transform: testTransform })).accuracy;
        if (!o.quiet) process.stderr.write(`\nclassifier: epoch ${epoch + 1} test accuracy ${(100 * acc).toFixed(2)}%\n`);
      }
    }
  } finally {
    bar?.stop();
    optimizer.dispose();
  }
  model.eval();
  testAccuracy = (await datasetOutputs(model, test, { transform: testTransform })).accuracy;
  const seconds = (performance.now() - start) / 1000;
  const meta: ClassifierMeta = {
    kind: CLASSIFIER_KIND,
    config: model.config,
    dataset: canonicalDatasetSpec(o.data),
    testDataset: canonicalDatasetSpec(o.test),
    testAccuracy,
    imageSize: o.imageSize,
    channels: o.channels,
    transform: testTransform,
    classNames: [...ds.classNames],
    id: classifierId(model),
    epochs,
    steps: step,
    batchSize,
    lr,
    seed,
    trainSeconds: seconds,
  };
  if (o.out) await saveClassifier(o.out, model, meta);
  return { model, meta, testAccuracy, trainAccuracy, steps: step, seconds };
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
  const model = new FeatureClassifier(m.config);
  const loaded = T.tensorsFromRaw(tensors, 'float32');
  try {
    model.loadStateDict(loaded, { strict: true });
  } catch (e) {
    model.dispose();
    throw new Error(`${path}: ${(e as Error).message}`);
  } finally {
    T.dispose(loaded);
  }
  model.eval();
  return { model, meta: m, id: classifierId(model) };
}

// ---- CLI entry point ----

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
  // 32x32 RGB; Google emoji for training, Twitter's drawings of the same emoji for testing
  emoji: {
    data: 'emoji-google',
    test: 'emoji-twitter',
    imageSize: 32,
    channels: 3,
    epochs: 30,
    batchSize: 64,
    lr: 2e-3,
    out: 'models/emoji-classifier.safetensors',
  },
};

export interface ClassifierTrainCliOptions {
  /** a preset name (fashion-mnist, emoji) or a training dataset spec */
  data: string;
  /** test dataset spec (required when `data` is not a preset) */
  test?: string;
  out?: string;
  imageSize?: number;
  channels?: 1 | 3;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  featureDim?: number;
  /** Fashion-MNIST folder */
  dataDir?: string;
  evalEachEpoch?: boolean;
  quiet?: boolean;
}

/** `ctfgen eval classifier train --data fashion-mnist`: trains, saves, prints a summary line. */
export async function runClassifierTrainCli(opts: ClassifierTrainCliOptions): Promise<TrainClassifierResult> {
  const p = CLASSIFIER_PRESETS[opts.data];
  const test = opts.test ?? p?.test;
  if (!test) throw new Error(`--data ${opts.data} is not a preset (${Object.keys(CLASSIFIER_PRESETS).join(', ')}); give --test <spec> too`);
  const out = opts.out ?? p?.out;
  const open = opts.dataDir ? { dataDir: opts.dataDir } : undefined;
  const r = await trainClassifier({
    data: p?.data ?? opts.data,
    test,
    imageSize: opts.imageSize ?? p?.imageSize ?? 32,
    channels: opts.channels ?? p?.channels ?? 1,
    epochs: opts.epochs ?? p?.epochs,
    batchSize: opts.batchSize ?? p?.batchSize,
    lr: opts.lr ?? p?.lr,
    seed: opts.seed,
    out,
    model: opts.featureDim ? { featureDim: opts.featureDim } : undefined,
    open,
    evalEachEpoch: opts.evalEachEpoch,
    quiet: opts.quiet,
  });
  process.stdout.write(
    `classifier ${r.meta.id}: test accuracy ${(100 * r.testAccuracy).toFixed(2)}% on ${test} after ${r.steps} steps ` +
      `(${r.seconds.toFixed(0)} s, ${r.model.parameterCount()} parameters)${out ? `, saved to ${out}` : ''}\n`,
  );
  return r;
}
