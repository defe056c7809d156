/**
 * An RGBA raster on a Uint8Array (row-major, 4 bytes per pixel, non-premultiplied) with the
 * few drawing operations the figures need: fills, rectangles, thick Bresenham lines, discs,
 * blits with nearest-neighbour scaling, and PNG encoding (pngjs) / atomic saving.
 *
 * Coordinates are integer pixels, x to the right and y downwards; anything outside the
 * canvas is clipped. Drawing operations blend colours with alpha < 255 over what is there
 * (source-over); `setPixel` and `fill` write the colour as given.
 */
import pngjs from 'pngjs';
import { writeFileAtomic, writeFileAtomicSync } from '../io/atomic.js';

const { PNG } = pngjs;

/** An RGBA colour, each channel 0..255; alpha defaults to 255 (opaque). */
export type Color = readonly [number, number, number] | readonly [number, number, number, number];
/** A colour as a tuple or a CSS-style hex string: '#rgb', '#rgba', '#rrggbb' or '#rrggbbaa'. */
export type ColorInput = Color | string;
/** A colour resolved to four integer channels. */
export type Rgba = [number, number, number, number];

/** Anything with RGBA bytes: a Canvas, a decoded PNG, ... */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

function channel(v: number, what: string): number {
  if (!Number.isFinite(v)) throw new RangeError(`colour ${what} channel is not a finite number: ${v}`);
  return Math.max(0, Math.min(255, Math.round(v)));
}

/** Resolves a colour to four channels 0..255 (throws on malformed hex strings). */
export function toRgba(color: ColorInput): Rgba {
  if (typeof color === 'string') {
    const m = /^#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/i.exec(color.trim());
    if (!m) throw new RangeError(`colour ${JSON.stringify(color)} is not '#rgb', '#rgba', '#rrggbb' or '#rrggbbaa'`);
    let hex = m[1]!;
    if (hex.length <= 4) hex = Array.from(hex, (h) => h + h).join('');
    if (hex.length === 6) hex += 'ff';
    return [0, 2, 4, 6].map((i) => parseInt(hex.slice(i, i + 2), 16)) as Rgba;
  }
  const len = (color as readonly number[]).length;
  if (len !== 3 && len !== 4) throw new RangeError(`colour needs 3 or 4 channels, got ${len}`);
  return [channel(color[0], 'red'), channel(color[1], 'green'), channel(color[2], 'blue'), channel(color[3] ?? 255, 'alpha')];
}

/** '#rrggbb' (or '#rrggbbaa' when not opaque) for a colour. */
export function toHex(color: ColorInput): string {
  const c = toRgba(color);
  const h = (c[3] === 255 ? c.slice(0, 3) : c).map((v) => v.toString(16).padStart(2, '0'));
  return '#' + h.join('');
}

export const WHITE: Color = [255, 255, 255];
export const BLACK: Color = [0, 0, 0];
export const TRANSPARENT: Color = [0, 0, 0, 0];

function checkSize(width: number, height: number, what: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`${what}: width and height must be positive integers, got ${width}x${height}`);
  }
  if (width * height > 1 << 28) throw new RangeError(`${what}: ${width}x${height} is too large (over 2^28 pixels)`);
}

export interface PngOptions {
  /** keep the alpha channel (RGBA PNG); default: only if some pixel is not opaque */
  alpha?: boolean;
}

export class Canvas implements RgbaImage {
  readonly width: number;
  readonly height: number;
  /** RGBA bytes, row-major: pixel (x, y) is at 4·(y·width + x). */
  readonly data: Uint8Array;

  /** A width x height canvas filled with `background` (default white). */
  constructor(width: number, height: number, background: ColorInput = WHITE) {
    checkSize(width, height, 'Canvas');
    this.width = width;
    this.height = height;
    this.data = new Uint8Array(width * height * 4);
    this.fill(background);
  }

  /** A canvas over a copy of existing RGBA bytes (length must be width·height·4). */
  static fromRgba(width: number, height: number, data: ArrayLike<number>): Canvas {
    checkSize(width, height, 'Canvas.fromRgba');
    if (data.length !== width * height * 4) {
      throw new RangeError(`Canvas.fromRgba: data has length ${data.length}, expected width·height·4 = ${width * height * 4}`);
    }
    const c = new Canvas(width, height, TRANSPARENT);
    c.data.set(data);
    return c;
  }

  /** Decodes PNG bytes (any colour type pngjs reads) into a canvas. */
  static fromPng(bytes: Uint8Array): Canvas {
    const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return Canvas.fromRgba(png.width, png.height, png.data);
  }

  /** A copy of this canvas. */
  clone(): Canvas {
    return Canvas.fromRgba(this.width, this.height, this.data);
  }

  inBounds(x: number, y: number): boolean {
    return Number.isInteger(x) && Number.isInteger(y) && x >= 0 && y >= 0 && x < this.width && y < this.height;
  }

  /** The RGBA of pixel (x, y); throws when it lies outside the canvas. */
  getPixel(x: number, y: number): Rgba {
    if (!this.inBounds(x, y)) throw new RangeError(`getPixel: (${x}, ${y}) is outside the ${this.width}x${this.height} canvas`);
    const i = (y * this.width + x) * 4;
    const d = this.data;
    return [d[i]!, d[i + 1]!, d[i + 2]!, d[i + 3]!];
  }

  /** Writes the colour as given (no blending); ignored outside the canvas. */
  setPixel(x: number, y: number, color: ColorInput): this {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return this;
    this.data.set(toRgba(color), (y * this.width + x) * 4);
    return this;
  }

  /** Blends the colour over pixel (x, y) (source-over); ignored outside the canvas. */
  blendPixel(x: number, y: number, color: ColorInput): this {
    return this.fillRect(x, y, 1, 1, color);
  }

  /** Sets every pixel to `color` (no blending). */
  fill(color: ColorInput): this {
    const c = toRgba(color);
    const d = this.data;
    for (let i = 0; i < d.length; i += 4) {
      d[i] = c[0];
      d[i + 1] = c[1];
      d[i + 2] = c[2];
      d[i + 3] = c[3];
    }
    return this;
  }

  private blendAt(i: number, c: Rgba): void {
    const d = this.data;
    const a = c[3];
    if (a === 255) {
      d[i] = c[0];
      d[i + 1] = c[1];
      d[i + 2] = c[2];
      d[i + 3] = 255;
      return;
    }
    if (a === 0) return;
    const sa = a / 255;
    const da = d[i + 3]! / 255;
    const oa = sa + da * (1 - sa);
    for (let k = 0; k < 3; k++) d[i + k] = Math.round((c[k]! * sa + d[i + k]! * da * (1 - sa)) / oa);
    d[i + 3] = Math.round(oa * 255);
  }

  /** Fills the rectangle [x, x+w) x [y, y+h), clipped to the canvas. */
  fillRect(x: number, y: number, w: number, h: number, color: ColorInput): this {
    const c = toRgba(color);
    const x0 = Math.max(0, Math.round(x));
    const y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w));
    const y1 = Math.min(this.height, Math.round(y + h));
    for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) this.blendAt((yy * this.width + xx) * 4, c);
    return this;
  }

  /** Outlines the rectangle [x, x+w) x [y, y+h) with a border `thickness` pixels wide, drawn inside it. */
  strokeRect(x: number, y: number, w: number, h: number, color: ColorInput, thickness = 1): this {
    const t = Math.max(1, Math.round(thickness));
    if (2 * t >= w || 2 * t >= h) return this.fillRect(x, y, w, h, color);
    this.fillRect(x, y, w, t, color);
    this.fillRect(x, y + h - t, w, t, color);
    this.fillRect(x, y + t, t, h - 2 * t, color);
    this.fillRect(x + w - t, y + t, t, h - 2 * t, color);
    return this;
  }

  /**
   * A straight line from (x0, y0) to (x1, y1), both ends included (Bresenham). With
   * thickness > 1 a disc of that diameter is stamped at each step; every pixel is painted
   * once, so translucent lines blend evenly.
   */
  line(x0: number, y0: number, x1: number, y1: number, color: ColorInput, thickness = 1): this {
    return this.polyline(
      [
        [x0, y0],
        [x1, y1],
      ],
      color,
      thickness,
    );
  }

  /** Connected line segments through `points` (each pixel painted once, joints included). */
  polyline(points: ReadonlyArray<readonly [number, number]>, color: ColorInput, thickness = 1): this {
    const c = toRgba(color);
    if (points.length === 0) return this;
    const t = Math.max(1, Math.round(thickness));
    const stamp = discOffsets(t);
    const painted = new Set<number>();
    const visit = (x: number, y: number): void => {
      for (const [dx, dy] of stamp) {
        const px = x + dx;
        const py = y + dy;
        if (px < 0 || py < 0 || px >= this.width || py >= this.height) continue;
        const idx = py * this.width + px;
        if (painted.has(idx)) continue;
        painted.add(idx);
        this.blendAt(idx * 4, c);
      }
    };
    const pts = points.map(([x, y]) => [Math.round(x), Math.round(y)] as const);
    if (pts.some(([x, y]) => !Number.isFinite(x) || !Number.isFinite(y))) throw new RangeError('polyline: points must be finite');
    if (pts.length === 1) visit(pts[0]![0], pts[0]![1]);
    for (let k = 1; k < pts.length; k++)
      bresenham(pts[k - 1]![0], pts[k - 1]![1], pts[k]![0], pts[k]![1], this.width, this.height, t, visit);
    return this;
  }

  /** A filled disc of the given radius (pixels whose centres lie within it). */
  fillCircle(cx: number, cy: number, radius: number, color: ColorInput): this {
    const c = toRgba(color);
    const r = Math.max(0, radius);
    const x0 = Math.max(0, Math.floor(cx - r));
    const x1 = Math.min(this.width - 1, Math.ceil(cx + r));
    const y0 = Math.max(0, Math.floor(cy - r));
    const y1 = Math.min(this.height - 1, Math.ceil(cy + r));
    const r2 = (r + 0.5) * (r + 0.5);
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= r2) this.blendAt((y * this.width + x) * 4, c);
    }
    return this;
  }

  /**
   * Draws `src` with its top-left at (dx, dy), each source pixel as a scale x scale block
   * (nearest-neighbour upscaling), clipped to this canvas. Source alpha blends over this
   * canvas unless `opts.replace` copies the pixels as they are.
   */
  blit(src: RgbaImage, dx: number, dy: number, opts: { scale?: number; replace?: boolean } = {}): this {
    const s = opts.scale ?? 1;
    if (!Number.isInteger(s) || s < 1) throw new RangeError(`blit: scale must be a positive integer, got ${s}`);
    if (src.data.length !== src.width * src.height * 4) {
      throw new RangeError(`blit: source data has length ${src.data.length}, expected width·height·4 = ${src.width * src.height * 4}`);
    }
    dx = Math.round(dx);
    dy = Math.round(dy);
    const x0 = Math.max(0, dx);
    const y0 = Math.max(0, dy);
    const x1 = Math.min(this.width, dx + src.width * s);
    const y1 = Math.min(this.height, dy + src.height * s);
    const d = this.data;
    const sd = src.data;
    const px: Rgba = [0, 0, 0, 0];
    for (let y = y0; y < y1; y++) {
      const sy = Math.floor((y - dy) / s);
      for (let x = x0; x < x1; x++) {
        const si = (sy * src.width + Math.floor((x - dx) / s)) * 4;
        const di = (y * this.width + x) * 4;
        if (opts.replace) {
          d[di] = sd[si]!;
          d[di + 1] = sd[si + 1]!;
          d[di + 2] = sd[si + 2]!;
          d[di + 3] = sd[si + 3]!;
        } else {
          px[0] = sd[si]!;
          px[1] = sd[si + 1]!;
          px[2] = sd[si + 2]!;
          px[3] = sd[si + 3]!;
          this.blendAt(di, px);
        }
      }
    }
    return this;
  }

  /** PNG bytes of the canvas (8-bit RGB, or RGBA when some pixel is not opaque or opts.alpha). */
  toPng(opts: PngOptions = {}): Uint8Array {
    let alpha = opts.alpha;
    if (alpha === undefined) {
      alpha = false;
      for (let i = 3; i < this.data.length; i += 4) {
        if (this.data[i] !== 255) {
          alpha = true;
          break;
        }
      }
    }
    const png = new PNG({ width: this.width, height: this.height });
    png.data = Buffer.from(this.data.buffer, this.data.byteOffset, this.data.byteLength);
    const buf = PNG.sync.write(png, { colorType: alpha ? 6 : 2, inputHasAlpha: true, deflateLevel: 6 });
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** Writes the PNG to `file` atomically (temporary file, fsync, rename). */
  async savePng(file: string, opts: PngOptions = {}): Promise<void> {
    await writeFileAtomic(file, this.toPng(opts));
  }

  /** Synchronous savePng. */
  savePngSync(file: string, opts: PngOptions = {}): void {
    writeFileAtomicSync(file, this.toPng(opts));
  }
}

const discCache = new Map<number, Array<readonly [number, number]>>();

/** Pixel offsets of a disc `t` pixels across (a t x t square for t <= 2). */
function discOffsets(t: number): Array<readonly [number, number]> {
  let offs = discCache.get(t);
  if (offs) return offs;
  offs = [];
  const lo = -Math.floor((t - 1) / 2);
  const hi = lo + t - 1;
  const c = (lo + hi) / 2;
  const r2 = (t / 2) * (t / 2);
  for (let dy = lo; dy <= hi; dy++) {
    for (let dx = lo; dx <= hi; dx++) if (t <= 2 || (dx - c) ** 2 + (dy - c) ** 2 <= r2) offs.push([dx, dy]);
  }
  discCache.set(t, offs);
  return offs;
}

/**
 * Visits the Bresenham pixels from (x0, y0) to (x1, y1). Steps far outside the canvas
 * (beyond the stamp size) are skipped cheaply so huge coordinates do not loop for long.
 */
function bresenham(
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  width: number,
  height: number,
  t: number,
  visit: (x: number, y: number) => void,
): void {
  // Clip the segment to the canvas grown by the stamp size (Liang–Barsky) to bound the work.
  const m = t + 1;
  const clipped = clipSegment(x0, y0, x1, y1, -m, -m, width - 1 + m, height - 1 + m);
  if (!clipped) return;
  [x0, y0, x1, y1] = clipped.map(Math.round) as [number, number, number, number];
  const dx = Math.abs(x1 - x0);
  const dy = -Math.abs(y1 - y0);
  const sx = x0 < x1 ? 1 : -1;
  const sy = y0 < y1 ? 1 : -1;
  let err = dx + dy;
  for (;;) {
    visit(x0, y0);
    if (x0 === x1 && y0 === y1) break;
    const e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x0 += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y0 += sy;
    }
  }
}

function clipSegment(
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  xmin: number,
  ymin: number,
  xmax: number,
  ymax: number,
): [number, number, number, number] | null {
  let t0 = 0;
  let t1 = 1;
  const dx = x1 - x0;
  const dy = y1 - y0;
  const checks: Array<[number, number]> = [
    [-dx, x0 - xmin],
    [dx, xmax - x0],
    [-dy, y0 - ymin],
    [dy, ymax - y0],
  ];
  for (const [p, q] of checks) {
    if (p === 0) {
      if (q < 0) return null;
    } else {
      const r = q / p;
      if (p < 0) {
        if (r > t1) return null;
        if (r > t0) t0 = r;
      } else {
        if (r < t0) return null;
        if (r < t1) t1 = r;
      }
    }
  }
  return [x0 + t0 * dx, y0 + t0 * dy, x0 + t1 * dx, y0 + t1 * dy];
}
