import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { batchShape, subset, U8ImageDataset, type ImageDataset, type ImageSample } from '../../src/data/dataset.js';
import { fixtureDataset } from '../../src/data/fixture.js';
import { batches, epochOrder, flipDecision, infiniteBatches, numBatches } from '../../src/data/loader.js';
import { compose } from '../../src/data/transforms.js';

/** n samples of 1x2x3, sample i filled with value i, label i % 3. */
function toy(n: number): U8ImageDataset {
  const pixels = new Uint8Array(n * 6);
  for (let i = 0; i < n; i++) pixels.fill(i, i * 6, i * 6 + 6);
  return new U8ImageDataset({
    name: 'toy',
    classNames: ['a', 'b', 'c'],
    channels: 1,
    height: 2,
    width: 3,
    pixels,
    labels: Int32Array.from({ length: n }, (_, i) => i % 3),
  });
}

function collect(ds: ImageDataset, opts: Parameters<typeof batches>[1]): number[] {
  const seen: number[] = [];
  for (const b of batches(ds, opts)) seen.push(...b.indices);
  return seen;
}

describe('loader', () => {
  test('every index exactly once per epoch (shuffled, uneven last batch)', () => {
    const ds = toy(103);
    for (const batchSize of [1, 7, 32, 103, 500]) {
      for (const epoch of [0, 1, 2]) {
        const seen = collect(ds, { batchSize, seed: 5, epoch });
        assert.equal(seen.length, 103);
        assert.deepEqual(
          [...seen].sort((a, b) => a - b),
          Array.from({ length: 103 }, (_, i) => i),
          `bs ${batchSize}`,
        );
      }
    }
  });

  test('batch sizes, dropLast, numBatches', () => {
    const ds = toy(10);
    assert.deepEqual(
      [...batches(ds, { batchSize: 4 })].map((b) => b.n),
      [4, 4, 2],
    );
    assert.deepEqual(
      [...batches(ds, { batchSize: 4, dropLast: true })].map((b) => b.n),
      [4, 4],
    );
    assert.equal(numBatches(10, 4), 3);
    assert.equal(numBatches(10, 4, true), 2);
    assert.throws(() => numBatches(10, 0), /positive integer/);
    assert.equal(collect(ds, { batchSize: 4, dropLast: true }).length, 8);
  });

  test('order: seeded, per-epoch, reproducible; shuffle false is sequential', () => {
    const ds = toy(50);
    const a = collect(ds, { batchSize: 8, seed: 1, epoch: 0 });
    assert.deepEqual(collect(ds, { batchSize: 8, seed: 1, epoch: 0 }), a);
    assert.deepEqual(collect(ds, { batchSize: 13, seed: 1, epoch: 0 }), a); // batch size does not change the order
    assert.notDeepEqual(collect(ds, { batchSize: 8, seed: 1, epoch: 1 }), a);
    assert.notDeepEqual(collect(ds, { batchSize: 8, seed: 2, epoch: 0 }), a);
    assert.deepEqual(
      collect(ds, { batchSize: 8, shuffle: false }),
      Array.from({ length: 50 }, (_, i) => i),
    );
    assert.deepEqual(Array.from(epochOrder(50, { seed: 1, epoch: 0 })), a);
  });

  test('contents: labels, values in [-1, 1], shape from the transform', () => {
    const ds = toy(20);
    for (const b of batches(ds, { batchSize: 6, seed: 3, transform: { pad: { height: 4, width: 5 } } })) {
      assert.deepEqual(batchShape(b), [b.n, 1, 4, 5]);
      assert.equal(b.images.length, b.n * 20);
      for (let k = 0; k < b.n; k++) {
        const i = b.indices[k];
        assert.equal(b.labels[k], i % 3);
        const img = b.images.subarray(k * 20, (k + 1) * 20);
        // centre 2x3 block = i/127.5 - 1, border = -1
        for (let y = 0; y < 4; y++)
          for (let x = 0; x < 5; x++) {
            const inside = y >= 1 && y < 3 && x >= 1 && x < 4;
            assert.ok(Math.abs(img[y * 5 + x] - (inside ? i / 127.5 - 1 : -1)) < 1e-6);
          }
      }
    }
  });

  test('flips are seeded per (seed, epoch, index), independent of batch size', () => {
    const ds = fixtureDataset();
    const flipsBy = (batchSize: number, epoch: number) => {
      const m = new Map<number, number>();
      for (const b of batches(ds, { batchSize, seed: 9, epoch, transform: { hflip: 0.5 } })) {
        b.indices.forEach((idx, k) => m.set(idx, b.flipped[k]));
      }
      return m;
    };
    const a = flipsBy(32, 0);
    assert.deepEqual(flipsBy(7, 0), a);
    assert.notDeepEqual(flipsBy(32, 1), a);
    const nFlipped = [...a.values()].filter((v) => v === 1).length;
    assert.ok(nFlipped > 100 && nFlipped < 200, `flipped ${nFlipped}/300`);
    // flipped samples really are mirrored
    const pipe = compose({}, { channels: 1, height: 28, width: 28 });
    for (const b of batches(ds, { batchSize: 50, seed: 9, transform: { hflip: 0.5 } })) {
      for (let k = 0; k < b.n; k++) {
        const ref = new Float32Array(784);
        pipe.apply(ds.getU8(b.indices[k]), ref, 0, b.flipped[k] === 1);
        assert.deepEqual(b.images.subarray(k * 784, (k + 1) * 784), ref);
      }
    }
    assert.equal(flipDecision(1, 2, 3, 0), false);
    assert.equal(flipDecision(1, 2, 3, 1), true);
  });

  test('startBatch resumes mid-epoch with the same batches', () => {
    const ds = toy(40);
    const all = [...batches(ds, { batchSize: 6, seed: 4, transform: { hflip: 0.5 } })];
    const tail = [...batches(ds, { batchSize: 6, seed: 4, transform: { hflip: 0.5 }, startBatch: 4 })];
    assert.equal(tail.length, all.length - 4);
    tail.forEach((b, i) => assert.deepEqual(b, all[i + 4]));
  });

  test('reuseBuffers reuses one buffer; default allocates per batch', () => {
    const ds = toy(24);
    const reused = [...batches(ds, { batchSize: 8, reuseBuffers: true })];
    assert.equal(reused[0].images, reused[1].images);
    const fresh = [...batches(ds, { batchSize: 8 })];
    assert.notEqual(fresh[0].images, fresh[1].images);
  });

  test('datasets without getU8 use get() (floats in [0, 1])', () => {
    const plain: ImageDataset = {
      name: 'plain',
      length: 5,
      numClasses: 5,
      classNames: ['0', '1', '2', '3', '4'],
      height: 1,
      width: 2,
      channels: 1,
      get: (i: number): ImageSample => ({ image: Float32Array.from([0, i / 4]), label: i }),
      labelAt: (i: number) => i,
    };
    const [b] = [...batches(plain, { batchSize: 5, shuffle: false })];
    assert.deepEqual(Array.from(b.images), [-1, -1, -1, -0.5, -1, 0, -1, 0.5, -1, 1]);
    assert.deepEqual(Array.from(b.labels), [0, 1, 2, 3, 4]);
    const s = subset(plain, [4, 0]);
    assert.deepEqual(Array.from(s.pixels), [0, 255, 0, 0]);
  });

  test('a compiled pipeline must match the dataset shape', () => {
    const p = compose({}, { channels: 1, height: 28, width: 28 });
    assert.throws(() => [...batches(toy(3), { batchSize: 2, transform: p })], /compiled for 1x28x28 .* toy has 1x2x3/);
  });

  test('infiniteBatches crosses epochs', () => {
    const ds = toy(10);
    const it = infiniteBatches(ds, { batchSize: 4, seed: 1 });
    const got = Array.from({ length: 7 }, () => it.next().value as { epoch: number; batch: number });
    assert.deepEqual(
      got.map((g) => [g.epoch, g.batch]),
      [
        [0, 0],
        [0, 1],
        [0, 2],
        [1, 0],
        [1, 1],
        [1, 2],
        [2, 0],
      ],
    );
  });
});
