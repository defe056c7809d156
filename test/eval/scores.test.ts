// Inception score and improved precision/recall on constructed inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/data/rng.js';
import { inceptionScore, manifoldRadii, precisionRecall, softmaxRows } from '../../src/eval/index.js';
import * as T from '../../src/torch/index.js';
import { assertClose } from '../helpers.js';

function oneHot(labels: number[], k: number): Float32Array {
  const p = new Float32Array(labels.length * k);
  labels.forEach((l, i) => (p[i * k + l] = 1));
  return p;
}

test('IS of a perfectly confident classifier on balanced classes is the class count', () => {
  const k = 10;
  const is = inceptionScore(
    oneHot(
      Array.from({ length: 200 }, (_, i) => i % k),
      k,
    ),
    k,
    10,
  );
  assert.ok(Math.abs(is.mean - k) < 1e-9, `${is.mean}`);
  assert.ok(is.std < 1e-9);
  assert.equal(is.scores.length, 10);
});

test('IS is 1 for a constant prediction and for uniform predictions', () => {
  const k = 5;
  const constant = inceptionScore(oneHot(new Array(50).fill(2), k), k);
  assert.ok(Math.abs(constant.mean - 1) < 1e-12 && constant.std < 1e-12);
  const uniform = inceptionScore(new Float32Array(50 * k).fill(1 / k), k);
  assert.ok(Math.abs(uniform.mean - 1) < 1e-6);
});

test('IS lies between 1 and K for soft predictions and uses at most N splits', () => {
  const rng = new Rng(1);
  const k = 4;
  const probs = softmaxRows(
    Array.from({ length: 40 * k }, () => rng.normal(0, 2)),
    k,
  );
  for (let i = 0; i < 40; i++) assert.ok(Math.abs(probs.subarray(i * k, i * k + k).reduce((a, b) => a + b, 0) - 1) < 1e-12);
  const is = inceptionScore(probs, k, 10);
  assert.ok(is.mean > 1 && is.mean < k, `${is.mean}`);
  assert.equal(inceptionScore(probs.subarray(0, 3 * k), k, 10).scores.length, 3);
});

function points(rng: Rng, n: number, d: number, centre: number, spread = 1): Float32Array {
  return Float32Array.from({ length: n * d }, () => centre + rng.normal(0, spread));
}

test('precision and recall of a set against itself are 1', () => {
  const rng = new Rng(2);
  const f = points(rng, 300, 16, 0);
  const pr = precisionRecall({ data: f, dim: 16 }, { data: f, dim: 16 });
  assert.deepEqual(pr, { precision: 1, recall: 1 });
  // also in float64 arithmetic
  assert.deepEqual(precisionRecall({ data: f, dim: 16 }, { data: f, dim: 16 }, { dtype: 'float64' }), { precision: 1, recall: 1 });
});

test('precision and recall of disjoint far-apart sets are 0', () => {
  const rng = new Rng(3);
  const pr = precisionRecall({ data: points(rng, 100, 8, 0), dim: 8 }, { data: points(rng, 120, 8, 100), dim: 8 });
  assert.deepEqual(pr, { precision: 0, recall: 0 });
});

test('generated samples covering one of two real modes: precision 1, recall 1/2 (blocked = unblocked)', () => {
  const rng = new Rng(4);
  const a = points(rng, 100, 8, 0);
  const real = new Float32Array(200 * 8);
  real.set(a);
  real.set(points(rng, 100, 8, 50), a.length);
  for (const rowBatch of [7, 1000])
    for (const dtype of ['float32', 'float64'] as const) {
      const pr = precisionRecall({ data: real, dim: 8 }, { data: a, dim: 8 }, { rowBatch, dtype });
      assert.deepEqual(pr, { precision: 1, recall: 0.5 }, `rowBatch ${rowBatch} ${dtype}`);
    }
});

test('manifoldRadii: squared distance to the k-th other neighbour', () => {
  // points on a line at 0, 1, 3, 6, 10
  const x = T.tensor([[0], [1], [3], [6], [10]], 'float64');
  const r1 = manifoldRadii(x, 1, { rowBatch: 2 }).toArray();
  assertClose(r1, [1, 1, 4, 9, 16], 1e-12);
  const r3 = manifoldRadii(x, 3).toArray();
  assertClose(r3, [36, 25, 9, 25, 81], 1e-12);
  assert.throws(() => manifoldRadii(x, 5), /more than k/);
  x.dispose();
});
