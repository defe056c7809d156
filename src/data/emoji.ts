/**
 * Colour emoji from the npm packages `emoji-datasource-google` (Noto Emoji,
 * Apache-2.0) and `emoji-datasource-twitter` (Twemoji, CC-BY 4.0); see
 * docs/datasets.md for attribution.
 *
 * Each package ships `emoji.json` (one record per emoji with `image`, `category`,
 * `sort_order`, `has_img_<vendor>`, optional `skin_variations`) and 64x64 RGBA
 * PNGs in `img/<vendor>/64/`.
 *
 * - Samples: every record with `has_img_<vendor>`, ordered by `sort_order`;
 *   with `skinTones`, each skin-tone variation that has an image follows its base.
 * - Labels: `category`. Class names = the categories present, sorted by UTF-16
 *   code unit (so the label of a category does not depend on the package's record
 *   order): Activities, Animals & Nature, Flags, Food & Drink, Objects,
 *   People & Body, Smileys & Emotion, Symbols, Travel & Places (v16).
 * - The "Component" category (skin-tone swatches and hair-style parts, 5 images)
 *   is left out unless `includeComponent` is set.
 * - Pixels: 3x64x64, alpha composited on white; `resize` resizes on load.
 */

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { U8ImageDataset } from './dataset.js';
import { loadImageFile } from './decode.js';
import { resizeU8, type ResizeMethod } from './transforms.js';

export type EmojiVendor = 'google' | 'twitter';
export const EMOJI_VENDORS: readonly EmojiVendor[] = ['google', 'twitter'];

export interface EmojiOptions {
  vendor?: EmojiVendor;
  /** Include skin-tone variations (default false). */
  skinTones?: boolean;
  /** Include the "Component" category (default false). */
  includeComponent?: boolean;
  /** Resize on load (e.g. to 32x32; default keeps 64x64). */
  resize?: { height: number; width: number; method?: ResizeMethod };
  /**
   * Load only this many emoji, evenly spaced over the full ordered list (so all
   * categories tend to appear). Class names are computed from the full list either way.
   */
  limit?: number;
  /** Package directory override (default: resolved with Node's module resolution). */
  packageDir?: string;
}

interface EmojiRecord {
  image: string;
  category: string;
  sort_order: number;
  short_name?: string;
  unified?: string;
  skin_variations?: Record<string, EmojiVariation>;
  [flag: string]: unknown;
}

interface EmojiVariation {
  image: string;
  unified?: string;
  [flag: string]: unknown;
}

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Directory of emoji-datasource-<vendor>, or an Error telling how to install it. */
export function emojiPackageDir(vendor: EmojiVendor): string {
  const pkg = `emoji-datasource-${vendor}`;
  try {
    const require = createRequire(import.meta.url);
    return dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    throw new Error(`emoji dataset "${vendor}" needs the npm package ${pkg}: run \`npm install ${pkg}\``);
  }
}

export function emojiDataset(opts: EmojiOptions = {}): U8ImageDataset {
  const vendor = opts.vendor ?? 'google';
  if (!EMOJI_VENDORS.includes(vendor)) {
    throw new Error(`emoji: unknown vendor "${String(vendor)}" (use ${EMOJI_VENDORS.join(' or ')})`);
  }
  const pkg = `emoji-datasource-${vendor}`;
  const dir = opts.packageDir ?? emojiPackageDir(vendor);
  const jsonPath = join(dir, 'emoji.json');
  const imgDir = join(dir, 'img', vendor, '64');
  if (!existsSync(jsonPath) || !existsSync(imgDir)) {
    throw new Error(`${pkg} at ${dir} is incomplete (need emoji.json and img/${vendor}/64/); reinstall: \`npm install ${pkg}\``);
  }
  let records: EmojiRecord[];
  try {
    records = JSON.parse(readFileSync(jsonPath, 'utf8')) as EmojiRecord[];
  } catch (e) {
    throw new Error(`cannot read ${jsonPath}: ${(e as Error).message}`);
  }
  const flag = `has_img_${vendor}`;
  const items: { file: string; category: string; code: string }[] = [];
  const sorted = [...records].sort((a, b) => a.sort_order - b.sort_order);
  for (const r of sorted) {
    if (r.category === 'Component' && !opts.includeComponent) continue;
    if (r[flag] === true) items.push({ file: r.image, category: r.category, code: r.unified ?? r.image });
    if (opts.skinTones && r.skin_variations) {
      for (const key of Object.keys(r.skin_variations).sort(byCodeUnit)) {
        const v = r.skin_variations[key];
        if (v[flag] === true) items.push({ file: v.image, category: r.category, code: v.unified ?? v.image });
      }
    }
  }
  if (items.length === 0) throw new Error(`${jsonPath}: no emoji with ${flag}`);
  const classNames = [...new Set(items.map((x) => x.category))].sort(byCodeUnit);
  const labelOf = new Map(classNames.map((c, i) => [c, i] as const));

  let chosen = items;
  if (opts.limit !== undefined) {
    if (!Number.isInteger(opts.limit) || opts.limit <= 0)
      throw new RangeError(`emoji: limit must be a positive integer, got ${opts.limit}`);
    const k = Math.min(opts.limit, items.length);
    chosen = Array.from({ length: k }, (_, i) => items[Math.floor((i * items.length) / k)]);
  }

  const h = opts.resize?.height ?? 64;
  const w = opts.resize?.width ?? 64;
  const size = 3 * h * w;
  const pixels = new Uint8Array(chosen.length * size);
  const labels = new Int32Array(chosen.length);
  const sources: string[] = [];
  chosen.forEach((it, i) => {
    const file = join(imgDir, it.file);
    const img = loadImageFile(file);
    let rgb = img.rgb;
    if (img.height !== h || img.width !== w) {
      if (!opts.resize) {
        throw new Error(`${file} is ${img.width}x${img.height}, expected 64x64; pass a resize option`);
      }
      rgb = resizeU8(rgb, { channels: 3, height: img.height, width: img.width }, h, w, opts.resize.method ?? 'auto');
    }
    pixels.set(rgb, i * size);
    labels[i] = labelOf.get(it.category)!;
    sources.push(`${it.code} (${file})`);
  });

  return new U8ImageDataset({
    name: `emoji-${vendor}`,
    classNames,
    channels: 3,
    height: h,
    width: w,
    pixels,
    labels,
    sources,
  });
}
