/**
 * Line and bar plots rendered straight to a Canvas: axes with ticks at round numbers and
 * tick labels, light grid lines, a title, axis labels (the y label reads bottom to top), a
 * legend placed in the emptiest corner, and distinct default colours (Tableau 10).
 *
 * linePlot is for training curves (loss / val loss vs step) and sweeps (FID vs CFG scale):
 * non-finite points (and points <= 0 on a log axis) break a series into pieces, an isolated
 * point is drawn as a dot, and short series get markers. barPlot draws grouped bars
 * (e.g. FID per method, or per method within each CFG scale).
 */
import { Canvas, type ColorInput, type Rgba, toRgba } from './canvas.js';
import { CAP_HEIGHT, drawText, fitText, textHeight, textWidth } from './font.js';

/** Default series colours (Tableau 10). */
export const PALETTE: readonly Rgba[] = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
].map((h) => toRgba(h));

/** The default colour of series i. */
export function seriesColor(i: number): Rgba {
  return PALETTE[((i % PALETTE.length) + PALETTE.length) % PALETTE.length]!;
}

const TEXT: Rgba = [30, 30, 30, 255];
const AXIS: Rgba = [90, 90, 90, 255];
const GRID: Rgba = [232, 232, 232, 255];
const GRID_MINOR: Rgba = [244, 244, 244, 255];
const MARGIN = 12;
const GAP = 8;
const TICK = 5;

/** The plot area of a rendered plot and its data-to-pixel maps. */
export interface PlotFrame {
  /** plot area in canvas pixels: [left, right) x [top, bottom) */
  left: number;
  top: number;
  right: number;
  bottom: number;
  /** data x → canvas column (for bar plots: category index → centre of the group) */
  xToPx(x: number): number;
  /** data y → canvas row */
  yToPx(y: number): number;
}

/** The plot area inside the margins; an error when the text leaves no room for it. */
function plotArea(
  who: string,
  width: number,
  height: number,
  m: { left: number; right: number; top: number; bottom: number },
): { left: number; top: number; right: number; bottom: number } {
  const area = { left: m.left, top: m.top, right: width - m.right, bottom: height - m.bottom };
  if (area.right - area.left < 20 || area.bottom - area.top < 20)
    throw new RangeError(`${who}: ${width} x ${height} leaves no room for the plot area; make it larger or the text smaller`);
  return area;
}

/** A rendered plot: the canvas plus where its data went. */
export class PlotCanvas extends Canvas {
  constructor(
    width: number,
    height: number,
    readonly frame: PlotFrame,
  ) {
    super(width, height);
  }
}

// ---------------------------------------------------------------------------------------
// Ticks

/** The smallest step of 1, 2, 2.5 or 5 times a power of ten that is >= raw (or, with `below`, the largest <= raw). */
function niceStep(raw: number, below = false): number {
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / p;
  if (below) return (f >= 5 ? 5 : f >= 2.5 ? 2.5 : f >= 2 ? 2 : 1) * p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * p;
}

function clean(v: number): number {
  return v === 0 ? 0 : Number(v.toPrecision(12));
}

/**
 * Round-number ticks within [lo, hi]: multiples of the finest 1/2/2.5/5·10^k step that
 * gives at most maxTicks + 1 of them.
 */
export function niceTicks(lo: number, hi: number, maxTicks = 6): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new RangeError(`niceTicks: bounds must be finite, got [${lo}, ${hi}]`);
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) return [clean(lo)];
  const count = Math.max(1, Math.floor(maxTicks));
  let step = niceStep((hi - lo) / count, true);
  const make = (): number[] => {
    const out: number[] = [];
    const k0 = Math.ceil(lo / step - 1e-9);
    const k1 = Math.floor(hi / step + 1e-9);
    for (let k = k0; k <= k1; k++) out.push(clean(k * step));
    return out;
  };
  let ticks = make();
  while (ticks.length > count + 1) {
    step = niceStep(step * 1.01 + Number.EPSILON);
    ticks = make();
  }
  return ticks;
}

/** Ticks for a log axis over [lo, hi] (both > 0): powers of ten, with 2 and 5 multiples over short ranges. */
export function logTicks(lo: number, hi: number, maxTicks = 6): { major: number[]; minor: number[] } {
  if (!(lo > 0 && hi > 0) || !Number.isFinite(lo) || !Number.isFinite(hi))
    throw new RangeError(`logTicks: bounds must be positive and finite, got [${lo}, ${hi}]`);
  if (hi < lo) [lo, hi] = [hi, lo];
  const e0 = Math.floor(Math.log10(lo) + 1e-9);
  const e1 = Math.ceil(Math.log10(hi) - 1e-9);
  const inRange = (v: number): boolean => v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9);
  const decades: number[] = [];
  for (let e = e0; e <= e1; e++) decades.push(e);
  const every = Math.max(1, Math.ceil(decades.length / Math.max(1, maxTicks)));
  const powers = decades.filter((e) => e % every === 0).map((e) => clean(Math.pow(10, e)));
  const minorAll: number[] = [];
  for (const e of decades) for (let m = 2; m <= 9; m++) minorAll.push(clean(m * Math.pow(10, e)));
  let major = powers.filter(inRange);
  let minor = minorAll.filter(inRange);
  if (major.length < 3) {
    const with25 = decades.flatMap((e) => [1, 2, 5].map((m) => clean(m * Math.pow(10, e)))).filter(inRange);
    if (with25.length >= 3 && with25.length <= maxTicks + 1) {
      major = with25;
    } else if (with25.length < 3) {
      major = niceTicks(lo, hi, Math.min(maxTicks, 5)).filter((v) => v > 0);
    }
    minor = minor.filter((v) => !major.includes(v));
  }
  return { major, minor };
}

/**
 * Formats tick values consistently: the fewest decimals that show them exactly, k/M/G
 * suffixes for large values, exponents for tiny ones; ticks spread over decades (a log
 * axis) are formatted one by one.
 */
export function formatTicks(values: readonly number[]): string[] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return values.map(String);
  const maxAbs = Math.max(...finite.map(Math.abs));
  const nonZero = finite.filter((v) => v !== 0).map(Math.abs);
  const minAbs = nonZero.length ? Math.min(...nonZero) : 0;
  // Tiny values, or a spread over decades (log-axis ticks): each value on its own terms.
  if (maxAbs !== 0 && (maxAbs < 1e-3 || (minAbs < 1e-3 && maxAbs < 1e-2))) return values.map((v) => (v === 0 ? '0' : shortExp(v)));
  if (maxAbs !== 0 && maxAbs / minAbs > 50) return values.map(formatOne);
  let div = 1;
  let suffix = '';
  if (maxAbs >= 1e9) [div, suffix] = [1e9, 'G'];
  else if (maxAbs >= 1e6) [div, suffix] = [1e6, 'M'];
  else if (maxAbs >= 1e4) [div, suffix] = [1e3, 'k'];
  const scaled = values.map((v) => v / div);
  let d = 0;
  for (; d < 10; d++) {
    const ok = scaled.every((v) => !Number.isFinite(v) || Math.abs(Number(v.toFixed(d)) - v) <= 1e-9 * Math.max(1, Math.abs(v)));
    if (ok) break;
  }
  return scaled.map((v) => {
    if (!Number.isFinite(v)) return String(v);
    const s = v.toFixed(d);
    return (/^-0(\.0*)?$/.test(s) ? s.slice(1) : s) + (v === 0 ? '' : suffix);
  });
}

function formatOne(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a < 1e-3) return shortExp(v);
  if (a >= 1e9) return `${clean(v / 1e9)}G`;
  if (a >= 1e6) return `${clean(v / 1e6)}M`;
  if (a >= 1e4) return `${clean(v / 1e3)}k`;
  return String(clean(v));
}

/** A value as a short string with about `digits` significant digits (for bar value labels and legends). */
export function formatValue(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) return shortExp(v, digits);
  const s = v.toPrecision(digits);
  return s.includes('e') ? String(Number(s)) : s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

function shortExp(v: number, digits = 3): string {
  const [m, e] = v.toExponential(digits - 1).split('e');
  const mant = m!.includes('.') ? m!.replace(/\.?0+$/, '') : m!;
  return `${mant}e${Number(e)}`;
}

// ---------------------------------------------------------------------------------------
// Shared drawing

interface Tick {
  px: number;
  label: string;
}

interface AxesText {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  fontScale: number;
  tickScale: number;
}

/** Margins around the plot area, from the text that goes there. */
function margins(
  t: AxesText,
  yTickLabels: string[],
  lastXLabelWidth: number,
): { left: number; top: number; right: number; bottom: number } {
  const lh = textHeight('X', t.fontScale);
  const tickW = Math.max(0, ...yTickLabels.map((l) => textWidth(l, t.tickScale)));
  return {
    left: MARGIN + (t.yLabel ? lh + GAP : 0) + tickW + GAP + TICK,
    top: MARGIN + (t.title ? textHeight(t.title, t.fontScale) + GAP + 4 : Math.ceil(lh / 2)),
    right: MARGIN + Math.max(GAP, Math.ceil(lastXLabelWidth / 2)),
    bottom: MARGIN + TICK + GAP / 2 + textHeight('X', t.tickScale) + (t.xLabel ? GAP + lh : 0),
  };
}

function drawFrame(canvas: Canvas, f: PlotFrame, xTicks: Tick[], yTicks: Tick[], minor: { x: number[]; y: number[] }): void {
  const w = f.right - f.left;
  const h = f.bottom - f.top;
  for (const y of minor.y) if (y > f.top && y < f.bottom - 1) canvas.fillRect(f.left, y, w, 1, GRID_MINOR);
  for (const x of minor.x) if (x > f.left && x < f.right - 1) canvas.fillRect(x, f.top, 1, h, GRID_MINOR);
  for (const { px } of yTicks) if (px > f.top && px < f.bottom - 1) canvas.fillRect(f.left, px, w, 1, GRID);
  for (const { px } of xTicks) if (px > f.left && px < f.right - 1) canvas.fillRect(px, f.top, 1, h, GRID);
}

function drawAxes(canvas: Canvas, f: PlotFrame, xTicks: Tick[], yTicks: Tick[], t: AxesText): void {
  const w = f.right - f.left;
  const h = f.bottom - f.top;
  canvas.strokeRect(f.left - 1, f.top - 1, w + 2, h + 2, AXIS);
  const ts = t.tickScale;
  const capH = CAP_HEIGHT * ts;
  for (const { px, label } of yTicks) {
    canvas.fillRect(f.left - 1 - TICK, px, TICK, 1, AXIS);
    drawText(canvas, f.left - 1 - TICK - GAP / 2 - textWidth(label, ts), Math.round(px - capH / 2), label, TEXT, ts);
  }
  for (const { px, label } of xTicks) {
    canvas.fillRect(px, f.bottom + 1, 1, TICK, AXIS);
    drawText(canvas, Math.round(px - textWidth(label, ts) / 2), f.bottom + 1 + TICK + GAP / 2, label, TEXT, ts);
  }
  const fs = t.fontScale;
  if (t.title) {
    const tw = textWidth(t.title, fs);
    let x = Math.round((f.left + f.right - tw) / 2);
    if (x + tw > canvas.width - MARGIN) x = canvas.width - MARGIN - tw;
    drawText(canvas, Math.max(MARGIN, x), MARGIN, t.title, TEXT, fs);
  }
  if (t.xLabel) {
    const tw = textWidth(t.xLabel, fs);
    const y = f.bottom + 1 + TICK + GAP / 2 + textHeight('X', ts) + GAP;
    drawText(canvas, Math.max(MARGIN, Math.round((f.left + f.right - tw) / 2)), y, t.xLabel, TEXT, fs);
  }
  if (t.yLabel) {
    const tw = textWidth(t.yLabel, fs);
    const y = Math.max(MARGIN, Math.round((f.top + f.bottom - tw) / 2));
    drawText(canvas, MARGIN, y, t.yLabel, TEXT, fs, 'up');
  }
}

interface LegendEntry {
  name: string;
  color: Rgba;
  kind: 'line' | 'box';
}

/** Draws the legend in the corner of the plot area where `occupied` (data pixels) is emptiest. */
function drawLegend(
  canvas: Canvas,
  f: PlotFrame,
  entries: LegendEntry[],
  fs: number,
  occupied: (x: number, y: number, w: number, h: number) => number,
): void {
  if (entries.length === 0) return;
  const sample = 22;
  const lh = textHeight('X', fs) + 4;
  const maxText = Math.max(Math.floor((f.right - f.left) * 0.45) - sample - 3 * GAP, 20);
  const names = entries.map((e) => fitText(e.name, maxText, fs));
  const w = GAP + sample + GAP + Math.max(...names.map((n) => textWidth(n, fs))) + GAP;
  const h = GAP + entries.length * lh - 4 + GAP;
  const inset = GAP;
  const corners: Array<[number, number]> = [
    [f.right - inset - w, f.top + inset],
    [f.left + inset, f.top + inset],
    [f.right - inset - w, f.bottom - inset - h],
    [f.left + inset, f.bottom - inset - h],
  ];
  let best = corners[0]!;
  let bestScore = Infinity;
  for (const c of corners) {
    const s = occupied(c[0], c[1], w, h);
    if (s < bestScore) [best, bestScore] = [c, s];
  }
  const [x, y] = best;
  canvas.fillRect(x, y, w, h, [255, 255, 255, 225]);
  canvas.strokeRect(x, y, w, h, [200, 200, 200]);
  entries.forEach((e, i) => {
    const ty = y + GAP + i * lh;
    const cy = ty + Math.round((CAP_HEIGHT * fs) / 2);
    if (e.kind === 'line') canvas.fillRect(x + GAP, cy - 1, sample, 3, e.color);
    else canvas.fillRect(x + GAP + 4, ty, sample - 8, CAP_HEIGHT * fs, e.color);
    drawText(canvas, x + GAP + sample + GAP, ty, names[i]!, TEXT, fs);
  });
}

/** Font scale 2 (12 px per character) on plots of at least 480 x 300 pixels, else 1. */
function defaultFontScale(width: number, height: number): number {
  return width >= 480 && height >= 300 ? 2 : 1;
}

function checkSize(width: number, height: number, what: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 120 || height < 100) {
    throw new RangeError(`${what}: width and height must be integers of at least 120 x 100 pixels, got ${width} x ${height}`);
  }
}

function checkRange(r: readonly [number, number] | undefined, what: string): void {
  if (r && !(Number.isFinite(r[0]) && Number.isFinite(r[1]) && r[1] > r[0]))
    throw new RangeError(`${what} must be finite with lo < hi, got [${r[0]}, ${r[1]}]`);
}

/** Pads [lo, hi] by `frac` of its length on both sides; widens a degenerate range. */
function padRange(lo: number, hi: number, frac: number): [number, number] {
  if (hi === lo) {
    const d = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    return [lo - d, hi + d];
  }
  const d = (hi - lo) * frac;
  return [lo - d, hi + d];
}

/** Ticks along an axis of `lengthPx` pixels whose labels (at `scale`) do not crowd each other. */
function fittingTicks(
  lo: number,
  hi: number,
  lengthPx: number,
  scale: number,
  horizontal: boolean,
): { values: number[]; labels: string[] } {
  let count = Math.max(2, Math.floor(lengthPx / (horizontal ? 90 : 55)));
  for (;;) {
    const values = niceTicks(lo, hi, count);
    const labels = formatTicks(values);
    const need = horizontal ? Math.max(...labels.map((l) => textWidth(l, scale))) + 3 * GAP : textHeight('X', scale) + 2 * GAP;
    const spacing = values.length > 1 ? (lengthPx * (values[1]! - values[0]!)) / (hi - lo) : Infinity;
    if (spacing >= need || count <= 2) return { values, labels };
    count--;
  }
}

// ---------------------------------------------------------------------------------------
// Line plot

export interface LineSeries {
  name: string;
  /** x values (default 0, 1, 2, ...) */
  x?: ArrayLike<number>;
  y: ArrayLike<number>;
  color?: ColorInput;
  /** line width in pixels (default the plot's lineWidth) */
  lineWidth?: number;
}

export interface LinePlotOptions {
  series: readonly LineSeries[];
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** logarithmic y axis (points with y <= 0 are left out) */
  logY?: boolean;
  /** logarithmic x axis (points with x <= 0 are left out) */
  logX?: boolean;
  /** canvas size (default 800 x 500) */
  width?: number;
  height?: number;
  /** fixed axis ranges (default: the data, padded 4%) */
  xRange?: readonly [number, number];
  yRange?: readonly [number, number];
  /** line width in pixels (default 2) */
  lineWidth?: number;
  /** dots at the data points: true, false, or 'auto' (default: series of at most 40 points) */
  markers?: boolean | 'auto';
  /** font scale of title, axis labels and legend (default 2 on plots of at least 480 x 300, else 1) and of tick labels (default fontScale) */
  fontScale?: number;
  tickFontScale?: number;
  /** draw the legend (default true) */
  legend?: boolean;
}

interface Axis {
  lo: number;
  hi: number;
  log: boolean;
}

function axisT(a: Axis, v: number): number {
  return a.log ? (Math.log10(v) - Math.log10(a.lo)) / (Math.log10(a.hi) - Math.log10(a.lo)) : (v - a.lo) / (a.hi - a.lo);
}

/** Draws a line plot; see LinePlotOptions. Throws on series whose x and y lengths differ. */
export function linePlot(opts: LinePlotOptions): PlotCanvas {
  const width = opts.width ?? 800;
  const height = opts.height ?? 500;
  checkSize(width, height, 'linePlot');
  checkRange(opts.xRange, 'linePlot: xRange');
  checkRange(opts.yRange, 'linePlot: yRange');
  const logX = !!opts.logX;
  const logY = !!opts.logY;
  if (logX && opts.xRange && opts.xRange[0] <= 0) throw new RangeError('linePlot: xRange must be positive with logX');
  if (logY && opts.yRange && opts.yRange[0] <= 0) throw new RangeError('linePlot: yRange must be positive with logY');

  // Points, with null where a series breaks (non-finite, or not positive on a log axis).
  const pts = opts.series.map((s, i) => {
    const n = s.y.length;
    if (s.x && s.x.length !== n)
      throw new RangeError(`linePlot: series ${i} (${JSON.stringify(s.name)}) has ${s.x.length} x values but ${n} y values`);
    const out: Array<[number, number] | null> = [];
    for (let k = 0; k < n; k++) {
      const x = s.x ? Number(s.x[k]) : k;
      const y = Number(s.y[k]);
      const ok = Number.isFinite(x) && Number.isFinite(y) && (!logX || x > 0) && (!logY || y > 0);
      out.push(ok ? [x, y] : null);
    }
    return out;
  });
  const finite = pts.flat().filter((p): p is [number, number] => p !== null);
  const range = (sel: 0 | 1, log: boolean, fixed: readonly [number, number] | undefined): Axis => {
    if (fixed) return { lo: fixed[0], hi: fixed[1], log };
    if (finite.length === 0) return log ? { lo: 1, hi: 10, log } : { lo: 0, hi: 1, log };
    let lo = Infinity;
    let hi = -Infinity;
    for (const p of finite) {
      const v = log ? Math.log10(p[sel]) : p[sel];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const [a, b] = log && hi === lo ? [lo - 0.5, hi + 0.5] : padRange(lo, hi, 0.04);
    return log ? { lo: Math.pow(10, a), hi: Math.pow(10, b), log } : { lo: a, hi: b, log };
  };
  const xa = range(0, logX, opts.xRange);
  const ya = range(1, logY, opts.yRange);

  const fs = opts.fontScale ?? defaultFontScale(width, height);
  const ts = opts.tickFontScale ?? fs;
  const text: AxesText = { title: opts.title, xLabel: opts.xLabel, yLabel: opts.yLabel, fontScale: fs, tickScale: ts };

  // Ticks depend on the plot area's size, which depends on the y tick labels: estimate, then settle.
  const axisTicks = (a: Axis, lengthPx: number, horizontal: boolean): { values: number[]; labels: string[]; minor: number[] } => {
    if (a.log) {
      const { major, minor } = logTicks(a.lo, a.hi, Math.max(2, Math.floor(lengthPx / (horizontal ? 90 : 45))));
      // Minor lines at 2..9 x 10^k only while decades are roomy; else just the unlabelled powers of ten.
      const decades = Math.log10(a.hi) - Math.log10(a.lo);
      const sparse = lengthPx / Math.max(decades, 1e-9) >= 60;
      const between: number[] = [];
      for (let e = Math.ceil(Math.log10(a.lo)); e <= Math.floor(Math.log10(a.hi)); e++) {
        const v = clean(Math.pow(10, e));
        if (!major.includes(v)) between.push(v);
      }
      return { values: major, labels: formatTicks(major), minor: sparse ? minor : between };
    }
    return { ...fittingTicks(a.lo, a.hi, lengthPx, ts, horizontal), minor: [] };
  };
  let yt = axisTicks(ya, height * 0.7, false);
  let xt = axisTicks(xa, width * 0.8, true);
  let m = margins(text, yt.labels, textWidth(xt.labels[xt.labels.length - 1] ?? '', ts));
  for (let iter = 0; iter < 2; iter++) {
    yt = axisTicks(ya, height - m.top - m.bottom, false);
    xt = axisTicks(xa, width - m.left - m.right, true);
    m = margins(text, yt.labels, textWidth(xt.labels[xt.labels.length - 1] ?? '', ts));
  }
  const { left, top, right, bottom } = plotArea('linePlot', width, height, m);
  const frame: PlotFrame = {
    left,
    top,
    right,
    bottom,
    xToPx: (x) => Math.round(left + axisT(xa, x) * (right - left - 1)),
    yToPx: (y) => Math.round(bottom - 1 - axisT(ya, y) * (bottom - top - 1)),
  };
  const canvas = new PlotCanvas(width, height, frame);
  const ticksOf = (t: { values: number[]; labels: string[] }, map: (v: number) => number): Tick[] =>
    t.values.map((v, i) => ({ px: map(v), label: t.labels[i]! }));
  const xTicks = ticksOf(xt, frame.xToPx);
  const yTicks = ticksOf(yt, frame.yToPx);
  drawFrame(canvas, frame, xTicks, yTicks, { x: xt.minor.map(frame.xToPx), y: yt.minor.map(frame.yToPx) });

  // Series go to their own layer (clipped to the plot area), then onto the canvas.
  const layer = new Canvas(right - left, bottom - top, [0, 0, 0, 0]);
  const lw = opts.lineWidth ?? 2;
  opts.series.forEach((s, i) => {
    const color = s.color !== undefined ? toRgba(s.color) : seriesColor(i);
    const p = pts[i]!;
    const nFinite = p.filter((q) => q !== null).length;
    const markers = opts.markers === undefined || opts.markers === 'auto' ? nFinite <= 40 : opts.markers;
    const width = s.lineWidth ?? lw;
    const toLayer = (q: [number, number]): [number, number] => [frame.xToPx(q[0]) - left, frame.yToPx(q[1]) - top];
    let run: Array<[number, number]> = [];
    const flush = (): void => {
      if (run.length === 1) layer.fillCircle(run[0]![0], run[0]![1], width + 2, color);
      else if (run.length > 1) layer.polyline(run, color, width);
      run = [];
    };
    for (const q of p) {
      if (q === null) flush();
      else run.push(toLayer(q));
    }
    flush();
    if (markers) for (const q of p) if (q) layer.fillCircle(...toLayer(q), width + 1, color);
  });
  canvas.blit(layer, left, top);
  drawAxes(canvas, frame, xTicks, yTicks, text);

  if (finite.length === 0) {
    const msg = 'no data';
    drawText(canvas, Math.round((left + right - textWidth(msg, fs)) / 2), Math.round((top + bottom - CAP_HEIGHT * fs) / 2), msg, AXIS, fs);
  }
  if (opts.legend !== false) {
    const entries = opts.series.map((s, i) => ({
      name: s.name,
      color: s.color !== undefined ? toRgba(s.color) : seriesColor(i),
      kind: 'line' as const,
    }));
    drawLegend(
      canvas,
      frame,
      entries.filter((e) => e.name !== ''),
      fs,
      (x, y, w, h) => countInk(layer, x - left, y - top, w, h),
    );
  }
  return canvas;
}

/** Non-transparent pixels of `layer` in a rectangle. */
function countInk(layer: Canvas, x: number, y: number, w: number, h: number): number {
  let n = 0;
  for (let yy = Math.max(0, y); yy < Math.min(layer.height, y + h); yy++) {
    for (let xx = Math.max(0, x); xx < Math.min(layer.width, x + w); xx++) if (layer.data[(yy * layer.width + xx) * 4 + 3]! > 0) n++;
  }
  return n;
}

// ---------------------------------------------------------------------------------------
// Bar plot

export interface BarSeries {
  name: string;
  /** one value per category (NaN: no bar, marked 'n/a') */
  values: ArrayLike<number>;
  color?: ColorInput;
}

export interface BarPlotOptions {
  /** the groups along the x axis (e.g. methods, or CFG scales) */
  categories: readonly string[];
  /** one bar per series within each group */
  series: readonly BarSeries[];
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** canvas size (default 800 x 500) */
  width?: number;
  height?: number;
  /** fixed y range (default: from 0, or the data's minimum if negative, to the maximum, plus 8% or 15% with value labels) */
  yRange?: readonly [number, number];
  /** print each bar's value above it (default: when there are at most 24 bars) */
  showValues?: boolean;
  /** font scales as in linePlot */
  fontScale?: number;
  tickFontScale?: number;
  /** draw the legend (default: when there is more than one series) */
  legend?: boolean;
}

/** Draws grouped bars; see BarPlotOptions. Throws when a series has the wrong number of values. */
export function barPlot(opts: BarPlotOptions): PlotCanvas {
  const width = opts.width ?? 800;
  const height = opts.height ?? 500;
  checkSize(width, height, 'barPlot');
  checkRange(opts.yRange, 'barPlot: yRange');
  const nc = opts.categories.length;
  const ns = opts.series.length;
  if (nc === 0) throw new RangeError('barPlot: categories is empty');
  if (ns === 0) throw new RangeError('barPlot: series is empty');
  opts.series.forEach((s, i) => {
    if (s.values.length !== nc)
      throw new RangeError(`barPlot: series ${i} (${JSON.stringify(s.name)}) has ${s.values.length} values but there are ${nc} categories`);
  });
  const all = opts.series.flatMap((s) => Array.from(s.values, Number)).filter(Number.isFinite);
  let lo = Math.min(0, ...all);
  let hi = Math.max(0, ...all);
  if (opts.yRange) [lo, hi] = opts.yRange;
  else {
    if (hi === lo) hi = lo + 1;
    // Room for the value labels above (below) the tallest bars.
    const d = (hi - lo) * ((opts.showValues ?? nc * ns <= 24) ? 0.15 : 0.08);
    if (hi > 0) hi += d;
    if (lo < 0) lo -= d;
  }
  const ya: Axis = { lo, hi, log: false };
  const fs = opts.fontScale ?? defaultFontScale(width, height);
  const ts = opts.tickFontScale ?? fs;
  const text: AxesText = { title: opts.title, xLabel: opts.xLabel, yLabel: opts.yLabel, fontScale: fs, tickScale: ts };
  let yt = fittingTicks(lo, hi, height * 0.7, ts, false);
  let m = margins(text, yt.labels, 0);
  yt = fittingTicks(lo, hi, height - m.top - m.bottom, ts, false);
  m = margins(text, yt.labels, 0);
  const { left, top, right, bottom } = plotArea('barPlot', width, height, m);
  const groupW = (right - left) / nc;
  const frame: PlotFrame = {
    left,
    top,
    right,
    bottom,
    xToPx: (c) => Math.round(left + (c + 0.5) * groupW),
    yToPx: (y) => Math.round(bottom - 1 - axisT(ya, y) * (bottom - top - 1)),
  };
  const canvas = new PlotCanvas(width, height, frame);

  // Category labels as x ticks, shortened (and smaller) when they would collide.
  const room = Math.max(10, Math.floor(groupW) - GAP);
  let cs = ts;
  if (cs > 1 && opts.categories.some((c) => textWidth(c, cs) > room)) cs = 1;
  const xTicks: Tick[] = opts.categories.map((c, i) => ({ px: frame.xToPx(i), label: fitText(c, room, cs) }));
  const yTicks: Tick[] = yt.values.map((v, i) => ({ px: frame.yToPx(v), label: yt.labels[i]! }));
  drawFrame(canvas, frame, [], yTicks, { x: [], y: [] });

  const layer = new Canvas(right - left, bottom - top, [0, 0, 0, 0]);
  const inner = groupW * 0.8;
  const barW = inner / ns;
  const showValues = opts.showValues ?? nc * ns <= 24;
  const vs = barW >= 40 ? ts : 1;
  const zero = frame.yToPx(Math.min(Math.max(0, lo), hi));
  const labels: Array<{ x: number; y: number; text: string }> = [];
  opts.series.forEach((s, si) => {
    const color = s.color !== undefined ? toRgba(s.color) : seriesColor(si);
    for (let c = 0; c < nc; c++) {
      const v = Number(s.values[c]);
      const x0 = Math.round(left + c * groupW + (groupW - inner) / 2 + si * barW);
      const x1 = Math.round(left + c * groupW + (groupW - inner) / 2 + (si + 1) * barW) - (ns > 1 ? 1 : 0);
      const cx = (x0 + x1) / 2;
      if (!Number.isFinite(v)) {
        labels.push({ x: cx, y: zero - GAP - CAP_HEIGHT * vs, text: 'n/a' });
        continue;
      }
      const py = frame.yToPx(Math.min(Math.max(v, lo), hi));
      const y0 = Math.min(py, zero);
      const y1 = Math.max(py, zero);
      layer.fillRect(x0 - left, y0 - top, x1 - x0, Math.max(1, y1 - y0 + 1), color);
      if (showValues) labels.push({ x: cx, y: v >= 0 ? y0 - 4 - CAP_HEIGHT * vs : y1 + 4, text: formatValue(v) });
    }
  });
  for (const l of labels) {
    const t = fitText(l.text, Math.max(barW + GAP, textWidth('n/a', vs)), vs);
    const y = Math.max(top + 2, Math.min(bottom - CAP_HEIGHT * vs - 2, l.y));
    drawText(layer, Math.round(l.x - textWidth(t, vs) / 2) - left, y - top, t, TEXT, vs);
  }
  canvas.blit(layer, left, top);
  if (lo < 0 && hi > 0) canvas.fillRect(left, zero, right - left, 1, AXIS);
  drawAxes(
    canvas,
    frame,
    xTicks.map((t) => ({ ...t, label: '' })),
    yTicks,
    text,
  );
  for (const t of xTicks) drawText(canvas, Math.round(t.px - textWidth(t.label, cs) / 2), bottom + 1 + TICK + GAP / 2, t.label, TEXT, cs);
  if (opts.legend ?? ns > 1) {
    const entries = opts.series.map((s, i) => ({
      name: s.name,
      color: s.color !== undefined ? toRgba(s.color) : seriesColor(i),
      kind: 'box' as const,
    }));
    drawLegend(canvas, frame, entries, fs, (x, y, w, h) => countInk(layer, x - left, y - top, w, h));
  }
  return canvas;
}
