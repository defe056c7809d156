import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CAP_HEIGHT,
  Canvas,
  GLYPH_ADVANCE,
  drawText,
  fitText,
  glyphBitmap,
  hasGlyph,
  textHeight,
  textWidth,
  wrapText,
} from '../../src/viz/index.js';

/** Bounding box of non-background pixels, or null. */
function inkBox(c: Canvas): { x0: number; y0: number; x1: number; y1: number; count: number } | null {
  let box = null as { x0: number; y0: number; x1: number; y1: number; count: number } | null;
  for (let y = 0; y < c.height; y++) {
    for (let x = 0; x < c.width; x++) {
      if (c.getPixel(x, y)[0] === 255) continue;
      if (!box) box = { x0: x, y0: y, x1: x, y1: y, count: 0 };
      box.x0 = Math.min(box.x0, x);
      box.y0 = Math.min(box.y0, y);
      box.x1 = Math.max(box.x1, x);
      box.y1 = Math.max(box.y1, y);
      box.count++;
    }
  }
  return box;
}

test('every printable ASCII character has its own glyph', () => {
  const seen = new Map<string, string>();
  for (let code = 32; code <= 126; code++) {
    const ch = String.fromCharCode(code);
    assert.ok(hasGlyph(ch), `glyph for ${JSON.stringify(ch)}`);
    const key = JSON.stringify(glyphBitmap(ch));
    if (ch !== ' ') assert.ok(key.includes('true'), `${JSON.stringify(ch)} has ink`);
    assert.ok(!seen.has(key), `${JSON.stringify(ch)} looks like ${JSON.stringify(seen.get(key))}`);
    seen.set(key, ch);
  }
  assert.ok(!hasGlyph('\u4e2d'));
});

test('text renders ink inside textWidth x textHeight, and only there', () => {
  for (const scale of [1, 2, 3]) {
    for (const text of ['Hello, world!', 'gjpqy_|', 'loss=2.5e-3 (val) [50%] <ok>?', 'two\nlines']) {
      const c = new Canvas(400, 120);
      const w = drawText(c, 10, 7, text, [0, 0, 0], scale);
      assert.equal(w, textWidth(text, scale));
      const box = inkBox(c);
      assert.ok(box, `${text} drew something`);
      assert.ok(box.x0 >= 10 && box.x1 < 10 + textWidth(text, scale), `${text} x-extent ${box.x0}..${box.x1}`);
      assert.ok(box.y0 >= 7 && box.y1 < 7 + textHeight(text, scale), `${text} y-extent ${box.y0}..${box.y1}`);
    }
  }
  assert.equal(textWidth('', 2), 0);
  assert.equal(textWidth('ab', 1), 2 * GLYPH_ADVANCE - 1);
  assert.equal(textWidth('ab', 3), 3 * textWidth('ab', 1));
  assert.equal(textWidth('abc\nx', 1), textWidth('abc', 1));
  assert.throws(() => textWidth('a', 1.5), /positive integer/);
});

test('a glyph is drawn as its bitmap, each bit a scale x scale block', () => {
  const c = new Canvas(20, 30);
  drawText(c, 2, 3, 'A', [0, 0, 0], 2);
  const g = glyphBitmap('A');
  for (let r = 0; r < g.length; r++) {
    for (let col = 0; col < 5; col++) {
      for (const [dx, dy] of [
        [0, 0],
        [1, 1],
      ]) {
        const ink = c.getPixel(2 + col * 2 + dx!, 3 + r * 2 + dy!)[0] === 0;
        assert.equal(ink, g[r]![col], `row ${r} col ${col}`);
      }
    }
  }
});

test('descenders go below the baseline; capitals sit on it', () => {
  const cap = new Canvas(20, 20);
  drawText(cap, 0, 0, 'H', [0, 0, 0]);
  assert.equal(inkBox(cap)!.y1, CAP_HEIGHT - 1);
  const low = new Canvas(20, 20);
  drawText(low, 0, 0, 'g', [0, 0, 0]);
  assert.ok(inkBox(low)!.y1 > CAP_HEIGHT - 1);
});

test("text turned 'up' fills a textHeight-wide, textWidth-tall box", () => {
  const c = new Canvas(100, 200);
  drawText(c, 20, 30, 'Loss', [0, 0, 0], 2, 'up');
  const box = inkBox(c)!;
  assert.ok(box.x0 >= 20 && box.x1 < 20 + textHeight('Loss', 2));
  assert.ok(box.y0 >= 30 && box.y1 < 30 + textWidth('Loss', 2));
  // 'L' turned counter-clockwise: its stem runs along the bottom, its foot up the right side.
  const l = new Canvas(20, 20);
  drawText(l, 3, 4, 'L', [0, 0, 0], 1, 'up');
  const ink = (x: number, y: number): boolean => l.getPixel(x, y)[0] === 0;
  for (let x = 3; x < 3 + CAP_HEIGHT; x++) assert.ok(ink(x, 4 + 4), `stem at x=${x}`);
  for (let y = 4; y < 4 + 5; y++) assert.ok(ink(3 + CAP_HEIGHT - 1, y), `foot at y=${y}`);
  assert.ok(!ink(3, 4), 'top-left is empty');
});

test('fitText and wrapText keep text inside a width', () => {
  assert.equal(fitText('short', 100, 1), 'short');
  const t = fitText('a rather long label', 60, 1);
  assert.ok(t.endsWith('..') && textWidth(t, 1) <= 60);
  assert.deepEqual(wrapText('other-cluster', 60, 1), ['other-cluster'.slice(0, 6), 'cluster']);
  assert.deepEqual(wrapText('two words', 200, 1), ['two words']);
  assert.equal(wrapText('unbreakable', 20, 1), null);
  assert.equal(wrapText('a b c d', textWidth('a', 1), 1, 2), null);
});
