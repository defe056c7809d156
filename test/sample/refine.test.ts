// Stage 2 over given coarse maps, in batches: the batch size bounds memory and changes no draw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadRun } from '../../src/run/load-run.js';
import { refineImages } from '../../src/sample/edit.js';
import { shippedPath } from '../../src/util/package-root.js';

const dir = shippedPath('models/fashion-mnist/ctf');

test(
  'refineImages: batches of 3 draw exactly what one pass draws; bad input named',
  { skip: !existsSync(join(dir, 'run.json')) && 'no shipped models' },
  async () => {
    const run = await loadRun(dir, 'ctf');
    try {
      const m = run.models;
      if (m.kind !== 'ctf') throw new Error('not a CTF run');
      const n = 7;
      const L = 64;
      const coarse = Int32Array.from({ length: n * L }, (_, i) => (i * 7) % m.clusters.k);
      const classes = Array.from({ length: n }, (_, i) => i % 10);
      const whole = refineImages(run, { classes, coarse, seed: 4, firstIndex: 2 });
      const batched = refineImages(run, { classes, coarse, seed: 4, firstIndex: 2, batchSize: 3 });
      assert.deepEqual(batched.tokens, whole.tokens);
      assert.deepEqual(batched.images, whole.images);
      assert.deepEqual(batched.shape, [n, 1, 32, 32]);
      assert.throws(() => refineImages(run, { classes, coarse, batchSize: 0 }), /batchSize must be a positive integer, got 0/);
      assert.throws(() => refineImages(run, { classes: [0, 1, 2, 3, 4, 12, 0], coarse, batchSize: 3 }), /class 12 \(image 5\) is outside/);
    } finally {
      run.dispose();
    }
  },
);
