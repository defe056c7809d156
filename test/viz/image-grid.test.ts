import assert from 'node:assert/strict';
import { test } from 'node:test';
import pngjs from 'pngjs';
import { NAN_COLOR, imageGrid, imageGridLayout } from '../../src/viz/index.js';

const { PNG } = pngjs;

/** [-1, 1] value whose 0..255 byte is b. */
const v = (b: number): number => (b / 255) * 2 - 1;

function pixel(img: { width: number; data: Uint8Array }, x: number, y: number): number[] {
  const i = (y * img.width + x) * 4;
  return Array.from(img.data.subarray(i, i + 3));
}

test('grey grid: image k fills cell k (upscaled), padding stays background', () => {
  const [n, c, h, w] = [5, 1, 2, 3];
  const data = new Float32Array(n * c * h * w);
  // image k, pixel (y, x) has byte 10k + 3y + x (+ 100)
  for (let k = 0; k < n; k++)
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[k * h * w + y * w + x] = v(100 + 10 * k + 3 * y + x);
  const opts = { n, c, h, w, cols: 3, pad: 1, scale: 2, background: [0, 0, 0] as const };
  const grid = imageGrid(data, opts);
  const L = imageGridLayout(opts);
  assert.equal(grid.width, 1 + 3 * (3 * 2 + 1));
  assert.equal(grid.height, 1 + 2 * (2 * 2 + 1));
  const png = PNG.sync.read(Buffer.from(grid.toPng()));
  assert.equal(png.width, grid.width);
  assert.equal(png.height, grid.height);
  for (let k = 0; k < n; k++) {
    const cell = L.cell(k);
    assert.deepEqual(cell, { x: 1 + (k % 3) * 7, y: 1 + Math.floor(k / 3) * 5 });
    for (let y = 0; y < h * 2; y++) {
      for (let x = 0; x < w * 2; x++) {
        const b = 100 + 10 * k + 3 * Math.floor(y / 2) + Math.floor(x / 2);
        assert.deepEqual(pixel(png, cell.x + x, cell.y + y), [b, b, b], `image ${k} at (${x}, ${y})`);
      }
    }
  }
  assert.deepEqual(pixel(png, 0, 0), [0, 0, 0]);
  assert.deepEqual(pixel(png, 7, 2), [0, 0, 0], 'gap between cells');
  assert.deepEqual(pixel(png, 16, 7), [0, 0, 0], 'empty sixth cell');
});

test('RGB grid: channels land in R, G, B; values are clamped; NaN is magenta', () => {
  const [n, c, h, w] = [4, 3, 2, 2];
  const data = new Float32Array(n * c * h * w);
  const colors = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
    [40, 80, 120],
  ];
  for (let k = 0; k < n; k++) for (let ch = 0; ch < 3; ch++) data.fill(v(colors[k]![ch]!), (k * 3 + ch) * 4, (k * 3 + ch + 1) * 4);
  data[0] = 7; // image 0, red, pixel (0, 0): clamps to 255
  data[4] = -3; // image 0, green, pixel (0, 0): clamps to 0
  data[3 * 4 * 3 + 4 + 3] = Number.NaN; // image 3, green, pixel (1, 1)
  const opts = { n, c, h, w, cols: 2, pad: 2, scale: 3 };
  const grid = imageGrid(data, opts);
  const L = imageGridLayout(opts);
  for (let k = 0; k < n; k++) {
    const { x, y } = L.cell(k);
    assert.deepEqual(pixel(grid, x + 1, y + 1), colors[k], `image ${k}`);
    assert.deepEqual(pixel(grid, x + 5, y + 2), k === 3 ? [40, 80, 120] : colors[k]);
  }
  const { x, y } = L.cell(3);
  assert.deepEqual(pixel(grid, x + 4, y + 4), NAN_COLOR.slice(0, 3));
  assert.deepEqual(pixel(grid, 0, 0), [255, 255, 255]);
  // identical layout in [0, 1] range
  const g01 = imageGrid(
    data.map((t) => (t + 1) / 2),
    { ...opts, range: [0, 1] },
  );
  assert.deepEqual(pixel(g01, L.cell(3).x, L.cell(3).y), [40, 80, 120]);
});

test('labels and title make room and draw ink where they belong', () => {
  const [n, c, h, w] = [6, 3, 8, 8];
  const data = new Float32Array(n * c * h * w).fill(-1); // black images
  const plain = imageGridLayout({ n, c, h, w, cols: 3 });
  const opts = { n, c, h, w, rowLabels: ['cat', 'dog'], colLabels: ['original', 'same-cluster', 'random'], title: 'Redundancy' };
  const L = imageGridLayout(opts);
  assert.equal(L.cols, 3, 'cols from the number of row labels');
  assert.equal(L.scale, 8, 'small images are upscaled');
  assert.ok(L.cell(0).x > plain.cell(0).x && L.cell(0).y > plain.cell(0).y);
  const grid = imageGrid(data, opts);
  assert.equal(grid.width, L.width);
  assert.equal(grid.height, L.height);
  const inkIn = (x0: number, y0: number, x1: number, y1: number): number => {
    let k = 0;
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (grid.getPixel(x, y)[0] < 128) k++;
    return k;
  };
  const { x: gx, y: gy } = L.cell(0);
  assert.ok(inkIn(0, gy, gx - 2, gy + L.cellHeight) > 0, 'row label left of row 0');
  assert.ok(inkIn(0, L.cell(3).y, gx - 2, L.cell(3).y + L.cellHeight) > 0, 'row label left of row 1');
  for (let col = 0; col < 3; col++) {
    const cx = L.cell(col).x;
    assert.ok(inkIn(cx, gy - 40, cx + L.cellWidth, gy - 2) > 0, `column label ${col}`);
  }
  assert.ok(inkIn(0, 0, grid.width, 20) > 0, 'title');
  assert.equal(inkIn(0, grid.height - 4, grid.width, grid.height), 0, 'bottom margin');
});

test('bad shapes and options are named', () => {
  const data = new Float32Array(2 * 3 * 4 * 4);
  assert.throws(() => imageGrid(data, { n: 3, c: 3, h: 4, w: 4 }), /images has length 96, expected n·c·h·w = 3·3·4·4 = 144/);
  assert.throws(() => imageGrid(data, { n: 2, c: 2, h: 4, w: 4 }), /c \(channels\) must be 1 \(grey\) or 3 \(RGB\), got 2/);
  assert.throws(() => imageGrid(data, { n: 2, c: 3, h: 0, w: 4 }), /h must be a positive integer/);
  assert.throws(
    () => imageGrid(data, { n: 2, c: 3, h: 4, w: 4, cols: 2, rowLabels: ['a', 'b'] }),
    /rowLabels has 2 entries but the grid has 1 rows/,
  );
  assert.throws(
    () => imageGrid(data, { n: 2, c: 3, h: 4, w: 4, cols: 1, colLabels: ['a', 'b'] }),
    /colLabels has 2 entries but the grid has 1 columns/,
  );
  assert.throws(() => imageGrid(Array.from(data) as unknown as Float32Array, { n: 2, c: 3, h: 4, w: 4 }), /Float32Array/);
  assert.throws(() => imageGrid(data, { n: 2, c: 3, h: 4, w: 4, range: [1, 1] }), /range must be finite with lo < hi/);
});
