/**
 * PNG / JPEG decoding to CHW uint8 RGB, alpha composited on white.
 *
 * PNG via pngjs (grey, grey+alpha, RGB, RGBA, palette incl. tRNS, 1..16 bit; all
 * normalised by pngjs to 8-bit RGBA), JPEG via jpeg-js (baseline and progressive,
 * grey or colour). The format is taken from the file's magic bytes, not its name.
 *
 * Size limits: the dimensions an image declares (PNG IHDR, JPEG SOF) are read before decoding and
 * an image above `maxPixels` is refused (default DEFAULT_MAX_PIXELS, 4096×4096; raise it with the
 * `maxPixels` option or the CTFGEN_MAX_PIXELS environment variable, which `ctfgen --max-pixels`
 * sets). Files are opened as regular files only, and a file larger than an uncompressed image
 * at the limit could hold (maxImageFileBytes) is refused before it is read.
 */

import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { readRegularFileSync } from '../io/regular-file.js';

const { PNG } = pngjs;

export interface DecodedImage {
  width: number;
  height: number;
  /** 3 x height x width, uint8, alpha already composited on white. */
  rgb: Uint8Array;
  /** True if R == G == B for every pixel (the image can be stored as 1 channel losslessly). */
  isGrey: boolean;
}

export class ImageDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageDecodeError';
  }
}

export type ImageFormat = 'png' | 'jpeg';

/** Largest image decoded by default: 4096 × 4096 pixels (64 MiB as RGBA). */
export const DEFAULT_MAX_PIXELS = 4096 * 4096;
/** Environment variable that raises (or lowers) the default pixel limit. */
export const MAX_PIXELS_ENV = 'CTFGEN_MAX_PIXELS';

export interface ImageLimits {
  /** refuse images declaring more pixels (default: $CTFGEN_MAX_PIXELS, else DEFAULT_MAX_PIXELS) */
  maxPixels?: number;
}

/** The pixel limit in force: the option, else $CTFGEN_MAX_PIXELS, else DEFAULT_MAX_PIXELS. */
export function maxPixelsOf(limits: ImageLimits = {}): number {
  if (limits.maxPixels !== undefined) return limits.maxPixels;
  const env = process.env[MAX_PIXELS_ENV];
  if (env === undefined || env === '') return DEFAULT_MAX_PIXELS;
  const n = Number(env);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${MAX_PIXELS_ENV} must be a positive integer, got '${env}'`);
  return n;
}

/** Largest file read as an image: an image at the pixel limit stored uncompressed (16-bit RGBA), plus 1 MiB of metadata. */
export const maxImageFileBytes = (maxPixels: number): number => maxPixels * 8 + (1 << 20);

/** Width and height an image declares in its header (PNG IHDR, JPEG SOF), before any decoding. */
export function declaredSize(bytes: Uint8Array, fmt: ImageFormat): { width: number; height: number } | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (fmt === 'png') {
    // signature (8), IHDR length (4), "IHDR" (4), width, height
    if (bytes.length < 24 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return undefined;
    return { width: view.getUint32(16), height: view.getUint32(20) };
  }
  // JPEG: walk the marker segments up to the first start-of-frame
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      at += 2; // segments without a length
      continue;
    }
    const len = view.getUint16(at + 2);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) return at + 9 <= bytes.length ? { height: view.getUint16(at + 5), width: view.getUint16(at + 7) } : undefined;
    at += 2 + len;
  }
  return undefined;
}

export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

/** Decodes PNG/JPEG bytes; `source` names the file in errors. Images above the pixel limit are refused before decoding. */
export function decodeImage(bytes: Uint8Array, source = '<buffer>', limits: ImageLimits = {}): DecodedImage {
  const fmt = sniffFormat(bytes);
  const maxPixels = maxPixelsOf(limits);
  if (fmt) {
    const d = declaredSize(bytes, fmt);
    if (!d) throw new ImageDecodeError(`cannot decode image ${source}: no ${fmt === 'png' ? 'IHDR' : 'frame header'} giving its size`);
    if (d.width * d.height > maxPixels)
      throw new ImageDecodeError(
        `image ${source} declares ${d.width}x${d.height} = ${d.width * d.height} pixels, more than the limit of ${maxPixels}; ` +
          `raise it with --max-pixels <n> (or ${MAX_PIXELS_ENV}=<n>) if the image is genuine`,
      );
  }
  let width: number;
  let height: number;
  let rgba: Uint8Array;
  try {
    if (fmt === 'png') {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      ({ width, height } = png);
      rgba = png.data;
    } else if (fmt === 'jpeg') {
      const img = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: maxPixels / 1e6,
        maxMemoryUsageInMB: Math.max(1024, Math.ceil((maxPixels * 8) / 2 ** 20)),
      });
      ({ width, height } = img);
      rgba = img.data;
    } else {
      throw new Error('not a PNG or JPEG file (unrecognised magic bytes)');
    }
  } catch (e) {
    throw new ImageDecodeError(`cannot decode image ${source}: ${(e as Error).message}`);
  }
  if (!(width > 0 && height > 0) || rgba.length < width * height * 4) {
    throw new ImageDecodeError(`cannot decode image ${source}: decoder returned ${width}x${height} with ${rgba.length} bytes`);
  }
  return { width, height, ...rgbaToRgbOnWhite(rgba, width, height) };
}

/** Reads (a regular file only, of bounded size) and decodes an image file. */
export function loadImageFile(path: string, limits: ImageLimits = {}): DecodedImage {
  const maxPixels = maxPixelsOf(limits);
  let bytes: Uint8Array;
  try {
    bytes = readRegularFileSync(path, {
      what: 'an image',
      maxBytes: maxImageFileBytes(maxPixels),
      raise: `images are limited to ${maxPixels} pixels; raise it with --max-pixels <n> (or ${MAX_PIXELS_ENV}=<n>)`,
    });
  } catch (e) {
    throw new ImageDecodeError(`cannot read image ${path}: ${(e as Error).message}`);
  }
  return decodeImage(bytes, path, { maxPixels });
}

/** HWC RGBA -> CHW RGB composited on white: out = (c * a + 255 * (255 - a)) / 255, rounded. */
export function rgbaToRgbOnWhite(rgba: Uint8Array, width: number, height: number): { rgb: Uint8Array; isGrey: boolean } {
  const n = width * height;
  const rgb = new Uint8Array(3 * n);
  let isGrey = true;
  for (let p = 0; p < n; p++) {
    const a = rgba[4 * p + 3];
    let r = rgba[4 * p];
    let g = rgba[4 * p + 1];
    let b = rgba[4 * p + 2];
    if (a !== 255) {
      const bg = 255 * (255 - a) + 127;
      r = ((r * a + bg) / 255) | 0;
      g = ((g * a + bg) / 255) | 0;
      b = ((b * a + bg) / 255) | 0;
    }
    rgb[p] = r;
    rgb[n + p] = g;
    rgb[2 * n + p] = b;
    if (r !== g || g !== b) isGrey = false;
  }
  return { rgb, isGrey };
}
