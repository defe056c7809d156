// Images as the library hands them out: 8-bit, height × width × channels (HWC), the layout of
// canvases, sharp and most image libraries. Conversions from the engine's [-1, 1] CHW floats, PNG
// encoding (pngjs: pure JS, no binary download) and labelled grids.
import { PNG } from 'pngjs';
import { imageGrid as gridCanvas, labelMapColors } from '../viz/index.js';

export interface Image {
  width: number;
  height: number;
  /** 1 (grey), 3 (RGB) or 4 (RGBA) */
  channels: number;
  /** height × width × channels bytes, row-major */
  data: Uint8Array;
}

/** Images [N, C, H, W] in [-1, 1] (the decoder's output) → one buffer of N HWC 8-bit images. */
export function packHWC(chw: Float32Array, shape: readonly [number, number, number, number]): Uint8Array {
  const [n, c, h, w] = shape;
  const plane = h * w;
  const out = new Uint8Array(n * plane * c);
  for (let i = 0; i < n; i++)
    for (let ch = 0; ch < c; ch++)
      for (let p = 0; p < plane; p++)
        out[(i * plane + p) * c + ch] = Math.round(Math.min(1, Math.max(-1, chw[(i * c + ch) * plane + p]!)) * 127.5 + 127.5);
  return out;
}

/** N images laid one after another in `pixels` → views of each. */
export function unpackImages(pixels: Uint8Array, n: number, width: number, height: number, channels: number): Image[] {
  const size = width * height * channels;
  if (pixels.length !== n * size) throw new Error(`unpackImages: ${pixels.length} bytes for ${n} images of ${width}x${height}x${channels}`);
  return Array.from({ length: n }, (_, i) => ({ width, height, channels, data: pixels.subarray(i * size, (i + 1) * size) }));
}

function checkImage(im: Image, what = 'image'): void {
  if (![1, 3, 4].includes(im.channels)) throw new Error(`${what}: channels must be 1, 3 or 4, got ${im.channels}`);
  if (!Number.isInteger(im.width) || !Number.isInteger(im.height) || im.width < 1 || im.height < 1)
    throw new Error(`${what}: width and height must be positive integers, got ${im.width}x${im.height}`);
  if (im.data.length !== im.width * im.height * im.channels)
    throw new Error(`${what}: ${im.data.length} bytes for ${im.width}x${im.height}x${im.channels}`);
}

/** PNG bytes of an image (grey, RGB or RGBA as it is). */
export function encodePNG(image: Image): Uint8Array {
  checkImage(image);
  const { width, height, channels, data } = image;
  const png = new PNG({ width, height });
  // pngjs takes RGBA input; it writes the colour type asked for
  const rgba = Buffer.alloc(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    const s = p * channels;
    rgba[4 * p] = data[s]!;
    rgba[4 * p + 1] = data[channels >= 3 ? s + 1 : s]!;
    rgba[4 * p + 2] = data[channels >= 3 ? s + 2 : s]!;
    rgba[4 * p + 3] = channels === 4 ? data[s + 3]! : 255;
  }
  png.data = rgba;
  const colorType = channels === 1 ? 0 : channels === 3 ? 2 : 6;
  const buf = PNG.sync.write(png, { colorType, inputHasAlpha: true });
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

export interface GridOptions {
  /** images per row (default: ceil(n / labels) with labels, else ceil(sqrt(n))) */
  cols?: number;
  /** one label per row, drawn at its left */
  labels?: readonly string[];
  title?: string;
  /** pixel upscaling (default about 96 px per cell) */
  scale?: number;
}

/** One RGB image of the images in a grid (all of one size and channel count), with labels. */
export function imageGrid(images: readonly Image[], o: GridOptions = {}): Image {
  if (images.length === 0) throw new Error('imageGrid: no images');
  const { width: w, height: h, channels: c } = images[0]!;
  images.forEach((im, i) => {
    checkImage(im, `image ${i}`);
    if (im.width !== w || im.height !== h || im.channels !== c)
      throw new Error(`imageGrid: image ${i} is ${im.width}x${im.height}x${im.channels}, image 0 is ${w}x${h}x${c}`);
  });
  const cc = c === 4 ? 3 : c;
  const chw = new Float32Array(images.length * cc * h * w);
  images.forEach((im, i) => {
    for (let ch = 0; ch < cc; ch++) for (let p = 0; p < h * w; p++) chw[(i * cc + ch) * h * w + p] = im.data[p * c + ch]!;
  });
  const canvas = gridCanvas(chw, {
    n: images.length,
    c: cc,
    h,
    w,
    cols: o.cols,
    rowLabels: o.labels,
    title: o.title,
    scale: o.scale,
    range: [0, 255],
  });
  const rgb = new Uint8Array(canvas.width * canvas.height * 3);
  for (let p = 0; p < canvas.width * canvas.height; p++) for (let ch = 0; ch < 3; ch++) rgb[3 * p + ch] = canvas.data[4 * p + ch]!;
  return { width: canvas.width, height: canvas.height, channels: 3, data: rgb };
}

/** A coarse map (one label per token cell, row-major grid × grid) as an RGB image, one colour per label. */
export function coarseMapImage(coarse: ArrayLike<number>, k: number): Image {
  const grid = Math.round(Math.sqrt(coarse.length));
  if (grid * grid !== coarse.length) throw new Error(`coarse map of ${coarse.length} cells is not square`);
  const colors = labelMapColors(k);
  const data = new Uint8Array(coarse.length * 3);
  for (let p = 0; p < coarse.length; p++) {
    const c = colors[coarse[p]!];
    if (!c) throw new Error(`coarse map cell ${p} has label ${coarse[p]}, outside 0..${k - 1}`);
    data.set(c, 3 * p);
  }
  return { width: grid, height: grid, channels: 3, data };
}
