/**
 * PNG / JPEG decoding to CHW uint8 RGB, alpha composited on white.
 *
 * PNG via pngjs (grey, grey+alpha, RGB, RGBA, palette incl. tRNS, 1..16 bit; all
 * normalised by pngjs to 8-bit RGBA), JPEG via jpeg-js (baseline and progressive,
 * grey or colour). The format is taken from the file's magic bytes, not its name.
 */

import { readFileSync } from 'node:fs';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';

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

export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

/** Decodes PNG/JPEG bytes; `source` names the file in errors. */
export function decodeImage(bytes: Uint8Array, source = '<buffer>'): DecodedImage {
  const fmt = sniffFormat(bytes);
  let width: number;
  let height: number;
  let rgba: Uint8Array;
  try {
    if (fmt === 'png') {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      ({ width, height } = png);
      rgba = png.data;
    } else if (fmt === 'jpeg') {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
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

/** Reads and decodes an image file. */
export function loadImageFile(path: string): DecodedImage {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ImageDecodeError(`cannot read image ${path}: ${(e as Error).message}`);
  }
  return decodeImage(bytes, path);
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
