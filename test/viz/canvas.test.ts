import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import pngjs from 'pngjs';
import { Canvas, toHex, toRgba } from '../../src/viz/index.js';

const { PNG } = pngjs;

function decode(bytes: Uint8Array): { width: number; height: number; data: Buffer } {
  return PNG.sync.read(Buffer.from(bytes));
}

function px(img: { width: number; data: Uint8Array }, x: number, y: number): number[] {
  const i = (y * img.width + x) * 4;
  return Array.from(img.data.subarray(i, i + 4));
}

test('toRgba parses tuples and hex strings; bad colours are named', () => {
  assert.deepEqual(toRgba([1, 2, 3]), [1, 2, 3, 255]);
  assert.deepEqual(toRgba([300, -4, 2.6, 10]), [255, 0, 3, 10]);
  assert.deepEqual(toRgba('#1f77b4'), [0x1f, 0x77, 0xb4, 255]);
  assert.deepEqual(toRgba('#abc'), [0xaa, 0xbb, 0xcc, 255]);
  assert.deepEqual(toRgba('#11223344'), [0x11, 0x22, 0x33, 0x44]);
  assert.equal(toHex([255, 0, 16]), '#ff0010');
  assert.throws(() => toRgba('red'), /"red"/);
  assert.throws(() => toRgba([1, 2] as unknown as [number, number, number]), /3 or 4 channels/);
  assert.throws(() => toRgba([Number.NaN, 0, 0]), /red channel/);
});

test('toPng decodes back to the same size and pixels (RGB and RGBA)', () => {
  const c = new Canvas(5, 3, '#102030');
  c.setPixel(0, 0, [255, 0, 0]);
  c.setPixel(4, 2, [0, 255, 0]);
  c.fillRect(1, 1, 2, 1, [0, 0, 255]);
  const png = decode(c.toPng());
  assert.equal(png.width, 5);
  assert.equal(png.height, 3);
  assert.deepEqual(Buffer.from(c.data), png.data);
  assert.deepEqual(px(png, 0, 0), [255, 0, 0, 255]);
  assert.deepEqual(px(png, 2, 1), [0, 0, 255, 255]);
  assert.deepEqual(px(png, 3, 1), [0x10, 0x20, 0x30, 255]);

  const t = new Canvas(2, 2, [0, 0, 0, 0]);
  t.setPixel(1, 0, [10, 20, 30, 128]);
  const tp = decode(t.toPng());
  assert.deepEqual(px(tp, 1, 0), [10, 20, 30, 128]);
  assert.equal(px(tp, 0, 0)[3], 0);
  assert.deepEqual(Canvas.fromPng(t.toPng()).data, t.data);
});

test('savePng / savePngSync write the PNG atomically (no temporary files left)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctfgen-viz-'));
  try {
    const c = new Canvas(4, 4, [9, 8, 7]);
    const file = path.join(dir, 'a.png');
    await c.savePng(file);
    c.setPixel(0, 0, [1, 2, 3]);
    c.savePngSync(path.join(dir, 'b.png'));
    assert.deepEqual(fs.readdirSync(dir).sort(), ['a.png', 'b.png']);
    assert.deepEqual(px(decode(fs.readFileSync(file)), 0, 0), [9, 8, 7, 255]);
    assert.deepEqual(px(decode(fs.readFileSync(path.join(dir, 'b.png'))), 0, 0), [1, 2, 3, 255]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('fillRect and strokeRect are clipped to the canvas; translucent fills blend', () => {
  const c = new Canvas(4, 4, [0, 0, 0]);
  c.fillRect(-2, -2, 4, 4, [255, 255, 255]);
  assert.deepEqual(c.getPixel(1, 1), [255, 255, 255, 255]);
  assert.deepEqual(c.getPixel(2, 2), [0, 0, 0, 255]);
  c.fillRect(2, 2, 10, 10, [255, 0, 0, 128]);
  assert.deepEqual(c.getPixel(3, 3), [128, 0, 0, 255]);
  const s = new Canvas(5, 5, [0, 0, 0]);
  s.strokeRect(0, 0, 5, 5, [255, 255, 255]);
  assert.deepEqual(s.getPixel(0, 2), [255, 255, 255, 255]);
  assert.deepEqual(s.getPixel(4, 4), [255, 255, 255, 255]);
  assert.deepEqual(s.getPixel(2, 2), [0, 0, 0, 255]);
  assert.throws(() => c.getPixel(4, 0), /outside the 4x4 canvas/);
});

test('line: Bresenham pixels with both ends, thickness, one blend per pixel', () => {
  const c = new Canvas(10, 10, [0, 0, 0]);
  c.line(1, 1, 8, 4, [255, 255, 255]);
  const on = (x: number, y: number): boolean => c.getPixel(x, y)[0] === 255;
  assert.ok(on(1, 1) && on(8, 4));
  let count = 0;
  for (let y = 0; y < 10; y++) for (let x = 0; x < 10; x++) if (on(x, y)) count++;
  assert.equal(count, 8, 'one pixel per column of a shallow line');
  for (let x = 1; x <= 8; x++) {
    const ys = [...Array(10).keys()].filter((y) => on(x, y));
    assert.equal(ys.length, 1);
    assert.ok(Math.abs(ys[0]! - (1 + ((x - 1) * 3) / 7)) <= 0.5 + 1e-9, `column ${x}`);
  }

  const t = new Canvas(20, 20, [0, 0, 0]);
  t.line(2, 10, 17, 10, [255, 255, 255], 3);
  const col = [...Array(20).keys()].filter((y) => t.getPixel(10, y)[0] === 255);
  assert.deepEqual(col, [9, 10, 11]);

  const a = new Canvas(20, 20, [0, 0, 0]);
  a.polyline(
    [
      [2, 2],
      [15, 9],
      [3, 17],
    ],
    [255, 255, 255, 128],
    4,
  );
  const seen = new Set<number>();
  for (let i = 0; i < a.data.length; i += 4) seen.add(a.data[i]!);
  assert.deepEqual(
    [...seen].sort((p, q) => p - q),
    [0, 128],
    'translucent thick polyline painted each pixel once',
  );

  const far = new Canvas(8, 8, [0, 0, 0]);
  far.line(-1e9, 4, 1e9, 4, [255, 0, 0]);
  for (let x = 0; x < 8; x++) assert.equal(far.getPixel(x, 4)[0], 255);
});

test('blit copies another image with nearest upscaling and clipping', () => {
  const src = Canvas.fromRgba(2, 1, [255, 0, 0, 255, 0, 0, 255, 255]);
  const c = new Canvas(6, 4, [0, 0, 0]);
  c.blit(src, 1, 1, { scale: 2 });
  assert.deepEqual(c.getPixel(1, 1), [255, 0, 0, 255]);
  assert.deepEqual(c.getPixel(2, 2), [255, 0, 0, 255]);
  assert.deepEqual(c.getPixel(3, 1), [0, 0, 255, 255]);
  assert.deepEqual(c.getPixel(4, 2), [0, 0, 255, 255]);
  assert.deepEqual(c.getPixel(5, 1), [0, 0, 0, 255]);
  assert.deepEqual(c.getPixel(1, 3), [0, 0, 0, 255]);
  c.blit(src, 5, -1, { scale: 3 }); // mostly off the canvas
  assert.deepEqual(c.getPixel(5, 0), [255, 0, 0, 255]);
  assert.deepEqual(c.getPixel(5, 1), [255, 0, 0, 255]);
  assert.throws(() => Canvas.fromRgba(2, 2, new Uint8Array(15)), /length 15, expected width·height·4 = 16/);
  assert.throws(() => new Canvas(0, 3), /positive integers, got 0x3/);
});
