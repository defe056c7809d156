// The matrix square root behind FID at Inception's 2048 features: ours (the trace of
// sqrt(Σ1^{1/2} Σ2 Σ1^{1/2}) from symmetric LAPACK problems, src/eval/fid.ts) against
// scipy.linalg.sqrtm(Σ1 Σ2) as pytorch-fid and the ADM evaluator call it, on the same matrices:
// covariances of n synthetic ReLU features (Inception's pool features are non-negative) of two
// slightly different distributions. Prints seconds and FIDs of both and their relative difference.
// Run: npx tsc -p tsconfig.json && node dist/bench/sqrtm.js [n=10000] [dim=2048]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../src/data/rng.js';
import { featureStats, frechetTerms, type FeatureStats } from '../src/eval/index.js';
import { writeNpz } from '../src/io/index.js';
import { runPythonBench } from './python.js';

const n = Number(process.argv[2] ?? 10000);
const dim = Number(process.argv[3] ?? 2048);
const rng = new Rng(0);

const r = 64;
const mixing = Float32Array.from({ length: r * dim }, () => rng.normal() / Math.sqrt(r));

/** n rows of relu(z A + shift + noise): low-rank-plus-diagonal covariance, as float32. */
function features(shift: number): Float32Array {
  const a = mixing;
  const out = new Float32Array(n * dim);
  const z = new Float32Array(r);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < r; k++) z[k] = rng.normal();
    for (let j = 0; j < dim; j++) {
      let v = shift + 0.5 * rng.normal();
      for (let k = 0; k < r; k++) v += z[k]! * a[k * dim + j]!;
      out[i * dim + j] = Math.max(0, v);
    }
  }
  return out;
}

const t0 = performance.now();
const s1 = featureStats({ data: features(0), dim });
const s2 = featureStats({ data: features(0.05), dim });
console.log(`statistics of 2 x ${n} x ${dim} features: ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const dir = mkdtempSync(join(tmpdir(), 'ctfgen-sqrtm-'));
try {
  const path = join(dir, 'pair.npz');
  const arr = (name: string, s: FeatureStats, which: 'mean' | 'cov') =>
    ({ name, dtype: 'float64', shape: which === 'mean' ? [dim] : [dim, dim], data: s[which] }) as const;
  await writeNpz(path, [arr('mu1', s1, 'mean'), arr('sigma1', s1, 'cov'), arr('mu2', s2, 'mean'), arr('sigma2', s2, 'cov')]);
  const times: number[] = [];
  let fid = NaN;
  for (let rep = 0; rep < 3; rep++) {
    const t = performance.now();
    fid = frechetTerms(s1, s2).fid;
    times.push((performance.now() - t) / 1000);
  }
  const ours = times.sort((a, b) => a - b)[1]!;
  const ref = runPythonBench<Record<string, { seconds: number; fid: number }>>('sqrtm_ref.py', [path])?.[path];
  console.log(`ours  (LAPACK: Cholesky or eigh, eigvalsh): ${ours.toFixed(2)} s (median of 3), FID ${fid.toPrecision(12)}`);
  if (ref) {
    console.log(`scipy (linalg.sqrtm of Σ1 Σ2):            ${ref.seconds.toFixed(2)} s, FID ${ref.fid.toPrecision(12)}`);
    console.log(
      `speed-up ${(ref.seconds / ours).toFixed(2)}x; relative FID difference ${(Math.abs(fid - ref.fid) / ref.fid).toExponential(2)}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
