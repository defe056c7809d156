// The README's main command: the shipped Fashion-MNIST models sample a grid with no training.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { readFileSync } from 'node:fs';
import { packageRoot } from '../../src/util/package-root.js';
import { sampleCommand } from '../../src/cli/sample-cmd.js';
import { loadRun } from '../../src/run/load-run.js';
import { resolveClass } from '../../src/sample/images.js';

const shipped = join(packageRoot, 'models', 'fashion-mnist', 'ctf');

test('shipped CTF models sample a labelled grid; bad classes and counts are clear errors', async (t) => {
  if (!existsSync(join(shipped, 'run.json'))) return t.skip('no shipped models in models/fashion-mnist/ctf');
  const out = join(mkdtempSync(join(tmpdir(), 'ctf-demo-')), 'grid.png');
  const flags = { seed: 1, stage2Restrict: true, maxGrid: 1024 };
  await sampleCommand({ run: shipped, class: 'Sneaker', n: 2, out, ...flags });
  const png = PNG.sync.read(readFileSync(out));
  assert.ok(png.width > 64 && png.height > 64);
  await assert.rejects(sampleCommand({ run: shipped, class: 'Spaceship', n: 2, out, ...flags }), /unknown class 'Spaceship'.*Sneaker/);
  await assert.rejects(sampleCommand({ run: shipped, class: '0', n: 0, out, ...flags }), /--n must be a positive integer/);
  const run = await loadRun(shipped);
  assert.equal(run.kind, 'ctf');
  assert.equal(resolveClass('sneaker', run.info.classNames), run.info.classNames.indexOf('Sneaker'));
  assert.throws(() => resolveClass('12', run.info.classNames), /out of range/);
  run.dispose();
  await assert.rejects(loadRun(join(tmpdir(), 'no-such-run')), /not a ctfgen run folder/);
});
