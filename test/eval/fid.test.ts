// Feature statistics and the Fréchet distance; statistics files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/data/rng.js';
import {
  featureStats,
  frechetDistance,
  frechetTerms,
  loadStats,
  saveStats,
  statsCachePath,
  type FeatureStats,
} from '../../src/eval/index.js';
import { assertClose } from '../helpers.js';

const transpose = (a: Float64Array, m: number, n: number) =>
  Float64Array.from({ length: m * n }, (_, i) => a[(i % m) * n + Math.floor(i / m)]!);
/** Row-major product of an m×k and a k×n matrix. */
function matmul(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let l = 0; l < k; l++) for (let j = 0; j < n; j++) out[i * n + j] += a[i * k + l]! * b[l * n + j]!;
  return out;
}

/** B Bᵀ for a random n×r B: PSD of rank min(n, r). */
function randomPsd(rng: Rng, n: number, r: number): Float64Array {
  const b = Float64Array.from({ length: n * r }, () => rng.normal());
  return matmul(b, transpose(b, n, r), n, r, n);
}

/** n samples of N(mean, A Aᵀ) with A [d, d] (host RNG), as float32 rows. */
function gaussianSamples(rng: Rng, n: number, mean: number[], a: Float64Array): Float32Array {
  const d = mean.length;
  const out = new Float32Array(n * d);
  const z = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) z[j] = rng.normal();
    for (let r = 0; r < d; r++) {
      let v = mean[r]!;
      for (let c = 0; c < d; c++) v += a[r * d + c]! * z[c]!;
      out[i * d + r] = v;
    }
  }
  return out;
}

test('Fréchet distance matches closed forms (diagonal covariances; 2x2 trace formula)', () => {
  const a: FeatureStats = { n: 10, dim: 3, mean: Float64Array.from([0, 0, 0]), cov: Float64Array.from([1, 0, 0, 0, 4, 0, 0, 0, 0.25]) };
  const b: FeatureStats = { n: 10, dim: 3, mean: Float64Array.from([1, 2, 0]), cov: Float64Array.from([4, 0, 0, 0, 1, 0, 0, 0, 0]) };
  // ‖Δμ‖² + Σ (√a − √b)² = 5 + 1 + 1 + 0.25
  assert.ok(Math.abs(frechetDistance(a, b) - 7.25) < 1e-12);
  // for 2x2 PSD M: tr sqrt(M) = sqrt(tr M + 2 sqrt(det M)), with M ~ Σ1 Σ2
  const rng = new Rng(3);
  for (let trial = 0; trial < 5; trial++) {
    const s1 = randomPsd(rng, 2, 3);
    const s2 = randomPsd(rng, 2, 3);
    const det = (m: Float64Array) => m[0]! * m[3]! - m[1]! * m[2]!;
    const p = matmul(s1, s2, 2, 2, 2);
    const trSqrt = Math.sqrt(p[0]! + p[3]! + 2 * Math.sqrt(det(s1) * det(s2)));
    const t = frechetTerms({ n: 2, dim: 2, mean: new Float64Array(2), cov: s1 }, { n: 2, dim: 2, mean: new Float64Array(2), cov: s2 });
    assert.ok(Math.abs(t.traceSqrt - trSqrt) < 1e-12 * trSqrt, `${t.traceSqrt} vs ${trSqrt}`);
  }
});

test('FID of a feature set against itself is 0 (relative 1e-6), also with rank-deficient covariance', () => {
  const rng = new Rng(4);
  const d = 32;
  const mix = Float64Array.from({ length: d * d }, () => rng.normal() / 4);
  for (const n of [1000, 20]) {
    const f = gaussianSamples(
      rng,
      n,
      Array.from({ length: d }, (_, i) => i / 10),
      mix,
    );
    const s = featureStats({ data: f, dim: d });
    let tr = 0;
    for (let i = 0; i < d; i++) tr += s.cov[i * d + i]!;
    const fid = frechetDistance(s, s);
    assert.ok(fid >= 0 && fid < 1e-6 * tr, `n ${n}: FID ${fid} vs tr Σ ${tr}`);
  }
});

test('featureStats: float64 mean and unbiased covariance', () => {
  const s = featureStats({ data: Float32Array.from([1, 2, 3, 6, 5, 10]), dim: 2 });
  assertClose(s.mean, [3, 6], 1e-12);
  assertClose(s.cov, [4, 8, 8, 16], 1e-12);
  assert.equal(s.n, 3);
});

test('FID between halves of one Gaussian is small and stable across seeds, far below different Gaussians', () => {
  const d = 8;
  const n = 4000;
  const rng0 = new Rng(5);
  const mix = Float64Array.from({ length: d * d }, (_, i) => (i % (d + 1) === 0 ? 1 : 0) + rng0.normal() * 0.3);
  const mean = Array.from({ length: d }, () => 0);
  const same: number[] = [];
  const different: number[] = [];
  for (let seed = 0; seed < 4; seed++) {
    const rng = new Rng(100 + seed);
    const f = gaussianSamples(rng, n, mean, mix);
    const h1 = featureStats({ data: f.subarray(0, (n / 2) * d), dim: d });
    const h2 = featureStats({ data: f.subarray((n / 2) * d), dim: d });
    same.push(frechetDistance(h1, h2));
    const shifted = gaussianSamples(
      rng,
      n / 2,
      mean.map(() => 0.5),
      mix.map((v) => v * 1.5),
    );
    different.push(frechetDistance(h1, featureStats({ data: shifted, dim: d })));
  }
  const maxSame = Math.max(...same);
  const minSame = Math.min(...same);
  assert.ok(maxSame < 0.1, `same-distribution FIDs ${same}`);
  assert.ok(maxSame < 4 * minSame, `unstable across seeds: ${same}`);
  assert.ok(Math.min(...different) > 20 * maxSame, `different ${different} vs same ${same}`);
});

test('saveStats / loadStats round trip (with features); cache paths differ by classifier and dataset', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctfgen-eval-'));
  try {
    const f = Float32Array.from({ length: 40 }, (_, i) => Math.sin(i));
    const s = featureStats({ data: f, dim: 4 });
    const path = statsCachePath(dir, 'abc123', 'fashion-mnist:test');
    await saveStats(path, s, { classifierId: 'abc123', dataset: 'fashion-mnist:test' }, f);
    const r = await loadStats(path);
    assert.deepEqual(Array.from(r.stats.mean), Array.from(s.mean));
    assert.deepEqual(Array.from(r.stats.cov), Array.from(s.cov));
    assert.deepEqual(Array.from(r.features!), Array.from(f));
    assert.equal(r.meta.classifierId, 'abc123');
    assert.equal(r.meta.n, 10);
    assert.notEqual(statsCachePath(dir, 'abc123', 'fashion-mnist:train'), path);
    assert.notEqual(statsCachePath(dir, 'abc124', 'fashion-mnist:test'), path);
    assert.notEqual(statsCachePath(dir, 'abc123', 'fashion-mnist:test', 100), path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
