// Settings are checked for meaning: fixed-set options refuse other values, an IDX label file cannot
// silently invent classes, the image pixel limit is a flag, and `sample --n` writes in bounded
// memory (streamed with --each) or refuses a grid above its limit, pointing at --each / --npz.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeIdx } from '../../src/data/idx.js';
import { openDataset } from '../../src/data/open.js';
import { greyPng } from '../data/helpers.js';
import { ctfgen, scratch, shippedCopy } from './helpers.js';

const shipped = shippedCopy('options');

test('every fixed-set string option refuses other values (--preset, --system, --cfg-schedule, --method)', () => {
  const invalid = (args: string[], flag: string) => {
    const r = ctfgen(args);
    assert.equal(r.status, 1, `ctfgen ${args.join(' ')} was accepted`);
    assert.match(r.stderr, new RegExp(`option '${flag} <[a-z]+>' argument '(bogus|constructor)' is invalid\\. expected one of `));
  };
  const run = ['--run', shipped.ctf];
  invalid(
    ['train', 'stage1', ...run, '--tokenizer', shipped.tokenizer, '--train-cache', 'c', '--clusters', 'k', '--preset', 'bogus'],
    '--preset',
  );
  invalid(['train', 'baseline', ...run, '--tokenizer', shipped.tokenizer, '--train-cache', 'c', '--preset', 'constructor'], '--preset');
  invalid(['tokenizer', 'train', '--out', 'x', '--preset', 'bogus'], '--preset');
  invalid(['sample', ...run, '--system', 'bogus'], '--system');
  invalid(['sample', ...run, '--cfg-schedule', 'bogus'], '--cfg-schedule');
  invalid(['eval', ...run, '--cfg-schedule', 'bogus'], '--cfg-schedule');
  invalid(['cluster', '--tokenizer', shipped.tokenizer, '--clusters', '4', '--method', 'bogus'], '--method');
  invalid(['analyze', 'redundancy', '--tokenizer', shipped.tokenizer, '--method', 'bogus'], '--method');
});

test('IDX labels: one stray label (250 among 0..9) does not make 251 classes; the class count can be given', () => {
  const dir = scratch('idx-labels');
  const n = 20;
  writeFileSync(join(dir, 'images'), encodeIdx('uint8', [n, 2, 2], new Uint8Array(n * 4)));
  const labels = Array.from({ length: n }, (_, i) => i % 10);
  labels[7] = 250;
  writeFileSync(join(dir, 'labels'), encodeIdx('uint8', [n], labels));
  const spec = `idx:${join(dir, 'images')},${join(dir, 'labels')}`;
  assert.throws(
    () => openDataset(spec),
    /labels run up to 250, but 240 of the classes 0\.\.250 have no images .* give the class count: idx:<images>,<labels>,<classes>/,
  );
  assert.throws(() => openDataset(`${spec},10`), /label 250 found but the class count is 10/);
  assert.equal(openDataset(`${spec},251`).numClasses, 251);
  assert.throws(
    () => openDataset(`${spec},zero`),
    /expected idx:<images file>,<labels file> or idx:<images file>,<labels file>,<class count>/,
  );
});

test('the pixel limit on dataset images is a flag (--max-pixels) and an environment variable', () => {
  const dir = scratch('pixels');
  mkdirSync(join(dir, 'a'));
  writeFileSync(join(dir, 'a', 'x.png'), greyPng(28, 28, 128));
  const args = ['tokenizer', 'eval', '--tokenizer', shipped.tokenizer, '--data', `folder:${dir}`];
  const flag = ctfgen(['--max-pixels', '500', ...args]);
  assert.equal(flag.status, 1);
  assert.match(flag.stderr, /x\.png declares 28x28 = 784 pixels, more than the limit of 500; raise it with --max-pixels/);
  const env = ctfgen(args, { env: { ...process.env, CTFGEN_MAX_PIXELS: '500' } });
  assert.match(env.stderr, /more than the limit of 500/);
  const ok = ctfgen(args);
  assert.equal(ok.status, 0, ok.stderr);
});

test('sample --n: a grid above --max-grid is refused at once, pointing at --each/--npz; --each streams the same images', () => {
  const dir = scratch('sample-n');
  // the issue: --n 100000000 was accepted and grew to 4.6 GB in 21 s
  const huge = ctfgen(['sample', '--run', shipped.ctf, '--class', '0', '--n', '100000000', '--out', join(dir, 'huge.png')]);
  assert.equal(huge.status, 1);
  assert.match(
    huge.stderr,
    /100000000 images make a grid above the limit of 1024 \(--max-grid.*\): write one PNG per image with --each <dir> \(streamed, for any --n\), or save arrays with --npz/,
  );
  assert.ok(huge.maxRssMiB < 640, `peak RSS ${huge.maxRssMiB.toFixed(0)} MiB`);
  // the same 10 images, written from a grid-sized run and streamed in batches of 3 with no grid
  const common = ['sample', '--run', shipped.ctf, '--class', 'all', '--n', '1', '--seed', '4'];
  const withGrid = ctfgen([...common, '--out', join(dir, 'grid.png'), '--each', join(dir, 'a')]);
  assert.equal(withGrid.status, 0, withGrid.stderr);
  const streamed = ctfgen([...common, '--out', join(dir, 'none.png'), '--each', join(dir, 'b'), '--max-grid', '5', '--batch-size', '3']);
  assert.equal(streamed.status, 0, streamed.stderr);
  assert.match(streamed.stdout, /no grid: 10 images are above --max-grid 5/);
  const files = readdirSync(join(dir, 'a')).sort();
  assert.equal(files.length, 10);
  assert.deepEqual(readdirSync(join(dir, 'b')).sort(), files);
  assert.ok(!readdirSync(dir).includes('none.png'));
  for (const f of files) assert.deepEqual(readFileSync(join(dir, 'b', f)), readFileSync(join(dir, 'a', f)), f);
});
