/**
 * Labelled images from a folder tree: root/<class name>/*.png|jpg|jpeg.
 *
 * - Class names are the sub-folder names sorted by UTF-16 code unit (plain `<`,
 *   locale independent); label = position in that list. Files inside a class are
 *   read in the same order. Hidden entries (leading ".") and files with other
 *   extensions are ignored; class folders are not searched recursively.
 * - Grey, grey+alpha, RGB, RGBA and palette PNGs and JPEGs are accepted; alpha is
 *   composited on white (decode.ts).
 * - channels "auto" (default): 1 if every image is grey (R = G = B), else 3.
 * - All images must share one size unless `resize` is given, in which case each
 *   image is resized on load (transforms.ts "auto": area down, bilinear up).
 */

import { readdirSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { U8ImageDataset } from './dataset.js';
import { loadImageFile } from './decode.js';
import { resizeU8, type ResizeMethod } from './transforms.js';

export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg'];

export interface ImageFolderOptions {
  /** Resize every image on load to this size. */
  resize?: { height: number; width: number; method?: ResizeMethod };
  /** Stored channels: 1, 3 or "auto" (default). */
  channels?: 1 | 3 | 'auto';
  /** Dataset name (default "folder:<root>"). */
  name?: string;
  /** Read at most this many images per class (first ones in sorted order). */
  limitPerClass?: number;
  /** refuse images declaring more pixels (see decode.ts; default 4096×4096 or $CTFGEN_MAX_PIXELS) */
  maxPixels?: number;
}

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function isImageFile(name: string): boolean {
  return !name.startsWith('.') && IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());
}

export function imageFolder(root: string, opts: ImageFolderOptions = {}): U8ImageDataset {
  const rootAbs = resolve(root);
  let st;
  try {
    st = statSync(rootAbs);
  } catch {
    throw new Error(`image folder not found: ${rootAbs} does not exist (expected ${root}/<class name>/*.png|jpg|jpeg)`);
  }
  if (!st.isDirectory()) throw new Error(`image folder ${rootAbs} is not a directory`);

  const entries = readdirSync(rootAbs, { withFileTypes: true }).filter((e) => !e.name.startsWith('.'));
  const classNames = entries
    .filter((e) => e.isDirectory() || (e.isSymbolicLink() && statSync(join(rootAbs, e.name)).isDirectory()))
    .map((e) => e.name)
    .sort(byCodeUnit);
  if (classNames.length === 0) {
    const loose = entries.filter((e) => e.isFile() && isImageFile(e.name)).length;
    throw new Error(
      `image folder ${rootAbs} has no class sub-folders` +
        (loose ? ` (it holds ${loose} images directly; move them into ${root}/<class name>/)` : '') +
        `; expected ${root}/<class name>/*.png|jpg|jpeg`,
    );
  }
  const channelsOpt = opts.channels ?? 'auto';
  if (channelsOpt !== 1 && channelsOpt !== 3 && channelsOpt !== 'auto') {
    throw new RangeError(`image folder: channels must be 1, 3 or "auto", got ${String(channelsOpt)}`);
  }
  const limit = opts.limitPerClass ?? Infinity;

  const files: string[] = [];
  const labels: number[] = [];
  classNames.forEach((cls, label) => {
    const dir = join(rootAbs, cls);
    const names = readdirSync(dir, { withFileTypes: true })
      .filter((e) => (e.isFile() || e.isSymbolicLink()) && isImageFile(e.name))
      .map((e) => e.name)
      .sort(byCodeUnit);
    if (names.length === 0) {
      throw new Error(`class folder "${cls}" (${dir}) has no images (.png, .jpg or .jpeg); remove it or add images`);
    }
    for (const f of names.slice(0, limit)) {
      files.push(join(dir, f));
      labels.push(label);
    }
  });

  // Decode everything; keep RGB planes until we know whether all are grey.
  const rgbs: Uint8Array[] = [];
  let allGrey = true;
  let h = 0;
  let w = 0;
  let refFile = '';
  for (const file of files) {
    const img = loadImageFile(file, { maxPixels: opts.maxPixels });
    let rgb = img.rgb;
    if (opts.resize) {
      const { height: th, width: tw, method } = opts.resize;
      if (img.height !== th || img.width !== tw) {
        rgb = resizeU8(rgb, { channels: 3, height: img.height, width: img.width }, th, tw, method ?? 'auto');
      }
      h = th;
      w = tw;
    } else if (!refFile) {
      h = img.height;
      w = img.width;
      refFile = file;
    } else if (img.height !== h || img.width !== w) {
      throw new Error(
        `image size mismatch in ${rootAbs}: ${file} is ${img.width}x${img.height} (width x height) but ${refFile} is ${w}x${h}; ` +
          `all images must have the same size — pass --resize <height>x<width> (option resize) to resize them on load`,
      );
    }
    allGrey &&= img.isGrey;
    rgbs.push(rgb);
  }

  const channels = channelsOpt === 'auto' ? (allGrey ? 1 : 3) : channelsOpt;
  const plane = h * w;
  const size = channels * plane;
  const pixels = new Uint8Array(rgbs.length * size);
  rgbs.forEach((rgb, i) => {
    const off = i * size;
    if (channels === 3) {
      pixels.set(rgb, off);
    } else {
      for (let p = 0; p < plane; p++) {
        const r = rgb[p];
        const g = rgb[plane + p];
        const b = rgb[2 * plane + p];
        pixels[off + p] = r === g && g === b ? r : Math.round(0.299 * r + 0.587 * g + 0.114 * b);
      }
    }
  });

  return new U8ImageDataset({
    name: opts.name ?? `folder:${basename(rootAbs)}`,
    classNames,
    channels,
    height: h,
    width: w,
    pixels,
    labels: Int32Array.from(labels),
    sources: files,
  });
}
