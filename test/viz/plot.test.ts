import assert from 'node:assert/strict';
import { test } from 'node:test';
import pngjs from 'pngjs';
import { PALETTE, type PlotCanvas, barPlot, formatTicks, formatValue, linePlot, logTicks, niceTicks } from '../../src/viz/index.js';

const { PNG } = pngjs;

function same(a: readonly number[], b: readonly number[]): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
}

/** Pixels of exactly this colour: count and whether all lie inside the plot area. */
function colourPixels(p: PlotCanvas, rgb: readonly number[]): { count: number; outside: number } {
  let count = 0;
  let outside = 0;
  const f = p.frame;
  for (let y = 0; y < p.height; y++) {
    for (let x = 0; x < p.width; x++) {
      if (!same(p.getPixel(x, y), rgb)) continue;
      count++;
      if (x < f.left || x >= f.right || y < f.top || y >= f.bottom) outside++;
    }
  }
  return { count, outside };
}

test('niceTicks, logTicks and formatTicks give round numbers', () => {
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0, 20000, 4), [0, 5000, 10000, 15000, 20000]);
  assert.deepEqual(niceTicks(2.13, 8.9, 6), [3, 4, 5, 6, 7, 8]);
  assert.deepEqual(niceTicks(-0.3, 0.3, 6), [-0.3, -0.2, -0.1, 0, 0.1, 0.2, 0.3]);
  assert.deepEqual(niceTicks(5, 5), [5]);
  assert.deepEqual(logTicks(1e-4, 1).major, [1e-4, 1e-3, 1e-2, 1e-1, 1]);
  assert.deepEqual(logTicks(1, 30).major, [1, 2, 5, 10, 20]);
  assert.deepEqual(formatTicks([0, 5000, 10000, 15000, 20000]), ['0', '5k', '10k', '15k', '20k']);
  assert.deepEqual(formatTicks([0, 0.25, 0.5]), ['0.00', '0.25', '0.50']);
  assert.deepEqual(formatTicks([2, 4, 6]), ['2', '4', '6']);
  assert.deepEqual(formatTicks([1e-4, 1e-3]), ['1e-4', '1e-3']);
  assert.deepEqual(formatTicks([0, 2e-4, 4e-4]), ['0', '2e-4', '4e-4']);
  assert.deepEqual(formatTicks([1e-4, 0.01, 1, 100, 1e4]), ['1e-4', '0.01', '1', '100', '10k']);
  assert.deepEqual(formatTicks([-0.1, 0, 0.1]), ['-0.1', '0.0', '0.1']);
  assert.equal(formatValue(8.7123), '8.71');
  assert.equal(formatValue(55.3), '55.3');
  assert.equal(formatValue(2000000), '2e6');
});

test('linePlot draws each series in its colour inside the plot area, with axes', () => {
  const x = Array.from({ length: 50 }, (_, i) => i * 100);
  const p = linePlot({
    series: [
      { name: 'loss', x, y: x.map((s) => 5 * Math.exp(-s / 1500) + 1), color: [200, 30, 30] },
      { name: 'val loss', x, y: x.map((s) => 5 * Math.exp(-s / 1500) + 1.5), color: '#1e50c8' },
    ],
    title: 'training',
    xLabel: 'step',
    yLabel: 'loss',
    width: 640,
    height: 400,
  });
  const png = PNG.sync.read(Buffer.from(p.toPng()));
  assert.equal(png.width, 640);
  assert.equal(png.height, 400);
  const f = p.frame;
  assert.ok(f.left > 30 && f.right < 640 && f.top > 20 && f.bottom < 400 - 30, JSON.stringify(f));
  for (const rgb of [
    [200, 30, 30],
    [30, 80, 200],
  ]) {
    const { count, outside } = colourPixels(p, rgb);
    assert.ok(count > 500, `series ${rgb} drew ${count} pixels`);
    assert.equal(outside, 0, `series ${rgb} stays inside the plot area`);
  }
  // a data point in the middle lands on its pixel
  assert.ok(same(p.getPixel(f.xToPx(2500), f.yToPx(5 * Math.exp(-2500 / 1500) + 1)), [200, 30, 30]));
  // the axes frame and the tick marks are drawn, the margins are background
  const axis = p.getPixel(f.left - 1, Math.round((f.top + f.bottom) / 2));
  assert.ok(axis[0] < 128, 'left axis');
  assert.ok(p.getPixel(Math.round((f.left + f.right) / 2), f.bottom)[0] < 128, 'bottom axis');
  assert.ok(same(p.getPixel(p.width - 1, p.height - 1), [255, 255, 255]));
  // text: tick labels left of the axis, title above the area
  let ink = 0;
  for (let y = f.top; y < f.bottom; y++) for (let x = 0; x < f.left - 6; x++) if (p.getPixel(x, y)[0] < 100) ink++;
  assert.ok(ink > 50, 'y tick labels and y label');
});

test('linePlot: NaN breaks a line, a lone point is a dot, default colours differ', () => {
  const p = linePlot({
    series: [
      { name: 'gappy', x: [0, 1, 2, 3, 4], y: [1, 1, Number.NaN, 1, 1] },
      { name: 'one', x: [2], y: [2] },
    ],
    width: 400,
    height: 300,
    markers: false,
  });
  const [c0, c1] = [PALETTE[0]!, PALETTE[1]!];
  assert.notDeepEqual(c0, c1);
  const f = p.frame;
  const y1 = f.yToPx(1);
  assert.ok(same(p.getPixel(f.xToPx(0.5), y1), c0), 'segment 0-1 drawn');
  assert.ok(same(p.getPixel(f.xToPx(3.5), y1), c0), 'segment 3-4 drawn');
  assert.ok(!same(p.getPixel(f.xToPx(2), y1), c0), 'no line across the NaN');
  assert.ok(!same(p.getPixel(f.xToPx(1.5), y1), c0));
  assert.ok(same(p.getPixel(f.xToPx(2), f.yToPx(2)), c1), 'single point drawn');
  assert.ok(same(p.getPixel(f.xToPx(2) + 2, f.yToPx(2)), c1), 'as a dot');

  const single = linePlot({ series: [{ name: 's', x: [7], y: [3] }], width: 300, height: 200 });
  assert.ok(same(single.getPixel(single.frame.xToPx(7), single.frame.yToPx(3)), PALETTE[0]!));
  const empty = linePlot({ series: [{ name: 'none', y: [Number.NaN] }], width: 300, height: 200 });
  assert.equal(colourPixels(empty, PALETTE[0]!).outside, 0);
});

test('linePlot: log axis, default x, and bad series are named', () => {
  const p = linePlot({ series: [{ name: 'l', y: [100, 10, 1, 0, -1] }], logY: true, width: 400, height: 300 });
  const f = p.frame;
  assert.ok(Math.abs(f.yToPx(10) - (f.yToPx(1) + f.yToPx(100)) / 2) <= 1, 'log spacing');
  assert.ok(same(p.getPixel(f.xToPx(1), f.yToPx(10)), PALETTE[0]!));
  assert.throws(
    () => linePlot({ series: [{ name: 'loss', x: [1, 2, 3], y: [1, 2] }] }),
    /series 0 \("loss"\) has 3 x values but 2 y values/,
  );
  assert.throws(() => linePlot({ series: [], width: 50, height: 50 }), /at least 120 x 100/);
  assert.throws(() => linePlot({ series: [], yRange: [1, 0] }), /yRange must be finite with lo < hi/);
});

test('barPlot draws grouped bars in series colours from zero', () => {
  const p = barPlot({
    categories: ['AR', 'CTF', 'random'],
    series: [
      { name: 'FID', values: [12, 8, Number.NaN] },
      { name: 'FID (cfg)', values: [10, 6, 30] },
    ],
    title: 'FID per method',
    yLabel: 'FID',
    width: 600,
    height: 400,
  });
  const f = p.frame;
  const [c0, c1] = [PALETTE[0]!, PALETTE[1]!];
  const groupW = (f.right - f.left) / 3;
  const barX = (cat: number, s: number): number => Math.round(f.left + cat * groupW + groupW * 0.1 + (s + 0.5) * groupW * 0.4);
  assert.ok(same(p.getPixel(barX(0, 0), f.yToPx(6)), c0));
  assert.ok(same(p.getPixel(barX(0, 1), f.yToPx(5)), c1));
  assert.ok(same(p.getPixel(barX(1, 0), f.yToPx(1)), c0));
  assert.ok(!same(p.getPixel(barX(1, 0), f.yToPx(9)), c0), 'bar ends at its value');
  assert.ok(same(p.getPixel(barX(2, 1), f.yToPx(25)), c1));
  assert.ok(!same(p.getPixel(barX(2, 0), f.yToPx(0) - 2), c0), 'no bar for NaN');
  assert.equal(colourPixels(p, c1).outside, 0);
  assert.throws(
    () => barPlot({ categories: ['a', 'b'], series: [{ name: 'x', values: [1] }] }),
    /series 0 \("x"\) has 1 values but there are 2 categories/,
  );
  assert.throws(() => barPlot({ categories: [], series: [] }), /categories is empty/);
});

test('a canvas too small for the axes text is a clear error in both plots', () => {
  assert.throws(
    () => linePlot({ series: [{ name: 's', y: [1, 2] }], width: 120, height: 100, title: 'T', fontScale: 6 }),
    /linePlot: 120 x 100 leaves no room/,
  );
  assert.throws(
    () => barPlot({ categories: ['a'], series: [{ name: 's', values: [1] }], width: 120, height: 100, title: 'T', fontScale: 6 }),
    /barPlot: 120 x 100 leaves no room/,
  );
});
