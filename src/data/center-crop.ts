/**
 * The ImageNet preprocessing of ADM and LlamaGen, reproduced exactly on RGB images (HWC uint8):
 *
 *   center_crop_arr(image, size)   (guided-diffusion image_datasets.py, LlamaGen augmentation.py)
 *     while min(w, h) >= 2·size: resize to (w // 2, h // 2) with PIL's BOX filter
 *     resize to (round(w·s), round(h·s)), s = size / min(w, h), with PIL's BICUBIC filter
 *       (Python's round: halves to even)
 *     crop size × size at ((h − size) // 2, (w − size) // 2)
 *   ten_crop(image, size)          (torchvision TenCrop, as LlamaGen's extract_codes --ten-crop)
 *     the four corners and the centre (top-left, top-right, bottom-left, bottom-right, centre at
 *     round((h − size) / 2), round((w − size) / 2)), then the same five of the mirrored image
 *
 * `pilResize` is Pillow's 8-bit resampler (libImaging/Resample.c): separable filter weights
 * from precompute_coeffs, normalised to 22-bit fixed point, a horizontal pass into an 8-bit
 * intermediate over the rows the vertical pass needs, then the vertical pass; results rounded
 * and clipped per pass as Pillow does. Written out here because no image library on npm
 * reproduces Pillow's pixels (libvips, behind sharp, uses other centring and rounding), and
 * matching them is what makes reference batches and token caches comparable with the papers'.
 * The test compares it with Pillow byte for byte.
 */

export interface RgbImage {
  width: number;
  height: number;
  /** height × width × 3, row-major */
  data: Uint8Array;
}

export type PilFilter = 'box' | 'bicubic';

const FILTERS: Record<PilFilter, { support: number; f: (x: number) => number }> = {
  box: { support: 0.5, f: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  bicubic: {
    support: 2,
    f: (x) => {
      const a = -0.5;
      x = Math.abs(x);
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
  },
};

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;
const HALF = 2 ** (PRECISION_BITS - 1);

interface Coeffs {
  ksize: number;
  /** first input index of each output */
  min: Int32Array;
  /** number of taps of each output */
  count: Int32Array;
  /** fixed-point weights, ksize per output */
  k: Int32Array;
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for the whole axis (box 0..inSize). */
function coeffs(inSize: number, outSize: number, filter: PilFilter): Coeffs {
  const { support: base, f } = FILTERS[filter];
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = base * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const min = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const k = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      w[x] = f((x + xmin - center + 0.5) * ss);
      ww += w[x]!;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? w[x]! / ww : w[x]!;
      k[xx * ksize + x] = Math.trunc(v < 0 ? -0.5 + v * ONE : 0.5 + v * ONE);
    }
    min[xx] = xmin;
    count[xx] = xmax;
  }
  return { ksize, min, count, k };
}

/** ss >> 22, clipped to 0..255 (ss / 2^22 is exact; below 0 either rounding clips to 0) */
const clip8 = (ss: number) => {
  const v = Math.trunc(ss / ONE);
  return ss < 0 ? 0 : v > 255 ? 255 : v;
};

/** Pillow's Image.resize((width, height), filter) of an RGB image. */
export function pilResize(img: RgbImage, width: number, height: number, filter: PilFilter): RgbImage {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0))
    throw new RangeError(`resize: bad target size ${width}x${height}`);
  if (width === img.width && height === img.height) return { width, height, data: img.data.slice() };
  const cv = coeffs(img.height, height, filter);
  const yFirst = cv.min[0]!;
  const yLast = cv.min[height - 1]! + cv.count[height - 1]!;
  let src = img.data;
  let srcW = img.width;
  let rowOffset = 0;
  if (width !== img.width) {
    // horizontal pass over the rows the vertical pass reads
    const ch = coeffs(img.width, width, filter);
    const rows = yLast - yFirst;
    const tmp = new Uint8Array(rows * width * 3);
    for (let yy = 0; yy < rows; yy++) {
      const inRow = (yy + yFirst) * img.width * 3;
      const outRow = yy * width * 3;
      for (let xx = 0; xx < width; xx++) {
        const xmin = ch.min[xx]!;
        const n = ch.count[xx]!;
        const kb = xx * ch.ksize;
        let s0 = HALF;
        let s1 = HALF;
        let s2 = HALF;
        for (let x = 0; x < n; x++) {
          const kx = ch.k[kb + x]!;
          const p = inRow + (x + xmin) * 3;
          s0 += src[p]! * kx;
          s1 += src[p + 1]! * kx;
          s2 += src[p + 2]! * kx;
        }
        tmp[outRow + xx * 3] = clip8(s0);
        tmp[outRow + xx * 3 + 1] = clip8(s1);
        tmp[outRow + xx * 3 + 2] = clip8(s2);
      }
    }
    src = tmp;
    srcW = width;
    rowOffset = yFirst;
  }
  if (height === img.height) return { width, height, data: src };
  const out = new Uint8Array(height * srcW * 3);
  const rowBytes = srcW * 3;
  const acc = new Float64Array(rowBytes); // whole rows at a time: contiguous reads (sums stay exact integers)
  for (let yy = 0; yy < height; yy++) {
    const ymin = cv.min[yy]! - rowOffset;
    const n = cv.count[yy]!;
    const kb = yy * cv.ksize;
    acc.fill(HALF);
    for (let y = 0; y < n; y++) {
      const ky = cv.k[kb + y]!;
      const base = (y + ymin) * rowBytes;
      for (let i = 0; i < rowBytes; i++) acc[i] += src[base + i]! * ky;
    }
    const o = yy * rowBytes;
    for (let i = 0; i < rowBytes; i++) out[o + i] = clip8(acc[i]!);
  }
  return { width: srcW, height, data: out };
}

/** Python's round(): nearest integer, halves to even. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - Math.trunc(v)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** A size × size window of an RGB image at (top, left). */
export function cropRgb(img: RgbImage, top: number, left: number, size: number, mirror = false): RgbImage {
  if (top < 0 || left < 0 || top + size > img.height || left + size > img.width)
    throw new RangeError(`crop ${size}x${size} at (${top}, ${left}) is outside the ${img.width}x${img.height} image`);
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    const row = ((top + y) * img.width + left) * 3;
    if (!mirror) out.set(img.data.subarray(row, row + size * 3), y * size * 3);
    else
      for (let x = 0; x < size; x++) {
        const p = row + (size - 1 - x) * 3;
        const q = (y * size + x) * 3;
        out[q] = img.data[p]!;
        out[q + 1] = img.data[p + 1]!;
        out[q + 2] = img.data[p + 2]!;
      }
  }
  return { width: size, height: size, data: out };
}

/** ADM's center_crop_arr (see the module comment): a size × size RGB image. */
export function centerCropArr(img: RgbImage, size: number): RgbImage {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`center_crop_arr: size must be a positive integer, got ${size}`);
  let cur = img;
  while (Math.min(cur.width, cur.height) >= 2 * size) cur = pilResize(cur, Math.floor(cur.width / 2), Math.floor(cur.height / 2), 'box');
  const scale = size / Math.min(cur.width, cur.height);
  cur = pilResize(cur, roundHalfEven(cur.width * scale), roundHalfEven(cur.height * scale), 'bicubic');
  return cropRgb(cur, Math.floor((cur.height - size) / 2), Math.floor((cur.width - size) / 2), size);
}

/**
 * torchvision's TenCrop(size) of an image: top-left, top-right, bottom-left, bottom-right and
 * centre crops, then the same five of the horizontally mirrored image.
 */
export function tenCrop(img: RgbImage, size: number): RgbImage[] {
  const { width: w, height: h } = img;
  if (size > w || size > h) throw new RangeError(`ten crop: ${size}x${size} crops of a ${w}x${h} image`);
  const top = roundHalfEven((h - size) / 2);
  const left = roundHalfEven((w - size) / 2);
  const at: [number, number][] = [
    [0, 0],
    [0, w - size],
    [h - size, 0],
    [h - size, w - size],
    [top, left],
  ];
  // a crop of the mirrored image at column c is the mirror of the original's crop at w − size − c
  return [...at.map(([t, l]) => cropRgb(img, t, l, size)), ...at.map(([t, l]) => cropRgb(img, t, w - size - l, size, true))];
}
