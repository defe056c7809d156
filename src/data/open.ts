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
 *   <spec>@every:<n>             samples 0, n, 2n, … (a held-out part spread over the dataset's
 *   <spec>@not-every:<n>         order, e.g. every class of the emoji), or all the others
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
  'fashion-mnist[:train|test], emoji-google, emoji-twitter, folder:<path>, idx:<images>,<labels>[,<classes>], fixture; <spec>@<from>:<to> for a range, <spec>@every:<n> / <spec>@not-every:<n> for every n-th sample / the others';

/** The samples a spec's suffix selects: a range, in order, or every n-th sample (`held`) or all the others. */
export type DatasetPart = { kind: 'range'; from: number; to: number } | { kind: 'every'; n: number; held: boolean };

/** A spec's base and the part its suffix selects (`@<from>:<to>`, `@every:<n>`, `@not-every:<n>`), or no part. */
export function datasetPart(spec: string): { base: string; part: DatasetPart | null } {
  const range = /^(.*)@(\d+):(\d+)$/.exec(spec.trim());
  if (range) {
    const from = Number(range[2]);
    const to = Number(range[3]);
    if (!(from < to)) throw new Error(`dataset spec "${spec}": the range ${from}:${to} is empty; write <spec>@<from>:<to> with from < to`);
    return { base: range[1]!, part: { kind: 'range', from, to } };
  }
  const every = /^(.*)@(not-)?every:(\d+)$/.exec(spec.trim());
  if (every) {
    const n = Number(every[3]);
    if (!(n >= 2))
      throw new Error(`dataset spec "${spec}": every ${n}th sample selects ${n === 1 ? 'all' : 'none'} of them; use every:<n> with n ≥ 2`);
    return { base: every[1]!, part: { kind: 'every', n, held: !every[2] } };
  }
  return { base: spec.trim(), part: null };
}

/** The suffix that writes `part` (the inverse of datasetPart). */
function partSuffix(part: DatasetPart): string {
  return part.kind === 'range' ? `@${part.from}:${part.to}` : `@${part.held ? '' : 'not-'}every:${part.n}`;
}

/** The indices of a dataset of `length` samples that `part` selects; refuses a range beyond the end. */
function partIndices(spec: string, base: string, part: DatasetPart, length: number): number[] {
  if (part.kind === 'range') {
    if (part.to > length) throw new Error(`dataset spec "${spec}": ${base} has ${length} samples, fewer than the range's end ${part.to}`);
    return Array.from({ length: part.to - part.from }, (_, k) => part.from + k);
  }
  const idx = Array.from({ length }, (_, i) => i).filter((i) => (i % part.n === 0) === part.held);
  if (idx.length === 0) throw new Error(`dataset spec "${spec}": ${base} has ${length} samples, none of them selected`);
  return idx;
}

/** Opens a dataset from a spec string (see the module comment). */
export function openDataset(spec: string, opts: OpenDatasetOptions = {}): U8ImageDataset {
  const { base, part } = datasetPart(spec);
  if (part) {
    const { limit, ...rest } = opts;
    const whole = openDataset(base, rest);
    const selected = subset(whole, partIndices(spec, base, part, whole.length), `${whole.name}${partSuffix(part)}`);
    return limit !== undefined ? limitDataset(selected, limit) : selected;
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
  const { base, part } = datasetPart(spec);
  if (part) return `${canonicalDatasetSpec(base)}${partSuffix(part)}`;
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
