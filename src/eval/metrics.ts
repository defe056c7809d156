// The paper's sample-quality numbers with ctfgen's feature network: FID against reference
// statistics, sFID where the network has spatial features (Inception, as the ADM evaluator), KID
// (kid.ts), inception score, improved precision/recall against reference features (equal-sized
// sets by default, as Kynkäänniemi et al. recommend: the larger set is thinned evenly), and the
// class accuracy of class-conditional samples (the classifier's argmax equals the intended class).
// Also the batched feature/probability pass over images or a dataset split, and cached
// reference statistics per (classifier, dataset).
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ImageDataset } from '../data/dataset.js';
import { batches } from '../data/loader.js';
import { openDataset, type OpenDatasetOptions } from '../data/open.js';
import type { TransformSpec } from '../data/transforms.js';
import { fromArray, interpolateBilinear, noGrad, tidy } from '../torch/index.js';
import { classifierId, classifierInputTransform, type FeatureNetwork } from './classifier.js';
import { featureStats, frechetTerms, loadStats, saveStats, statsCachePath, type FeatureStats, type ReferenceStats } from './fid.js';
import { inceptionScore } from './inception-score.js';
import { kernelInceptionDistance, type KidOptions } from './kid.js';
import { precisionRecall, type PrecisionRecallOptions } from './precision-recall.js';
import { concatTyped } from '../util/typed-arrays.js';

/** Features and class probabilities of a set of images. */
export interface ClassifierOutputs {
  n: number;
  /** [n, featureDim] */
  features: Float32Array;
  /** [n, numClasses] softmax probabilities */
  probs: Float32Array;
  /** [n] argmax class */
  predictions: Int32Array;
  /** [n, spatialDim] spatial features (sFID), when the network has them */
  spatial: Float32Array | null;
}

/** A batch of images [n, C, H, W] in [-1, 1] (the classifier's size), optionally with labels. */
export type ImageBatchInput = Float32Array | { images: Float32Array; labels?: Int32Array };

type BatchOutputs = Omit<ClassifierOutputs, 'n'>;

/** Batched outputs, gathered into one set of arrays at the end. */
class Collector {
  readonly chunks: (BatchOutputs & { labels: Int32Array | null })[] = [];
  n = 0;
  add(o: BatchOutputs, labels: Int32Array | null): void {
    this.chunks.push({ ...o, labels });
    this.n += o.predictions.length;
  }
  finish(): ClassifierOutputs & { labels: Int32Array | null } {
    const join = concatTyped;
    const c = this.chunks;
    const f32 = (n: number) => new Float32Array(n);
    const i32 = (n: number) => new Int32Array(n);
    const all = <K extends 'spatial' | 'labels'>(k: K) => c.length > 0 && c.every((x) => x[k] !== null);
    return {
      n: this.n,
      features: join(
        c.map((x) => x.features),
        f32,
      ),
      probs: join(
        c.map((x) => x.probs),
        f32,
      ),
      predictions: join(
        c.map((x) => x.predictions),
        i32,
      ),
      spatial: all('spatial')
        ? join(
            c.map((x) => x.spatial!),
            f32,
          )
        : null,
      labels: all('labels')
        ? join(
            c.map((x) => x.labels!),
            i32,
          )
        : null,
    };
  }
}

/** Runs the classifier (eval mode, no grad) on one batch of images [n, C, H, W]. */
export function classifyBatch(model: FeatureNetwork, images: Float32Array): BatchOutputs {
  const { channels: c, imageSize: s } = model.config;
  const per = c * s * s;
  if (images.length % per !== 0) throw new RangeError(`classifier input: ${images.length} values are not images of ${c}x${s}x${s}`);
  const n = images.length / per;
  const was = model.training;
  model.eval();
  try {
    return noGrad(() =>
      tidy(() => {
        const { features, logits, spatial } = model.forward(fromArray(images, [n, c, s, s]));
        return {
          features: features.toFloat32Array(),
          probs: logits.softmax(1).toFloat32Array(),
          predictions: logits.argmax(1).toInt32Array(),
          spatial: spatial ? spatial.contiguous().toFloat32Array() : null,
        };
      }),
    );
  } finally {
    model.train(was);
  }
}

/** Classifier outputs of batches of network input (labels from the batches or `labels`). */
export async function collectOutputs(
  model: FeatureNetwork,
  source: AsyncIterable<ImageBatchInput> | Iterable<ImageBatchInput>,
  labels: Int32Array | undefined,
): Promise<ClassifierOutputs & { labels: Int32Array | null }> {
  const out = new Collector();
  for await (const b of source) {
    const images = b instanceof Float32Array ? b : b.images;
    const r = classifyBatch(model, images);
    const n = r.predictions.length;
    let l: Int32Array | null = b instanceof Float32Array ? null : (b.labels?.subarray(0, n) ?? null);
    if (l === null && labels) {
      if (labels.length < out.n + n) throw new RangeError(`evaluateImages: ${labels.length} labels for at least ${out.n + n} images`);
      l = labels.subarray(out.n, out.n + n);
    }
    if (l !== null && l.length !== n) throw new RangeError(`evaluateImages: a batch of ${n} images has ${l.length} labels`);
    out.add(r, l);
  }
  if (labels && labels.length !== out.n) throw new RangeError(`evaluateImages: ${labels.length} labels for ${out.n} images`);
  return out.finish();
}

/**
 * Generated images [N, C, H, W] in [-1, 1] as batches of the network's input: channels converted
 * (grey ↔ RGB) and size changed bilinearly where they differ (Inception reads 299x299 RGB).
 */
export function* networkInput(
  images: Float32Array,
  shape: [number, number, number, number],
  config: { channels: number; imageSize: number },
  batchSize = defaultBatch(config),
): Generator<Float32Array> {
  const [n, c, h, w] = shape;
  const { channels: nc, imageSize: s } = config;
  if (c === nc && h === s && w === s) {
    yield* imageBatches(images, c * h * w, batchSize);
    return;
  }
  for (let from = 0; from < n; from += batchSize) {
    const m = Math.min(batchSize, n - from);
    yield noGrad(() =>
      tidy(() => {
        let x = fromArray(images.subarray(from * c * h * w, (from + m) * c * h * w), [m, c, h, w]);
        if (c === 1 && nc === 3) x = x.expand(m, 3, h, w);
        else if (c === 3 && nc === 1) x = x.mean(1, true);
        else if (c !== nc) throw new RangeError(`images have ${c} channels, the feature network reads ${nc}`);
        if (h !== s || w !== s) x = interpolateBilinear(x.contiguous(), [s, s], false);
        return x.contiguous().toFloat32Array();
      }),
    );
  }
}

/** Images per pass: 256 small images, 32 at Inception's 299x299 (its activations take ~100 MB an image). */
const defaultBatch = (config: { imageSize: number }) => (config.imageSize > 64 ? 32 : 256);

/** Splits [N, C, H, W] images into batches of `batchSize`. */
export function* imageBatches(images: Float32Array, perImage: number, batchSize: number): Generator<Float32Array> {
  if (images.length % perImage !== 0) throw new RangeError(`images: ${images.length} values are not images of ${perImage}`);
  const step = batchSize * perImage;
  for (let o = 0; o < images.length; o += step) yield images.subarray(o, Math.min(images.length, o + step));
}

export interface DatasetOutputs extends ClassifierOutputs {
  labels: Int32Array;
  /** fraction of samples whose argmax equals the dataset label */
  accuracy: number;
}

/**
 * Features, probabilities and accuracy of a dataset split, in order, batched under noGrad/tidy.
 * The transform defaults to classifierInputTransform (pad/resize to the classifier's input).
 */
export async function datasetOutputs(
  model: FeatureNetwork,
  dataset: ImageDataset | string,
  opts: { transform?: TransformSpec; batchSize?: number; open?: OpenDatasetOptions } = {},
): Promise<DatasetOutputs> {
  const ds = typeof dataset === 'string' ? openDataset(dataset, opts.open) : dataset;
  const transform = { ...(opts.transform ?? model.inputTransform?.(ds) ?? classifierInputTransform(ds, model.config)), hflip: 0 };
  const it = batches(ds, { batchSize: opts.batchSize ?? defaultBatch(model.config), shuffle: false, transform });
  const o = await collectOutputs(model, it, undefined);
  const labels = o.labels ?? new Int32Array(0);
  let correct = 0;
  for (let i = 0; i < o.n; i++) if (o.predictions[i] === labels[i]) correct++;
  return { ...o, labels, accuracy: o.n > 0 ? correct / o.n : NaN };
}

export interface EvaluateImagesOptions {
  /** generated images [N, C, H, W] in [-1, 1] at the classifier's input size, or batches of them */
  images: Float32Array | Iterable<ImageBatchInput> | AsyncIterable<ImageBatchInput>;
  /** intended classes of the images, in the classifier's label order (batches may carry their own) */
  labels?: Int32Array;
  classifier: FeatureNetwork;
  /** statistics of the real data; a ReferenceStats also supplies realFeatures (and spatial statistics) and is checked against the classifier's id */
  referenceStats: FeatureStats | ReferenceStats;
  /** real features [M, F] for precision/recall and KID (default: those of referenceStats; none → NaN) */
  realFeatures?: Float32Array | null;
  /** images per classifier pass when `images` is one array (default 256) */
  batchSize?: number;
  /** inception score splits (default 10) */
  splits?: number;
  /** sets: 'equal' (default) thins the larger feature set evenly to the smaller's size; 'all' uses both whole */
  precisionRecall?: PrecisionRecallOptions & { sets?: PrecisionRecallSets };
  kid?: KidOptions;
}

export type PrecisionRecallSets = 'equal' | 'all';

export interface EvaluationResult {
  fid: number;
  /** FID's two parts: ‖μ1 − μ2‖² and the covariance term */
  fidTerms?: { mean: number; cov: number };
  /** FID of the spatial features (NaN when the network or the reference has none) */
  sfid: number;
  /** KID mean and standard deviation over subsets (NaN without real features) */
  kid: number;
  kidStd: number;
  isMean: number;
  isStd: number;
  precision: number;
  recall: number;
  /** fraction with argmax == intended label; NaN without labels */
  classAccuracy: number;
  n: number;
}

/** One line of results: FID, sFID, KID, IS, precision, recall, class accuracy ("n/a" where not measured). */
export function formatMetrics(m: EvaluationResult): string {
  const f = (v: number, digits: number, scale = 1, unit = '') => (Number.isNaN(v) ? 'n/a' : `${(v * scale).toFixed(digits)}${unit}`);
  const g = (v: number) => (Number.isNaN(v) ? 'n/a' : v.toPrecision(3));
  return (
    `FID ${f(m.fid, 2)} | sFID ${f(m.sfid, 2)} | KID ${g(m.kid)} ± ${g(m.kidStd)} | IS ${f(m.isMean, 2)} ± ${f(m.isStd, 2)} | ` +
    `precision ${f(m.precision, 3)} | recall ${f(m.recall, 3)} | class acc ${f(m.classAccuracy, 1, 100, '%')}`
  );
}

/** k rows of a [n, dim] feature set, evenly spaced (row ⌊i·n/k⌋); the set itself when k ≥ n. */
export function evenRows(data: Float32Array, dim: number, k: number): Float32Array {
  const n = data.length / dim;
  if (k >= n) return data;
  const out = new Float32Array(k * dim);
  for (let i = 0; i < k; i++) {
    const r = Math.floor((i * n) / k);
    out.set(data.subarray(r * dim, (r + 1) * dim), i * dim);
  }
  return out;
}

/** FID, sFID, KID, IS, precision/recall and class accuracy of generated images. */
export async function evaluateImages(o: EvaluateImagesOptions): Promise<EvaluationResult> {
  const model = o.classifier;
  const { channels: c, imageSize: s, featureDim, numClasses } = model.config;
  const isRef = 'stats' in o.referenceStats;
  const ref = isRef ? (o.referenceStats as ReferenceStats) : null;
  const stats = ref ? ref.stats : (o.referenceStats as FeatureStats);
  if (ref) {
    const id = classifierId(model);
    if (ref.meta.classifierId !== id)
      throw new Error(`evaluateImages: reference statistics were made with classifier ${ref.meta.classifierId}, not ${id}`);
  }
  if (stats.dim !== featureDim)
    throw new Error(`evaluateImages: reference statistics have ${stats.dim} features, the classifier ${featureDim}`);
  const source = o.images instanceof Float32Array ? imageBatches(o.images, c * s * s, o.batchSize ?? defaultBatch(model.config)) : o.images;
  const out = await collectOutputs(model, source, o.labels);
  if (out.n < 2) throw new RangeError(`evaluateImages: need at least 2 images, got ${out.n}`);
  const terms = frechetTerms(featureStats({ data: out.features, dim: featureDim }), stats);
  const fid = terms.fid;
  const refSpatial = ref?.spatial ?? null;
  const sfid = out.spatial && refSpatial ? frechetTerms(featureStats({ data: out.spatial, dim: refSpatial.dim }), refSpatial).fid : NaN;
  const is = inceptionScore(out.probs, numClasses, o.splits ?? 10);
  const real = o.realFeatures !== undefined ? o.realFeatures : (ref?.features ?? null);
  let precision = NaN;
  let recall = NaN;
  let kid = { mean: NaN, std: NaN };
  if (real) {
    const fake = { data: out.features, dim: featureDim };
    kid = kernelInceptionDistance({ data: real, dim: featureDim }, fake, o.kid);
    const m = Math.min(real.length, out.features.length) / featureDim;
    const equal = (o.precisionRecall?.sets ?? 'equal') === 'equal';
    ({ precision, recall } = precisionRecall(
      { data: equal ? evenRows(real, featureDim, m) : real, dim: featureDim },
      { data: equal ? evenRows(out.features, featureDim, m) : out.features, dim: featureDim },
      o.precisionRecall,
    ));
  }
  let classAccuracy = NaN;
  if (out.labels) {
    let correct = 0;
    for (let i = 0; i < out.n; i++) if (out.predictions[i] === out.labels[i]) correct++;
    classAccuracy = correct / out.n;
  }
  return {
    fid,
    fidTerms: { mean: terms.meanTerm, cov: terms.covTerm },
    sfid,
    kid: kid.mean,
    kidStd: kid.std,
    isMean: is.mean,
    isStd: is.std,
    precision,
    recall,
    classAccuracy,
    n: out.n,
  };
}

export interface ReferenceStatsOptions {
  classifier: FeatureNetwork;
  /** dataset spec (e.g. fashion-mnist:test) */
  dataset: string;
  /** folder of cached statistics files; none → computed every time */
  cacheDir?: string;
  /** evenly spaced subset of this many samples */
  limit?: number;
  /** dataset → classifier input (default classifierInputTransform) */
  transform?: TransformSpec;
  batchSize?: number;
  open?: OpenDatasetOptions;
}

/**
 * Statistics and features of a dataset split under a classifier, loaded from
 * `<cacheDir>/stats-<classifier id>-<dataset>…` when present, else computed (and saved there).
 */
export async function referenceStats(o: ReferenceStatsOptions): Promise<ReferenceStats & { cached: boolean; path: string | null }> {
  const id = classifierId(o.classifier);
  const path = o.cacheDir ? statsCachePath(o.cacheDir, id, o.dataset, o.limit) : null;
  if (path && existsSync(path)) {
    const r = await loadStats(path);
    const spatialOk = r.spatial !== null || o.classifier.config.spatialDim === undefined;
    if (r.meta.classifierId === id && r.meta.dataset === o.dataset && spatialOk) return { ...r, cached: true, path };
  }
  const open: OpenDatasetOptions = { ...o.open, ...(o.limit !== undefined ? { limit: o.limit } : {}) };
  const out = await datasetOutputs(o.classifier, o.dataset, { transform: o.transform, batchSize: o.batchSize, open });
  return saveReferenceOutputs(
    o.classifier,
    out,
    { dataset: o.dataset, accuracy: out.accuracy, ...(o.limit !== undefined ? { limit: o.limit } : {}) },
    path,
  );
}

/** Reference statistics from classifier outputs (features, spatial features), saved to `path` when given. */
export async function saveReferenceOutputs(
  classifier: FeatureNetwork,
  out: ClassifierOutputs,
  about: { dataset: string; [extra: string]: unknown },
  path: string | null,
): Promise<ReferenceStats & { cached: boolean; path: string | null }> {
  const id = classifierId(classifier);
  const stats = featureStats({ data: out.features, dim: classifier.config.featureDim });
  const spatial =
    out.spatial && classifier.config.spatialDim ? featureStats({ data: out.spatial, dim: classifier.config.spatialDim }) : null;
  const meta = { classifierId: id, ...about };
  if (path) {
    await mkdir(dirname(path), { recursive: true });
    await saveStats(path, stats, meta, out.features, spatial);
  }
  return {
    stats,
    features: out.features,
    spatial,
    meta: { ...meta, kind: 'feature-stats', n: stats.n, dim: stats.dim },
    cached: false,
    path,
  };
}
