// Images from files for evaluation: the `arr_0` of a .npz (uint8 [N, H, W, 3] as the ADM evaluator,
// LlamaGen and VAR write samples and reference batches; grey [N, H, W] or [N, H, W, 1] too; labels
// from `arr_1` when present) or an image folder (flat, or a class tree), streamed in batches and
// turned into the feature network's input exactly as dataset images are (the network's input
// transform, or classifierInputTransform: channel conversion, pad or area resize).
import { existsSync, statSync } from 'node:fs';
import { centerCropArr } from '../data/center-crop.js';
import { listImageFiles } from '../data/image-files.js';
import { decodedImages } from '../data/image-stream.js';
import { compose, type ImageShape, type Pipeline } from '../data/transforms.js';
import { NpzFile, npyNumbers } from '../io/index.js';
import { classifierInputTransform, type FeatureNetwork } from './classifier.js';
import type { ImageBatchInput } from './metrics.js';

/** A batch of uint8 images, NHWC. */
export interface U8Batch {
  n: number;
  height: number;
  width: number;
  channels: 1 | 3;
  pixels: Uint8Array;
  labels: Int32Array | null;
}

export interface ImageFileOptions {
  /** images per batch (default 64) */
  batchSize?: number;
  /** image folders: ADM's center_crop_arr to this size (else every image must have one size) */
  centerCrop?: number;
}

export const isDirectory = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();
export const isNpz = (p: string): boolean => p.toLowerCase().endsWith('.npz');

/** The uint8 images (and labels) of a .npz arr_0 / arr_1, in batches. */
export async function* npzImageBatches(path: string, batchSize = 64): AsyncGenerator<U8Batch> {
  const f = await NpzFile.open(path);
  try {
    if (!f.has('arr_0'))
      throw new Error(`${path} has no image array arr_0 (it has ${f.names.join(', ')}); ADM-layout samples are arr_0 uint8 [N, H, W, 3]`);
    const h = await f.header('arr_0');
    const [n, height, width, c = 1] = h.shape as [number, number, number, number?];
    if (h.dtype !== 'uint8' || h.shape.length < 3 || h.shape.length > 4 || (c !== 1 && c !== 3))
      throw new Error(`${path}: arr_0 is ${h.dtype} [${h.shape.join(', ')}]; expected uint8 images [N, H, W, 3] (or grey [N, H, W])`);
    let labels: Int32Array | null = null;
    if (f.has('arr_1')) {
      const l = npyNumbers(await f.read('arr_1'), `${path}: arr_1`);
      if (l.length !== n) throw new Error(`${path}: arr_1 holds ${l.length} labels for ${n} images`);
      labels = Int32Array.from(l);
    }
    let from = 0;
    for await (const rows of f.rows('arr_0', batchSize)) {
      const m = rows.shape[0]!;
      yield { n: m, height, width, channels: c, pixels: rows.data as Uint8Array, labels: labels?.subarray(from, from + m) ?? null };
      from += m;
    }
  } finally {
    await f.close();
  }
}

/** The images of a folder (listImageFiles), decoded with sharp, in batches; labels for a class tree. */
export async function* folderImageBatches(dir: string, o: ImageFileOptions = {}): AsyncGenerator<U8Batch> {
  const list = listImageFiles(dir);
  const bs = o.batchSize ?? 64;
  let batch: Uint8Array[] = [];
  let size: [number, number] | null = null;
  let first = '';
  let start = 0;
  const flush = (end: number): U8Batch => {
    const [height, width] = size!;
    const pixels = new Uint8Array(batch.length * height * width * 3);
    batch.forEach((b, i) => pixels.set(b, i * b.length));
    const out: U8Batch = { n: batch.length, height, width, channels: 3, pixels, labels: list.labels?.subarray(start, end) ?? null };
    batch = [];
    start = end;
    return out;
  };
  const prepare = o.centerCrop ? (img: Parameters<typeof centerCropArr>[0]) => centerCropArr(img, o.centerCrop!) : undefined;
  for await (const { index, file, image } of decodedImages(list.files, (img) => (prepare ? prepare(img) : img))) {
    if (!size) [size, first] = [[image.height, image.width], file];
    else if (image.height !== size[0] || image.width !== size[1])
      throw new Error(
        `${file} is ${image.width}x${image.height} but ${first} is ${size[1]}x${size[0]}; give --center-crop <size> to prepare the images as ADM does`,
      );
    batch.push(image.data);
    if (batch.length === bs) yield flush(index + 1);
  }
  if (batch.length > 0) yield flush(list.files.length);
}

/** Images of a .npz or a folder, in batches. */
export function imageFileBatches(path: string, o: ImageFileOptions = {}): AsyncGenerator<U8Batch> {
  if (isNpz(path)) return npzImageBatches(path, o.batchSize);
  if (isDirectory(path)) return folderImageBatches(path, o);
  throw new Error(`${path} is neither a .npz file nor an image folder`);
}

/**
 * uint8 batches → the network's input batches [n, C, S, S] in [-1, 1], through the same transform
 * dataset images get; labels passed on when `withLabels`.
 */
export async function* networkBatches(
  source: AsyncIterable<U8Batch>,
  network: FeatureNetwork,
  withLabels: boolean,
): AsyncGenerator<ImageBatchInput> {
  const pipes = new Map<string, Pipeline>();
  for await (const b of source) {
    const shape: ImageShape = { channels: b.channels, height: b.height, width: b.width };
    const key = `${b.channels}x${b.height}x${b.width}`;
    let pipe = pipes.get(key);
    if (!pipe) {
      pipe = compose({ ...(network.inputTransform?.(shape) ?? classifierInputTransform(shape, network.config)), hflip: 0 }, shape);
      pipes.set(key, pipe);
    }
    const plane = b.height * b.width;
    const per = plane * b.channels;
    const chw = new Uint8Array(per);
    const images = new Float32Array(b.n * pipe.outputSize);
    for (let i = 0; i < b.n; i++) {
      const hwc = b.pixels.subarray(i * per, (i + 1) * per);
      for (let p = 0; p < plane; p++) for (let c = 0; c < b.channels; c++) chw[c * plane + p] = hwc[p * b.channels + c]!;
      pipe.apply(chw, images, i * pipe.outputSize, false);
    }
    yield withLabels && b.labels ? { images, labels: b.labels } : { images };
  }
}
