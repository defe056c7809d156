/**
 * Dataset and batch types.
 *
 * Value convention (one place, used everywhere in src/data):
 *  - Datasets store pixels as uint8 (0..255) in CHW order, one contiguous buffer
 *    per dataset (`U8ImageDataset`). Alpha never reaches a dataset: decoders
 *    composite it on white.
 *  - `ImageDataset.get(i).image` is a fresh Float32Array, CHW, in [0, 1]
 *    (the uint8 value / 255). It is for inspection and for datasets that are not
 *    uint8-backed; the loader does not use it when `getU8` exists.
 *  - The transform step (transforms.ts) is what maps to the model range: batches
 *    produced by the loader are Float32 [N, C, H, W] in [-1, 1]
 *    (value / 127.5 - 1), unless a transform asks for [0, 1].
 */

/** One sample: CHW float image in [0, 1] and an integer class label. */
export interface ImageSample {
  image: Float32Array;
  label: number;
}

export interface ImageDataset {
  readonly name: string;
  readonly length: number;
  readonly numClasses: number;
  readonly classNames: readonly string[];
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** Sample i as CHW float32 in [0, 1] (a copy) and its label in [0, numClasses). */
  get(i: number): ImageSample;
  /** Label of sample i without touching pixels. */
  labelAt(i: number): number;
  /**
   * Fast path: CHW uint8 view of sample i (no copy; do not modify). Present on all
   * datasets built by this module; the loader uses it to fill batches directly.
   */
  getU8?(i: number): Uint8Array;
}

/** A batch ready for `fromFloat32(images, [n, c, h, w])` and `fromInt32(labels, [n])`. */
export interface Batch {
  /** [n, c, h, w] float32, row-major, in [-1, 1] (see transforms.ts). */
  images: Float32Array;
  /** [n] class labels. */
  labels: Int32Array;
  /** [n] dataset index of each sample (for token caches keyed by sample). */
  indices: Int32Array;
  /** [n] 1 where the sample was horizontally flipped by augmentation, else 0. */
  flipped: Uint8Array;
  n: number;
  c: number;
  h: number;
  w: number;
}

/** [n, c, h, w] of a batch, for tensor construction. */
export function batchShape(b: Batch): [number, number, number, number] {
  return [b.n, b.c, b.h, b.w];
}

/** Checks that i is an integer index in [0, length). */
export function checkIndex(i: number, length: number, name: string): void {
  if (!Number.isInteger(i) || i < 0 || i >= length) {
    throw new RangeError(`${name}: index ${i} out of range [0, ${length})`);
  }
}

export interface U8ImageDatasetInit {
  name: string;
  classNames: readonly string[];
  channels: number;
  height: number;
  width: number;
  /** length * channels * height * width bytes, each sample CHW, samples back to back. */
  pixels: Uint8Array;
  /** length labels, each in [0, classNames.length). */
  labels: Int32Array | Uint8Array;
  /** Optional per-sample source description (file path, emoji code) for messages. */
  sources?: readonly string[];
}

/** The uint8-backed dataset used by every loader in this module. */
export class U8ImageDataset implements ImageDataset {
  readonly name: string;
  readonly length: number;
  readonly numClasses: number;
  readonly classNames: readonly string[];
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly pixels: Uint8Array;
  readonly labels: Int32Array;
  readonly sources?: readonly string[];
  /** Bytes per sample (c * h * w). */
  readonly sampleSize: number;

  constructor(init: U8ImageDatasetInit) {
    const { name, classNames, channels, height, width, pixels } = init;
    for (const [k, v] of [
      ['channels', channels],
      ['height', height],
      ['width', width],
    ] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${name}: ${k} must be a positive integer, got ${v}`);
    }
    const sampleSize = channels * height * width;
    const length = init.labels.length;
    if (pixels.length !== length * sampleSize) {
      throw new Error(
        `${name}: pixel buffer has ${pixels.length} bytes, expected ${length} x ${channels}x${height}x${width} = ${length * sampleSize}`,
      );
    }
    const labels = init.labels instanceof Int32Array ? init.labels : Int32Array.from(init.labels);
    const k = classNames.length;
    for (let i = 0; i < length; i++) {
      const l = labels[i];
      if (l < 0 || l >= k) {
        throw new RangeError(`${name}: label ${l} of sample ${i}${init.sources ? ` (${init.sources[i]})` : ''} is outside [0, ${k})`);
      }
    }
    if (init.sources && init.sources.length !== length) {
      throw new Error(`${name}: ${init.sources.length} sources for ${length} samples`);
    }
    this.name = name;
    this.length = length;
    this.numClasses = k;
    this.classNames = Object.freeze([...classNames]);
    this.height = height;
    this.width = width;
    this.channels = channels;
    this.pixels = pixels;
    this.labels = labels;
    this.sources = init.sources;
    this.sampleSize = sampleSize;
  }

  getU8(i: number): Uint8Array {
    checkIndex(i, this.length, this.name);
    return this.pixels.subarray(i * this.sampleSize, (i + 1) * this.sampleSize);
  }

  labelAt(i: number): number {
    checkIndex(i, this.length, this.name);
    return this.labels[i];
  }

  get(i: number): ImageSample {
    const src = this.getU8(i);
    const image = new Float32Array(src.length);
    for (let j = 0; j < src.length; j++) image[j] = src[j] / 255;
    return { image, label: this.labels[i] };
  }

  /** Count of samples per class. */
  classCounts(): Int32Array {
    const counts = new Int32Array(this.numClasses);
    for (let i = 0; i < this.length; i++) counts[this.labels[i]]++;
    return counts;
  }
}

/**
 * A view on some samples of a dataset (same classes, same shape). Indices may repeat.
 * Copies the selected pixels into a new contiguous store so the loader stays fast.
 */
export function subset(ds: ImageDataset, indices: ArrayLike<number>, name?: string): U8ImageDataset {
  const sampleSize = ds.channels * ds.height * ds.width;
  const pixels = new Uint8Array(indices.length * sampleSize);
  const labels = new Int32Array(indices.length);
  const srcSources = ds instanceof U8ImageDataset ? ds.sources : undefined;
  const sources: string[] | undefined = srcSources ? [] : undefined;
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    checkIndex(i, ds.length, ds.name);
    if (ds.getU8) {
      pixels.set(ds.getU8(i), k * sampleSize);
    } else {
      const img = ds.get(i).image;
      for (let j = 0; j < sampleSize; j++) pixels[k * sampleSize + j] = Math.round(Math.min(1, Math.max(0, img[j])) * 255);
    }
    labels[k] = ds.labelAt(i);
    if (sources && srcSources) sources.push(srcSources[i]);
  }
  return new U8ImageDataset({
    name: name ?? `${ds.name}[subset ${indices.length}]`,
    classNames: ds.classNames,
    channels: ds.channels,
    height: ds.height,
    width: ds.width,
    pixels,
    labels,
    sources,
  });
}
