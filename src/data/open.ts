/**
 * Dataset specs, as used on the command line:
 *
 *   fashion-mnist[:train|test]   Fashion-MNIST IDX files (--data-dir overrides the folder)
 *   emoji-google | emoji-twitter colour emoji from the emoji-datasource-* npm packages
 *   folder:<path>                <path>/<class name>/*.png|jpg|jpeg
 *   idx:<images>,<labels>[,<K>]  any MNIST-format IDX pair (raw or .gz); K: the class count
 *   fixture                      the committed tiny Fashion-MNIST sample (300 images)
 *   <spec>@<from>:<to>           samples from..to-1 of any of them, in order (a held-out part of a
 *                                split, e.g. fashion-mnist:train@55000:60000 for validation)
 */

import { resolve } from 'node:path';
import { subset, type U8ImageDataset } from './dataset.js';
import { emojiDataset, type EmojiVendor } from './emoji.js';
import { fashionMnist, idxDataset } from './fashion-mnist.js';
import { fixtureDataset } from './fixture.js';
import { imageFolder } from './image-folder.js';
import { resizeDataset, type ResizeMethod } from './transforms.js';

export interface OpenDatasetOptions {
  /** Folder with the Fashion-MNIST IDX files (fashion-mnist spec only). */
  dataDir?: string;
  /** Resize every image on load. */
  resize?: { height: number; width: number; method?: ResizeMethod };
  /** Stored channels for folder/fixture datasets (default "auto"). */
  channels?: 1 | 3 | 'auto';
  /** Keep only this many samples, evenly spaced over the dataset (emoji: decoded only those). */
  limit?: number;
  /** Emoji: include skin-tone variations. */
  skinTones?: boolean;
  /** Class names for idx: specs. */
  classNames?: readonly string[];
  /** folder: specs: refuse images declaring more pixels (see decode.ts) */
  maxPixels?: number;
}

export const DATASET_SPEC_HELP =
  'fashion-mnist[:train|test], emoji-google, emoji-twitter, folder:<path>, idx:<images>,<labels>[,<classes>], fixture; <spec>@<from>:<to> for a range';

/** A spec's base and its sample range (`<spec>@<from>:<to>`), or no range. */
export function datasetRange(spec: string): { base: string; range: { from: number; to: number } | null } {
  const m = /^(.*)@(\d+):(\d+)$/.exec(spec.trim());
  if (!m) return { base: spec.trim(), range: null };
  const from = Number(m[2]);
  const to = Number(m[3]);
  if (!(from < to)) throw new Error(`dataset spec "${spec}": the range ${from}:${to} is empty; write <spec>@<from>:<to> with from < to`);
  return { base: m[1]!, range: { from, to } };
}

/** Opens a dataset from a spec string (see the module comment). */
export function openDataset(spec: string, opts: OpenDatasetOptions = {}): U8ImageDataset {
  const { base, range } = datasetRange(spec);
  if (range) {
    const { limit, ...rest } = opts;
    const whole = openDataset(base, rest);
    if (range.to > whole.length)
      throw new Error(`dataset spec "${spec}": ${base} has ${whole.length} samples, fewer than the range's end ${range.to}`);
    const part = subset(
      whole,
      Array.from({ length: range.to - range.from }, (_, k) => range.from + k),
      `${whole.name}@${range.from}:${range.to}`,
    );
    return limit !== undefined ? limitDataset(part, limit) : part;
  }
  const s = spec.trim();
  let ds: U8ImageDataset;
  let limited = false;
  let resized = false;
  const fm = /^fashion-mnist(?::(.*))?$/.exec(s);
  const em = /^emoji-(.*)$/.exec(s);
  if (fm) {
    const split = fm[1] ?? 'train';
    if (split !== 'train' && split !== 'test') {
      throw new Error(`dataset spec "${spec}": unknown split "${split}" (use fashion-mnist:train or fashion-mnist:test)`);
    }
    ds = fashionMnist({ split, dataDir: opts.dataDir });
  } else if (em) {
    const vendor = em[1];
    if (vendor !== 'google' && vendor !== 'twitter') {
      throw new Error(`dataset spec "${spec}": unknown emoji vendor "${vendor}" (use emoji-google or emoji-twitter)`);
    }
    ds = emojiDataset({ vendor: vendor as EmojiVendor, resize: opts.resize, limit: opts.limit, skinTones: opts.skinTones });
    limited = resized = true;
  } else if (s.startsWith('folder:')) {
    const path = s.slice('folder:'.length);
    if (!path) throw new Error(`dataset spec "${spec}": missing path (folder:<path>)`);
    ds = imageFolder(path, { resize: opts.resize, channels: opts.channels, maxPixels: opts.maxPixels });
    resized = true;
  } else if (s.startsWith('idx:')) {
    const parts = s.slice('idx:'.length).split(',');
    const k = parts[2] === undefined ? undefined : Number(parts[2]);
    if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1] || (k !== undefined && !(Number.isSafeInteger(k) && k >= 1))) {
      throw new Error(`dataset spec "${spec}": expected idx:<images file>,<labels file> or idx:<images file>,<labels file>,<class count>`);
    }
    ds = idxDataset(parts[0], parts[1], opts.classNames, { name: s, numClasses: k });
  } else if (s === 'fixture') {
    ds = fixtureDataset({ resize: opts.resize, channels: opts.channels });
    resized = true;
  } else {
    throw new Error(`unknown dataset spec "${spec}"; use one of: ${DATASET_SPEC_HELP}`);
  }
  if (opts.resize && !resized) ds = resizeDataset(ds, opts.resize.height, opts.resize.width, opts.resize.method);
  if (opts.limit !== undefined && !limited) ds = limitDataset(ds, opts.limit);
  return ds;
}

/**
 * The spec that names the same data wherever it is written down: folder and IDX paths made
 * absolute, `fashion-mnist` as `fashion-mnist:train`. Runs, token caches and classifiers record
 * datasets this way, so they can be matched later from any working directory.
 */
export function canonicalDatasetSpec(spec: string): string {
  const { base, range } = datasetRange(spec);
  if (range) return `${canonicalDatasetSpec(base)}@${range.from}:${range.to}`;
  const s = spec.trim();
  if (s === 'fashion-mnist') return 'fashion-mnist:train';
  if (s.startsWith('folder:') && s.length > 'folder:'.length) return `folder:${resolve(s.slice('folder:'.length))}`;
  if (s.startsWith('idx:')) {
    const parts = s.slice('idx:'.length).split(',');
    if (parts.length === 2 && parts[0] && parts[1]) return `idx:${resolve(parts[0])},${resolve(parts[1])}`;
  }
  return s;
}

/** An evenly spaced subset of k samples (the dataset itself if k >= length). */
export function limitDataset(ds: U8ImageDataset, k: number): U8ImageDataset {
  if (!Number.isInteger(k) || k <= 0) throw new RangeError(`limit must be a positive integer, got ${k}`);
  if (k >= ds.length) return ds;
  const idx = Array.from({ length: k }, (_, i) => Math.floor((i * ds.length) / k));
  return subset(ds, idx, ds.name);
}
