/**
 * Per-sample transforms, composed into one pipeline that writes straight into a
 * batch buffer.
 *
 * Pipeline order (fixed): channels 3->1 (if asked) -> resize -> horizontal flip ->
 * centred pad -> channels 1->3 (if asked) -> value scaling. Flip happens before
 * padding, so with odd padding the content keeps the same left/top offset whether
 * flipped or not.
 *
 * Values: input is CHW uint8 (0..255) or CHW float in [0, 1]; output is float in
 * [-1, 1] (`range: "signed"`, default: u8 / 127.5 - 1) or [0, 1] (`range: "unit"`).
 * Resize and channel mixing are linear, so they run on the input scale and the
 * affine scaling is applied once, in the final write.
 *
 * Resize methods (all separable, precomputed per axis):
 *  - "area": box filter; each output pixel averages the input interval it covers
 *    (fractional overlaps weighted). Exact for integer factors (2x2 mean, ...).
 *  - "bilinear": half-pixel centres, edge clamped (= PyTorch align_corners=false,
 *    no antialias).
 *  - "nearest": source = floor((o + 0.5) * in / out).
 *  - "auto" (default): per axis, area when shrinking, bilinear when enlarging.
 */

import { U8ImageDataset } from './dataset.js';

export type ResizeMethod = 'auto' | 'area' | 'bilinear' | 'nearest';

export interface ImageShape {
  channels: number;
  height: number;
  width: number;
}

export interface TransformSpec {
  /** Output channels: 1 (RGB -> grey by BT.601 luma) or 3 (grey replicated). Default: input channels. */
  channels?: 1 | 3;
  /** Resize to this size before padding. */
  resize?: { height: number; width: number; method?: ResizeMethod };
  /** Centre-pad to this size (must not be smaller than the image after resize). */
  pad?: { height: number; width: number; value?: number /* in [0, 1]; default 0 (black) */ };
  /** Probability of a horizontal flip per sample (0 = never, the default). */
  hflip?: number;
  /** Output value range; default "signed" = [-1, 1]. */
  range?: 'signed' | 'unit';
}

/** A compiled per-sample transform for a fixed input shape. */
export interface Pipeline {
  readonly input: ImageShape;
  readonly output: ImageShape;
  /** Floats per output sample (c * h * w). */
  readonly outputSize: number;
  /** Flip probability (the caller decides per sample and passes `flip`). */
  readonly hflip: number;
  /**
   * Transforms one CHW sample (uint8 0..255 or float [0, 1]) and writes
   * `outputSize` floats into dst starting at `offset`.
   */
  apply(src: Uint8Array | Float32Array, dst: Float32Array, offset: number, flip: boolean): void;
}

const LUMA = [0.299, 0.587, 0.114] as const;

// ---------------------------------------------------------------------------
// Axis weights for separable resampling
// ---------------------------------------------------------------------------

/** Sparse weights mapping an input axis of length `inLen` to `outLen`: output o = sum_k w[k] * in[idx[k]], k in [start[o], start[o+1]). */
export interface AxisWeights {
  start: Int32Array;
  idx: Int32Array;
  w: Float64Array;
}

export function axisWeights(inLen: number, outLen: number, method: ResizeMethod): AxisWeights {
  if (!Number.isInteger(inLen) || !Number.isInteger(outLen) || inLen <= 0 || outLen <= 0) {
    throw new RangeError(`resize: sizes must be positive integers, got ${inLen} -> ${outLen}`);
  }
  if (method === 'auto') method = outLen < inLen ? 'area' : outLen > inLen ? 'bilinear' : 'nearest';
  const start = new Int32Array(outLen + 1);
  const idx: number[] = [];
  const w: number[] = [];
  const s = inLen / outLen;
  for (let o = 0; o < outLen; o++) {
    start[o] = idx.length;
    if (method === 'nearest') {
      idx.push(Math.min(inLen - 1, Math.floor((o + 0.5) * s)));
      w.push(1);
    } else if (method === 'bilinear') {
      const x = Math.min(inLen - 1, Math.max(0, (o + 0.5) * s - 0.5));
      const i0 = Math.floor(x);
      const t = x - i0;
      const i1 = Math.min(inLen - 1, i0 + 1);
      if (t === 0 || i1 === i0) {
        idx.push(i0);
        w.push(1);
      } else {
        idx.push(i0, i1);
        w.push(1 - t, t);
      }
    } else if (method === 'area') {
      const a = o * s;
      const b = (o + 1) * s;
      for (let i = Math.floor(a); i < Math.min(inLen, Math.ceil(b)); i++) {
        const overlap = Math.min(b, i + 1) - Math.max(a, i);
        if (overlap > 1e-12) {
          idx.push(i);
          w.push(overlap / s);
        }
      }
    } else {
      throw new Error(`resize: unknown method "${method as string}" (use auto, area, bilinear or nearest)`);
    }
  }
  start[outLen] = idx.length;
  return { start, idx: Int32Array.from(idx), w: Float64Array.from(w) };
}

/**
 * Separable resample of a CHW image: horizontal pass into `tmp` ([c, h, ow]),
 * vertical pass into `dst` ([c, oh, ow]). Values keep their scale.
 */
function resampleInto(
  src: ArrayLike<number>,
  c: number,
  h: number,
  w: number,
  oh: number,
  ow: number,
  wx: AxisWeights,
  wy: AxisWeights,
  tmp: Float32Array,
  dst: Float32Array,
): void {
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++) {
      const sRow = (ch * h + y) * w;
      const tRow = (ch * h + y) * ow;
      for (let x = 0; x < ow; x++) {
        let acc = 0;
        for (let k = wx.start[x]; k < wx.start[x + 1]; k++) acc += wx.w[k] * src[sRow + wx.idx[k]];
        tmp[tRow + x] = acc;
      }
    }
    for (let y = 0; y < oh; y++) {
      const dRow = (ch * oh + y) * ow;
      for (let x = 0; x < ow; x++) dst[dRow + x] = 0;
      for (let k = wy.start[y]; k < wy.start[y + 1]; k++) {
        const tRow = (ch * h + wy.idx[k]) * ow;
        const wk = wy.w[k];
        for (let x = 0; x < ow; x++) dst[dRow + x] += wk * tmp[tRow + x];
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Standalone helpers (float CHW in, float CHW out)
// ---------------------------------------------------------------------------

/** Resizes a CHW image (any value scale) to oh x ow. */
export function resize(src: ArrayLike<number>, shape: ImageShape, oh: number, ow: number, method: ResizeMethod = 'auto'): Float32Array {
  const { channels: c, height: h, width: w } = shape;
  checkLength(src, shape, 'resize');
  const dst = new Float32Array(c * oh * ow);
  resampleInto(src, c, h, w, oh, ow, axisWeights(w, ow, method), axisWeights(h, oh, method), new Float32Array(c * h * ow), dst);
  return dst;
}

/** Resizes a CHW uint8 image, rounding to the nearest integer. */
export function resizeU8(src: Uint8Array, shape: ImageShape, oh: number, ow: number, method: ResizeMethod = 'auto'): Uint8Array {
  const f = resize(src, shape, oh, ow, method);
  const out = new Uint8Array(f.length);
  for (let i = 0; i < f.length; i++) out[i] = Math.min(255, Math.max(0, Math.round(f[i])));
  return out;
}

/** Centre-pads a CHW image to oh x ow with `value`. */
export function pad(src: ArrayLike<number>, shape: ImageShape, oh: number, ow: number, value = 0): Float32Array {
  const { channels: c, height: h, width: w } = shape;
  checkLength(src, shape, 'pad');
  if (oh < h || ow < w) throw new RangeError(`pad: target ${oh}x${ow} is smaller than the image ${h}x${w}; resize first`);
  const top = (oh - h) >> 1;
  const left = (ow - w) >> 1;
  const dst = new Float32Array(c * oh * ow).fill(value);
  for (let ch = 0; ch < c; ch++)
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) dst[(ch * oh + y + top) * ow + x + left] = src[(ch * h + y) * w + x];
  return dst;
}

/** Mirrors a CHW image left-right. */
export function hflip(src: ArrayLike<number>, shape: ImageShape): Float32Array {
  const { channels: c, height: h, width: w } = shape;
  checkLength(src, shape, 'hflip');
  const dst = new Float32Array(c * h * w);
  for (let r = 0; r < c * h; r++) for (let x = 0; x < w; x++) dst[r * w + x] = src[r * w + (w - 1 - x)];
  return dst;
}

/** Converts between 1 and 3 channels (grey replicated; RGB -> BT.601 luma). */
export function convertChannels(src: ArrayLike<number>, shape: ImageShape, outChannels: 1 | 3): Float32Array {
  const { channels: c, height: h, width: w } = shape;
  checkLength(src, shape, 'convertChannels');
  const n = h * w;
  const dst = new Float32Array(outChannels * n);
  if (c === outChannels) {
    for (let i = 0; i < dst.length; i++) dst[i] = src[i];
  } else if (c === 1 && outChannels === 3) {
    for (let ch = 0; ch < 3; ch++) for (let i = 0; i < n; i++) dst[ch * n + i] = src[i];
  } else if (c === 3 && outChannels === 1) {
    for (let i = 0; i < n; i++) dst[i] = LUMA[0] * src[i] + LUMA[1] * src[n + i] + LUMA[2] * src[2 * n + i];
  } else {
    throw new RangeError(`convertChannels: cannot convert ${c} channels to ${outChannels}`);
  }
  return dst;
}

/** Maps uint8 (0..255) or unit floats ([0, 1], `fromUnit`) to [-1, 1]. */
export function toSigned(src: ArrayLike<number>, fromUnit = false): Float32Array {
  const a = fromUnit ? 2 : 2 / 255;
  const dst = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) dst[i] = src[i] * a - 1;
  return dst;
}

function checkLength(src: ArrayLike<number>, s: ImageShape, what: string): void {
  const n = s.channels * s.height * s.width;
  if (src.length !== n) {
    throw new RangeError(`${what}: image has ${src.length} values, expected ${s.channels}x${s.height}x${s.width} = ${n}`);
  }
}

// ---------------------------------------------------------------------------
// Composed pipeline
// ---------------------------------------------------------------------------

/** The output shape a spec produces for an input shape (validates the spec). */
export function outputShape(spec: TransformSpec, input: ImageShape): ImageShape {
  return compose(spec, input).output;
}

/** Compiles `spec` for samples of shape `input`. */
export function compose(spec: TransformSpec, input: ImageShape): Pipeline {
  const c = input.channels;
  if (c !== 1 && c !== 3) throw new RangeError(`transform: input must have 1 or 3 channels, got ${c}`);
  const outC = spec.channels ?? c;
  if (outC !== 1 && outC !== 3) throw new RangeError(`transform: channels must be 1 or 3, got ${String(outC)}`);
  const p = spec.hflip ?? 0;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`transform: hflip probability must be in [0, 1], got ${p}`);
  const range = spec.range ?? 'signed';
  if (range !== 'signed' && range !== 'unit') throw new RangeError(`transform: range must be "signed" or "unit", got ${String(range)}`);

  const toGrey = c === 3 && outC === 1;
  const replicate = c === 1 && outC === 3;
  const workC = toGrey ? 1 : c; // channels carried through resize/flip/pad

  let rh = input.height;
  let rw = input.width;
  let wx: AxisWeights | undefined;
  let wy: AxisWeights | undefined;
  if (spec.resize && (spec.resize.height !== rh || spec.resize.width !== rw)) {
    const m = spec.resize.method ?? 'auto';
    wx = axisWeights(rw, spec.resize.width, m);
    wy = axisWeights(rh, spec.resize.height, m);
    rh = spec.resize.height;
    rw = spec.resize.width;
  }
  let oh = rh;
  let ow = rw;
  let padValue = 0;
  if (spec.pad) {
    oh = spec.pad.height;
    ow = spec.pad.width;
    padValue = spec.pad.value ?? 0;
    if (!Number.isInteger(oh) || !Number.isInteger(ow) || oh < rh || ow < rw) {
      throw new RangeError(`transform: pad target ${oh}x${ow} is smaller than the image ${rh}x${rw}; add a resize`);
    }
    if (!(padValue >= 0 && padValue <= 1)) throw new RangeError(`transform: pad value must be in [0, 1], got ${padValue}`);
  }
  const top = (oh - rh) >> 1;
  const left = (ow - rw) >> 1;
  const inSize = c * input.height * input.width;
  const outputSize = outC * oh * ow;
  const unitA = range === 'signed' ? 2 : 1; // multiplier for [0, 1] inputs
  const outB = range === 'signed' ? -1 : 0;
  const padOut = padValue * unitA + outB;

  const greyBuf = toGrey ? new Float32Array(input.height * input.width) : undefined;
  const tmpBuf = wx ? new Float32Array(workC * input.height * rw) : undefined;
  const rsBuf = wx ? new Float32Array(workC * rh * rw) : undefined;

  function apply(src: Uint8Array | Float32Array, dst: Float32Array, offset: number, flip: boolean): void {
    if (src.length !== inSize) {
      throw new RangeError(`transform: sample has ${src.length} values, expected ${c}x${input.height}x${input.width}`);
    }
    const a = src instanceof Uint8Array ? unitA / 255 : unitA;
    let cur: ArrayLike<number> = src;
    if (greyBuf) {
      const n = input.height * input.width;
      for (let i = 0; i < n; i++) greyBuf[i] = LUMA[0] * cur[i] + LUMA[1] * cur[n + i] + LUMA[2] * cur[2 * n + i];
      cur = greyBuf;
    }
    if (wx && wy && tmpBuf && rsBuf) {
      resampleInto(cur, workC, input.height, input.width, rh, rw, wx, wy, tmpBuf, rsBuf);
      cur = rsBuf;
    }
    // Final write: flip + pad + replicate + scale.
    const plane = oh * ow;
    for (let oc = 0; oc < outC; oc++) {
      const sc = replicate ? 0 : oc;
      const base = offset + oc * plane;
      if (top > 0) dst.fill(padOut, base, base + top * ow);
      for (let y = 0; y < rh; y++) {
        const row = base + (y + top) * ow;
        const sRow = (sc * rh + y) * rw;
        if (left > 0) dst.fill(padOut, row, row + left);
        const d0 = row + left;
        if (flip) {
          const sEnd = sRow + rw - 1;
          for (let x = 0; x < rw; x++) dst[d0 + x] = cur[sEnd - x] * a + outB;
        } else {
          for (let x = 0; x < rw; x++) dst[d0 + x] = cur[sRow + x] * a + outB;
        }
        if (left + rw < ow) dst.fill(padOut, d0 + rw, row + ow);
      }
      if (top + rh < oh) dst.fill(padOut, base + (top + rh) * ow, base + plane);
    }
  }

  return {
    input: { ...input },
    output: { channels: outC, height: oh, width: ow },
    outputSize,
    hflip: p,
    apply,
  };
}

// ---------------------------------------------------------------------------
// Whole-dataset resize (on load)
// ---------------------------------------------------------------------------

/**
 * A copy of a uint8 dataset with every image resized to height x width (rounded
 * to uint8). Returns the dataset itself when it already has that size.
 */
export function resizeDataset(ds: U8ImageDataset, height: number, width: number, method: ResizeMethod = 'auto'): U8ImageDataset {
  if (ds.height === height && ds.width === width) return ds;
  const inShape = { channels: ds.channels, height: ds.height, width: ds.width };
  const wx = axisWeights(ds.width, width, method);
  const wy = axisWeights(ds.height, height, method);
  const outSize = ds.channels * height * width;
  const tmp = new Float32Array(ds.channels * ds.height * width);
  const out = new Float32Array(outSize);
  const pixels = new Uint8Array(ds.length * outSize);
  for (let i = 0; i < ds.length; i++) {
    resampleInto(ds.getU8(i), inShape.channels, inShape.height, inShape.width, height, width, wx, wy, tmp, out);
    const off = i * outSize;
    for (let j = 0; j < outSize; j++) pixels[off + j] = Math.min(255, Math.max(0, Math.round(out[j])));
  }
  return new U8ImageDataset({
    name: ds.name,
    classNames: ds.classNames,
    channels: ds.channels,
    height,
    width,
    pixels,
    labels: ds.labels,
    sources: ds.sources,
  });
}
