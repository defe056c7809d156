/**
 * Fashion-MNIST (Zalando, MIT licence) and any MNIST-format IDX pair.
 *
 * Default location is Debian's `dataset-fashion-mnist` package:
 * /usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
 * (uncompressed files with the same names minus ".gz" are accepted too).
 */

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { U8ImageDataset } from './dataset.js';
import { IdxError, readIdx } from './idx.js';

export const FASHION_MNIST_DEFAULT_DIR = '/usr/share/datasets/fashion-mnist';

export const FASHION_MNIST_CLASSES: readonly string[] = Object.freeze([
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
]);

export type FashionMnistSplit = 'train' | 'test';

export interface FashionMnistOptions {
  split?: FashionMnistSplit;
  /** Directory holding the IDX files (default /usr/share/datasets/fashion-mnist). */
  dataDir?: string;
}

export interface IdxDatasetOptions {
  /** Dataset name used in messages (default: the images path). */
  name?: string;
  /** The number of classes (when no class names are given); every label must be below it. */
  numClasses?: number;
}

/**
 * A dataset from an IDX image file ([N, H, W] grey, or [N, H, W, C] with C = 1 or 3)
 * and an IDX label file ([N], integer type). The classes are the class names when given, else
 * "0".."K-1" for `numClasses` K when given, else for K = max label + 1 — and then every class
 * 0..K-1 must have images, so that one stray label (250 among labels 0..9) cannot silently make
 * 251 classes. Every label must be below the class count.
 */
export function idxDataset(
  imagesPath: string,
  labelsPath: string,
  classNames?: readonly string[],
  opts: IdxDatasetOptions = {},
): U8ImageDataset {
  const images = readIdx(imagesPath);
  const labels = readIdx(labelsPath);
  if (images.dtype !== 'uint8') {
    throw new IdxError(`${imagesPath}: images must be IDX ubyte (0x08), found ${images.dtype}`);
  }
  const d = images.dims;
  if (d.length !== 3 && !(d.length === 4 && (d[3] === 1 || d[3] === 3))) {
    throw new IdxError(`${imagesPath}: images must have dims [N, H, W] or [N, H, W, 1|3], found [${d.join(', ')}]`);
  }
  if (labels.dims.length !== 1) {
    throw new IdxError(`${labelsPath}: labels must have dims [N], found [${labels.dims.join(', ')}]`);
  }
  if (labels.dtype === 'float32' || labels.dtype === 'float64') {
    throw new IdxError(`${labelsPath}: labels must be an integer IDX type, found ${labels.dtype}`);
  }
  const [n, h, w] = d;
  const c = d.length === 4 ? d[3] : 1;
  if (labels.dims[0] !== n) {
    throw new IdxError(`label/image count mismatch: ${imagesPath} has ${n} images but ${labelsPath} has ${labels.dims[0]} labels`);
  }
  const lab = Int32Array.from(labels.data as ArrayLike<number>);
  let maxLabel = -1;
  for (let i = 0; i < n; i++) {
    if (lab[i] < 0) throw new IdxError(`${labelsPath}: label ${i} is negative (${lab[i]})`);
    if (lab[i] > maxLabel) maxLabel = lab[i];
  }
  if (opts.numClasses !== undefined && !(Number.isSafeInteger(opts.numClasses) && opts.numClasses >= 1))
    throw new IdxError(`IDX dataset ${imagesPath}: the class count must be a positive integer, got ${opts.numClasses}`);
  const names = classNames ?? Array.from({ length: opts.numClasses ?? maxLabel + 1 }, (_, i) => String(i));
  if (maxLabel >= names.length) {
    throw new IdxError(
      `${labelsPath}: label ${maxLabel} found but ${classNames ? `only ${names.length} class names were given` : `the class count is ${names.length}`}`,
    );
  }
  if (!classNames && opts.numClasses === undefined) {
    const seen = new Uint8Array(names.length);
    for (let i = 0; i < n; i++) seen[lab[i]!] = 1;
    const empty = [...seen.keys()].filter((k) => !seen[k]);
    if (empty.length > 0)
      throw new IdxError(
        `${labelsPath}: labels run up to ${maxLabel}, but ${empty.length} of the classes 0..${maxLabel} have no images ` +
          `(${empty.slice(0, 5).join(', ')}${empty.length > 5 ? ', …' : ''}); a stray label would make ${maxLabel + 1} classes. ` +
          `Fix the labels, or give the class count: idx:<images>,<labels>,<classes>`,
      );
  }
  let pixels = images.data as Uint8Array;
  if (c === 3) {
    // HWC -> CHW
    const chw = new Uint8Array(pixels.length);
    const plane = h * w;
    for (let i = 0; i < n; i++) {
      const base = i * 3 * plane;
      for (let p = 0; p < plane; p++) for (let ch = 0; ch < 3; ch++) chw[base + ch * plane + p] = pixels[base + p * 3 + ch];
    }
    pixels = chw;
  }
  return new U8ImageDataset({
    name: opts.name ?? imagesPath,
    classNames: names,
    channels: c,
    height: h,
    width: w,
    pixels,
    labels: lab,
  });
}

function findIdx(dir: string, base: string): string | undefined {
  for (const f of [`${base}.gz`, base]) {
    const p = join(dir, f);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Fashion-MNIST train (60,000) or test (10,000) split, 1x28x28, 10 classes. */
export function fashionMnist(opts: FashionMnistOptions = {}): U8ImageDataset {
  const split = opts.split ?? 'train';
  if (split !== 'train' && split !== 'test') {
    throw new Error(`fashion-mnist: unknown split "${String(split)}" (use train or test)`);
  }
  const dir = opts.dataDir ?? FASHION_MNIST_DEFAULT_DIR;
  const prefix = split === 'train' ? 'train' : 't10k';
  const imgBase = `${prefix}-images-idx3-ubyte`;
  const labBase = `${prefix}-labels-idx1-ubyte`;
  const imagesPath = findIdx(dir, imgBase);
  const labelsPath = findIdx(dir, labBase);
  if (!imagesPath || !labelsPath) {
    const missing = [!imagesPath && `${imgBase}[.gz]`, !labelsPath && `${labBase}[.gz]`].filter(Boolean).join(' and ');
    throw new Error(
      `Fashion-MNIST ${split} split not found: ${missing} missing in ${dir}. ` +
        `Install it with \`apt-get install dataset-fashion-mnist\` (files go to ${FASHION_MNIST_DEFAULT_DIR}), ` +
        `or pass --data-dir <dir> pointing at a folder with the IDX files.`,
    );
  }
  const ds = idxDataset(imagesPath, labelsPath, FASHION_MNIST_CLASSES, { name: `fashion-mnist:${split}` });
  if (ds.height !== 28 || ds.width !== 28 || ds.channels !== 1) {
    throw new Error(`fashion-mnist: ${imagesPath} holds ${ds.channels}x${ds.height}x${ds.width} images, expected 1x28x28`);
  }
  return ds;
}

/** True if both files of the split are present (no parsing). */
export function fashionMnistAvailable(opts: FashionMnistOptions = {}): boolean {
  const dir = opts.dataDir ?? FASHION_MNIST_DEFAULT_DIR;
  const prefix = (opts.split ?? 'train') === 'train' ? 'train' : 't10k';
  return !!findIdx(dir, `${prefix}-images-idx3-ubyte`) && !!findIdx(dir, `${prefix}-labels-idx1-ubyte`);
}
