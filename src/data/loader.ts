/**
 * Batched, shuffled, seeded iteration.
 *
 * Determinism: the order of an epoch depends only on (seed, epoch, dataset length);
 * the flip decision of a sample depends only on (seed, epoch, dataset index, p), so
 * it is the same whatever the batch size or resume point.
 *
 * Fast path: for uint8-backed datasets (`getU8`), each sample is transformed
 * directly from the uint8 store into one preallocated Float32Array per batch; no
 * per-sample allocation, no workers.
 */

import type { Batch, ImageDataset } from './dataset.js';
import { hashUniform, Rng } from './rng.js';
import { compose, type Pipeline, type TransformSpec } from './transforms.js';

export interface LoaderOptions {
  batchSize: number;
  /** Shuffle the order each epoch (default true). */
  shuffle?: boolean;
  /** Seed for order and augmentation (default 0). */
  seed?: number;
  /** Epoch number; a different epoch gives a different order and flips (default 0). */
  epoch?: number;
  /** Drop the last incomplete batch (default false). */
  dropLast?: boolean;
  /** Per-sample transform (spec or compiled pipeline). Default: none, values scaled to [-1, 1]. */
  transform?: TransformSpec | Pipeline;
  /** Skip this many batches of the epoch (to resume mid-epoch; default 0). */
  startBatch?: number;
  /**
   * Reuse one images/labels buffer for every batch (default false). Faster, but a
   * batch is then only valid until the next one is requested: copy it (e.g. into a
   * tensor) before advancing the iterator.
   */
  reuseBuffers?: boolean;
  /**
   * Only samples [from, from + count) of every batch (one process's share of a global batch in
   * data-parallel training); order and flips are those of the whole batch.
   */
  part?: { from: number; count: number };
}

const SHUFFLE_KEY = 0x5348_5546; // "SHUF"
const FLIP_KEY = 0x464c_4950; // "FLIP"

/** Number of batches in an epoch. */
export function numBatches(length: number, batchSize: number, dropLast = false): number {
  checkBatchSize(batchSize);
  return dropLast ? Math.floor(length / batchSize) : Math.ceil(length / batchSize);
}

/** The sample order of one epoch: identity, or a seeded permutation. */
export function epochOrder(length: number, opts: { shuffle?: boolean; seed?: number; epoch?: number } = {}): Int32Array {
  const shuffle = opts.shuffle ?? true;
  if (!shuffle) {
    const order = new Int32Array(length);
    for (let i = 0; i < length; i++) order[i] = i;
    return order;
  }
  return new Rng(opts.seed ?? 0, opts.epoch ?? 0, SHUFFLE_KEY).permutation(length);
}

/** Whether dataset sample `index` is flipped in `epoch` (probability p). */
export function flipDecision(seed: number, epoch: number, index: number, p: number): boolean {
  if (p <= 0) return false;
  if (p >= 1) return true;
  return hashUniform(seed, epoch, index, FLIP_KEY) < p;
}

function checkBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize <= 0) {
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  }
}

function isPipeline(t: TransformSpec | Pipeline): t is Pipeline {
  return typeof (t as Pipeline).apply === 'function';
}

/** Compiles (or checks) the transform for a dataset. */
export function pipelineFor(dataset: ImageDataset, transform: TransformSpec | Pipeline = {}): Pipeline {
  const input = { channels: dataset.channels, height: dataset.height, width: dataset.width };
  if (!isPipeline(transform)) return compose(transform, input);
  const i = transform.input;
  if (i.channels !== input.channels || i.height !== input.height || i.width !== input.width) {
    throw new Error(
      `transform was compiled for ${i.channels}x${i.height}x${i.width} samples but ${dataset.name} has ${input.channels}x${input.height}x${input.width}`,
    );
  }
  return transform;
}

/** Iterates one epoch of batches. */
export function* batches(dataset: ImageDataset, opts: LoaderOptions): Generator<Batch, void, undefined> {
  const { batchSize } = opts;
  checkBatchSize(batchSize);
  const seed = opts.seed ?? 0;
  const epoch = opts.epoch ?? 0;
  const dropLast = opts.dropLast ?? false;
  const pipe = pipelineFor(dataset, opts.transform);
  const { channels: c, height: h, width: w } = pipe.output;
  const size = pipe.outputSize;
  const order = epochOrder(dataset.length, { shuffle: opts.shuffle, seed, epoch });
  const total = numBatches(dataset.length, batchSize, dropLast);
  const startBatch = opts.startBatch ?? 0;
  if (!Number.isInteger(startBatch) || startBatch < 0) throw new RangeError(`startBatch must be a non-negative integer, got ${startBatch}`);
  const getU8 = dataset.getU8?.bind(dataset);
  const p = pipe.hflip;

  let shared: Batch | undefined;
  for (let b = startBatch; b < total; b++) {
    const whole = Math.min(batchSize, dataset.length - b * batchSize);
    const skip = Math.min(opts.part?.from ?? 0, whole);
    const from = b * batchSize + skip;
    const n = Math.min(opts.part?.count ?? whole, whole - skip);
    let batch: Batch;
    if (opts.reuseBuffers) {
      if (!shared || shared.n !== n) shared = allocBatch(n, c, h, w);
      batch = shared;
    } else {
      batch = allocBatch(n, c, h, w);
    }
    const { images, labels, indices, flipped } = batch;
    for (let k = 0; k < n; k++) {
      const idx = order[from + k];
      const flip = flipDecision(seed, epoch, idx, p);
      const src = getU8 ? getU8(idx) : dataset.get(idx).image;
      pipe.apply(src, images, k * size, flip);
      labels[k] = dataset.labelAt(idx);
      indices[k] = idx;
      flipped[k] = flip ? 1 : 0;
    }
    yield batch;
  }
}

function allocBatch(n: number, c: number, h: number, w: number): Batch {
  return {
    images: new Float32Array(n * c * h * w),
    labels: new Int32Array(n),
    indices: new Int32Array(n),
    flipped: new Uint8Array(n),
    n,
    c,
    h,
    w,
  };
}

/**
 * The batch of training step `step` when every epoch is cut into full batches (dropLast): a pure
 * function of the step, for exact resume and for processes that each take a part of it.
 */
export function batchAtStep(dataset: ImageDataset, opts: Omit<LoaderOptions, 'epoch' | 'startBatch' | 'dropLast'>, step: number): Batch {
  const perEpoch = numBatches(dataset.length, opts.batchSize, true);
  if (perEpoch === 0) throw new Error(`${dataset.name}: ${dataset.length} samples give no full batch of ${opts.batchSize}`);
  return batches(dataset, { ...opts, epoch: Math.floor(step / perEpoch), startBatch: step % perEpoch, dropLast: true }).next().value!;
}

/**
 * Endless stream of batches over successive epochs, starting at `epoch`
 * (default 0). Each yielded value says which epoch and batch it belongs to.
 */
export function* infiniteBatches(
  dataset: ImageDataset,
  opts: LoaderOptions,
): Generator<{ epoch: number; batch: number; data: Batch }, never, undefined> {
  let epoch = opts.epoch ?? 0;
  let startBatch = opts.startBatch ?? 0;
  if (numBatches(dataset.length, opts.batchSize, opts.dropLast) === 0) {
    throw new Error(`${dataset.name}: ${dataset.length} samples give no batch of ${opts.batchSize} with dropLast`);
  }
  const pipe = pipelineFor(dataset, opts.transform);
  for (;;) {
    let b = startBatch;
    for (const data of batches(dataset, { ...opts, transform: pipe, epoch, startBatch })) {
      yield { epoch, batch: b++, data };
    }
    epoch++;
    startBatch = 0;
  }
}
