/**
 * Image grids: a batch of images [N, C, H, W] (values in [-1, 1] by default) laid out in
 * rows and columns, upscaled by whole pixels, with optional row labels on the left, column
 * labels on top and a title above. Used for sample grids (one row per class),
 * reconstruction grids (originals above reconstructions) and comparison figures (original |
 * same-cluster | other-cluster | random).
 *
 * Values are mapped linearly from `range` to 0..255 and clamped; a non-finite value (NaN,
 * ±Infinity) is drawn as a magenta pixel so that broken samples are visible, not hidden.
 */
import { Canvas, type ColorInput, type Rgba, toRgba } from './canvas.js';
import { CAP_HEIGHT, GLYPH_ADVANCE, GLYPH_WIDTH, LINE_HEIGHT, drawText, fitText, textHeight, textWidth, wrapText } from './font.js';

/** The colour of non-finite values. */
export const NAN_COLOR: Rgba = [255, 0, 255, 255];

export interface ImageShape {
  /** number of images */
  n: number;
  /** channels: 1 (grey) or 3 (RGB) */
  c: number;
  /** height in pixels */
  h: number;
  /** width in pixels */
  w: number;
}

export interface ImageGridOptions extends ImageShape {
  /** columns (default: the number of images per row label when rowLabels are given, else ceil(sqrt(n))) */
  cols?: number;
  /** pixels between cells and around the grid (default 2) */
  pad?: number;
  /** nearest-neighbour upscaling factor (default: about 96 px per cell, 1..8) */
  scale?: number;
  /** one label per row, drawn to the left of the row (may be fewer than the rows) */
  rowLabels?: readonly string[];
  /** one label per column, drawn above the column (may be fewer than the columns) */
  colLabels?: readonly string[];
  /** a title above everything */
  title?: string;
  /** the value range mapped to 0..255 (default [-1, 1]) */
  range?: readonly [number, number];
  /** background and padding colour (default white) */
  background?: ColorInput;
  /** text colour (default near-black) */
  textColor?: ColorInput;
  /** font scale of the labels (default 2) */
  labelScale?: number;
  /** font scale of the title (default 2) */
  titleScale?: number;
}

/** Where everything of a grid goes; all in canvas pixels. */
export interface ImageGridLayout {
  width: number;
  height: number;
  rows: number;
  cols: number;
  /** size of one upscaled image */
  cellWidth: number;
  cellHeight: number;
  /** horizontal distance between neighbouring cells (pad, or more to make room for column labels) */
  colGap: number;
  scale: number;
  /** column labels as drawn: one font scale for all, each label broken into lines */
  colLabelScale: number;
  colLabelLines: string[][];
  /** top-left corner of image k */
  cell(k: number): { x: number; y: number };
}

const TEXT_GAP = 8;
const MARGIN = 8;

function positiveInt(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw new RangeError(`imageGrid: ${name} must be a positive integer, got ${String(v)}`);
  return v;
}

function checkShape(o: ImageShape): void {
  positiveInt(o.n, 'n');
  positiveInt(o.h, 'h');
  positiveInt(o.w, 'w');
  if (o.c !== 1 && o.c !== 3) throw new RangeError(`imageGrid: c (channels) must be 1 (grey) or 3 (RGB), got ${String(o.c)}`);
}

/** Computes the layout of imageGrid(…, opts) without drawing (validates the options). */
export function imageGridLayout(opts: ImageGridOptions): ImageGridLayout {
  checkShape(opts);
  const { n, h, w } = opts;
  const nRowLabels = opts.rowLabels?.length ?? 0;
  const cols =
    opts.cols !== undefined ? positiveInt(opts.cols, 'cols') : nRowLabels > 0 ? Math.ceil(n / nRowLabels) : Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  const scale = opts.scale !== undefined ? positiveInt(opts.scale, 'scale') : Math.max(1, Math.min(8, Math.floor(96 / Math.max(h, w))));
  const pad = opts.pad ?? 2;
  if (!Number.isInteger(pad) || pad < 0) throw new RangeError(`imageGrid: pad must be a non-negative integer, got ${pad}`);
  if (nRowLabels > rows)
    throw new RangeError(`imageGrid: rowLabels has ${nRowLabels} entries but the grid has ${rows} rows (n=${n}, cols=${cols})`);
  const nColLabels = opts.colLabels?.length ?? 0;
  if (nColLabels > cols) throw new RangeError(`imageGrid: colLabels has ${nColLabels} entries but the grid has ${cols} columns`);
  const ls = positiveInt(opts.labelScale ?? 2, 'labelScale');
  const ts = positiveInt(opts.titleScale ?? 2, 'titleScale');

  const cellWidth = w * scale;
  const cellHeight = h * scale;
  const hasText = nRowLabels > 0 || nColLabels > 0 || !!opts.title;
  const margin = hasText ? MARGIN : 0;
  const rowLabelW = nRowLabels > 0 ? Math.max(...opts.rowLabels!.map((l) => textWidth(l, ls))) + TEXT_GAP : 0;
  // Columns move apart a little (up to a quarter cell) when that lets the labels keep their
  // scale, or fit on one line: the smallest widening that does the best of the two.
  let colGap = pad;
  let plan = planColLabels(opts.colLabels ?? [], cellWidth + pad, ls);
  if (nColLabels > 0 && (plan.scale !== ls || plan.nLines > 1)) {
    let best: { gap: number; plan: typeof plan } | null = null;
    for (let extra = 1; extra <= Math.floor(cellWidth / 4); extra++) {
      const p = planColLabels(opts.colLabels!, cellWidth + pad + extra, ls);
      if (p.scale !== ls) continue;
      if (!best || p.nLines < best.plan.nLines) best = { gap: pad + extra, plan: p };
      if (p.nLines === 1) break;
    }
    if (best && (best.plan.scale !== plan.scale || best.plan.nLines < plan.nLines)) [plan, colGap] = [best.plan, best.gap];
  }
  const colLabelH = nColLabels > 0 ? plan.nLines * LINE_HEIGHT * plan.scale + TEXT_GAP : 0;
  const titleH = opts.title ? textHeight(opts.title, ts) + TEXT_GAP + 2 : 0;
  const gridW = cols * (cellWidth + colGap) - colGap + 2 * pad;
  const gridH = rows * (cellHeight + pad) + pad;
  // Column labels wider than a cell hang over its sides; keep them on the canvas.
  const overhang = Math.ceil(Math.max(0, ...plan.lines.flat().map((l) => (textWidth(l, plan.scale) - cellWidth) / 2 - pad)));
  const x0 = margin + Math.max(rowLabelW, overhang);
  const y0 = margin + titleH + colLabelH;
  const width = Math.max(x0 + gridW + margin + overhang, opts.title ? textWidth(opts.title, ts) + 2 * MARGIN : 0);
  const height = y0 + gridH + margin;
  return {
    width,
    height,
    rows,
    cols,
    cellWidth,
    cellHeight,
    colGap,
    scale,
    colLabelScale: plan.scale,
    colLabelLines: plan.lines,
    cell(k: number) {
      if (!Number.isInteger(k) || k < 0 || k >= n) throw new RangeError(`imageGridLayout.cell: index ${k} is outside 0..${n - 1}`);
      const r = Math.floor(k / cols);
      const c = k % cols;
      return { x: x0 + pad + c * (cellWidth + colGap), y: y0 + pad + r * (cellHeight + pad) };
    },
  };
}

/**
 * Column labels at the label scale, wrapped onto at most two lines; when one does not fit
 * that way, all drop to scale 1 (wrapped, and shortened with '..' as a last resort).
 * `pitch` is the distance between column centres; neighbouring labels keep a space apart.
 */
function planColLabels(labels: readonly string[], pitch: number, ls: number): { scale: number; lines: string[][]; nLines: number } {
  const at = (s: number, shorten: boolean): string[][] | null => {
    const room = Math.max(pitch - GLYPH_ADVANCE * s, GLYPH_WIDTH * s);
    const out: string[][] = [];
    for (const l of labels) {
      const w = wrapText(l, room, s, 2) ?? (shorten ? [fitText(l, room, s)] : null);
      if (!w) return null;
      out.push(w);
    }
    return out;
  };
  let scale = ls;
  let lines = at(ls, false);
  if (!lines) {
    scale = 1;
    lines = at(1, true)!;
  }
  return { scale, lines, nLines: Math.max(1, ...lines.map((l) => l.length)) };
}

/** Converts image k of a [N, C, H, W] batch to a canvas (no scaling). */
export function imageToCanvas(images: Float32Array, shape: ImageShape, k: number, range: readonly [number, number] = [-1, 1]): Canvas {
  checkData(images, shape);
  const { n, c, h, w } = shape;
  if (!Number.isInteger(k) || k < 0 || k >= n) throw new RangeError(`imageToCanvas: index ${k} is outside 0..${n - 1}`);
  const [lo, hi] = range;
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && hi > lo))
    throw new RangeError(`imageGrid: range must be finite with lo < hi, got [${lo}, ${hi}]`);
  const k255 = 255 / (hi - lo);
  const out = new Canvas(w, h);
  const d = out.data;
  const plane = h * w;
  const base = k * c * plane;
  for (let p = 0; p < plane; p++) {
    let nonFinite = false;
    for (let ch = 0; ch < 3; ch++) {
      const v = images[base + (c === 1 ? 0 : ch) * plane + p]!;
      if (!Number.isFinite(v)) nonFinite = true;
      d[p * 4 + ch] = Math.max(0, Math.min(255, Math.round((v - lo) * k255)));
    }
    if (nonFinite) d.set(NAN_COLOR, p * 4);
  }
  return out;
}

function checkData(images: Float32Array, shape: ImageShape): void {
  checkShape(shape);
  if (!(images instanceof Float32Array)) throw new TypeError('imageGrid: images must be a Float32Array laid out [N, C, H, W]');
  const expect = shape.n * shape.c * shape.h * shape.w;
  if (images.length !== expect) {
    throw new RangeError(
      `imageGrid: images has length ${images.length}, expected n·c·h·w = ${shape.n}·${shape.c}·${shape.h}·${shape.w} = ${expect}`,
    );
  }
}

/** Draws the batch as a labelled grid; see the module comment and ImageGridOptions. */
export function imageGrid(images: Float32Array, opts: ImageGridOptions): Canvas {
  checkData(images, opts);
  const L = imageGridLayout(opts);
  const range = opts.range ?? [-1, 1];
  const bg = toRgba(opts.background ?? [255, 255, 255]);
  const fg = opts.textColor ?? [25, 25, 25];
  const ls = opts.labelScale ?? 2;
  const ts = opts.titleScale ?? 2;
  const canvas = new Canvas(L.width, L.height, bg);

  for (let k = 0; k < opts.n; k++) {
    const { x, y } = L.cell(k);
    canvas.blit(imageToCanvas(images, opts, k, range), x, y, { scale: L.scale, replace: true });
  }

  if (opts.title) {
    const first = L.cell(0);
    const gridLeft = first.x;
    const gridRight = L.cell(Math.min(opts.n, L.cols) - 1).x + L.cellWidth;
    const tw = textWidth(opts.title, ts);
    // Centred over the grid when it fits there, else over the canvas.
    let tx = Math.round((gridLeft + gridRight - tw) / 2);
    if (tx < MARGIN || tx + tw > L.width - MARGIN) tx = Math.round((L.width - tw) / 2);
    drawText(canvas, tx, MARGIN, opts.title, fg, ts);
  }

  const pad = opts.pad ?? 2;
  const gridTop = L.cell(0).y - pad;
  if (opts.colLabels?.length) {
    // Lines bottom-aligned: the last line's baseline TEXT_GAP plus descender room above the grid.
    const s = L.colLabelScale;
    const lastBaseline = gridTop - TEXT_GAP - 2 * s;
    L.colLabelLines.forEach((lines, c) => {
      const cx = L.cell(0).x + c * (L.cellWidth + L.colGap) + L.cellWidth / 2;
      lines.forEach((text, i) => {
        const baseline = lastBaseline - (lines.length - 1 - i) * LINE_HEIGHT * s;
        drawText(canvas, Math.round(cx - textWidth(text, s) / 2), baseline - CAP_HEIGHT * s, text, fg, s);
      });
    });
  }

  if (opts.rowLabels?.length) {
    opts.rowLabels.forEach((label, r) => {
      const { x, y } = L.cell(r * L.cols);
      const tw = textWidth(label, ls);
      // Right-aligned against the grid, capitals centred on the row.
      const ty = Math.round(y + L.cellHeight / 2 - (CAP_HEIGHT * ls) / 2);
      drawText(canvas, x - TEXT_GAP - tw, ty, label, fg, ls);
    });
  }
  return canvas;
}
