/**
 * Decoding image files for the streaming (large-folder) path with sharp: libvips with its own
 * prebuilt libjpeg-turbo/libpng/libwebp/libtiff, installed from npm as a platform package, no
 * system libraries. Pixels come out as Pillow's `Image.open(f).convert('RGB')` gives them (what
 * torchvision's ImageFolder loader, LlamaGen and ADM use): grey replicated to RGB, an alpha
 * channel dropped (not composited), no EXIF rotation. JPEG decoding is byte-identical to
 * Pillow's (the test checks it) and ~10x faster than jpeg-js, which also differs from Pillow by
 * up to 91 levels on colour JPEGs (bench/decode-256.ts).
 */
import sharp from 'sharp';
import type { RgbImage } from './center-crop.js';

/** One image file (or its bytes) as RGB, HWC uint8. */
export async function decodeRgb(input: string | Uint8Array): Promise<RgbImage> {
  const label = typeof input === 'string' ? input : '<buffer>';
  try {
    const { data, info } = await sharp(input, { failOn: 'error', limitInputPixels: 1 << 28 })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (e) {
    throw new Error(`cannot decode image ${label}: ${(e as Error).message}`);
  }
}
