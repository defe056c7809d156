// FID and KID against numpy/scipy on the same feature sets (Debian python3-numpy, python3-scipy):
// FID as pytorch-fid and the ADM evaluator compute it (np.cov, scipy.linalg.sqrtm of Σ1 Σ2), KID
// as torch-fidelity's mmd2 on the very subsets ours drew. Both within 1e-6 relative.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/data/rng.js';
import { featureStats, frechetDistance, kernelInceptionDistance, kidSubsets } from '../../src/eval/index.js';
import { writeNpz } from '../../src/io/index.js';

const PYTHON = process.env.CTFGEN_PYTHON ?? '/usr/bin/python3';

const REFERENCE = `
import sys, json, numpy as np
from scipy import linalg
z = np.load(sys.argv[1])
a, b = z['a'].astype(np.float64), z['b'].astype(np.float64)
def fid(x, y):
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    d = mu1 - mu2
    return float(d.dot(d) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean.real))
def mmd2(f1, f2):  # torch-fidelity's kid mmd2, polynomial kernel degree 3, gamma 1/d, coef0 1
    d = f1.shape[1]
    k = lambda x, y: (x @ y.T / d + 1) ** 3
    kxx, kyy, kxy = k(f1, f1), k(f2, f2), k(f1, f2)
    m = kxx.shape[0]
    return ((kxx.sum() - np.trace(kxx)) + (kyy.sum() - np.trace(kyy))) / (m * (m - 1)) - 2 * kxy.sum() / (m * m)
out = {'fid': fid(a, b), 'kid': []}
for name in ['sub', 'whole', 'part']:
    ri, fi, y = z[name + '_real'], z[name + '_fake'], (a if name == 'whole' else b)
    mmds = np.array([mmd2(a[r], y[f]) for r, f in zip(ri, fi)])
    out['kid'].append([float(mmds.mean()), float(mmds.std())])
print(json.dumps(out))
`;

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

test('FID and KID of two feature sets equal numpy/scipy (torch-fidelity formulas) within 1e-6 relative', async () => {
  const rng = new Rng(11);
  const d = 48;
  const gen = (n: number, shift: number) =>
    Float32Array.from({ length: n * d }, (_, i) => Math.max(0, rng.normal(shift * ((i % d) / d), 1 + ((i % 5) - 2) * 0.1)));
  const a = gen(900, 0);
  const b = gen(700, 0.3);
  const sub = kidSubsets(900, 700, { subsets: 8, subsetSize: 300, seed: 3 });
  const whole = kidSubsets(900, 900, { subsetSize: 2000 });
  const part = kidSubsets(900, 700, { subsets: 4, subsetSize: 1000, seed: 9 }); // m = 700: every fake subset is the whole set
  const stack = (xs: Int32Array[]) => {
    const out = new Int32Array(xs.length * xs[0]!.length);
    xs.forEach((x, i) => out.set(x, i * x.length));
    return { shape: [xs.length, xs[0]!.length], data: out };
  };
  const dir = mkdtempSync(join(tmpdir(), 'ctfgen-kid-'));
  try {
    const path = join(dir, 'features.npz');
    const idx = (name: string, xs: Int32Array[]) => ({ name, dtype: 'int32' as const, ...stack(xs) });
    await writeNpz(path, [
      { name: 'a', dtype: 'float32', shape: [900, d], data: a },
      { name: 'b', dtype: 'float32', shape: [700, d], data: b },
      idx('sub_real', sub.real),
      idx('sub_fake', sub.fake),
      // the whole-set case compares a with itself shuffled: every subset is the whole set
      idx('whole_real', whole.real.slice(0, 1)),
      idx('whole_fake', whole.fake.slice(0, 1)),
      idx('part_real', part.real),
      idx('part_fake', part.fake),
    ]);
    const ref = JSON.parse(execFileSync(PYTHON, ['-c', REFERENCE, path], { encoding: 'utf8' })) as { fid: number; kid: [number, number][] };

    const fid = frechetDistance(featureStats({ data: a, dim: d }), featureStats({ data: b, dim: d }));
    assert.ok(rel(fid, ref.fid) < 1e-6, `FID ${fid} vs scipy ${ref.fid}`);

    const kid = kernelInceptionDistance({ data: a, dim: d }, { data: b, dim: d }, { subsets: 8, subsetSize: 300, seed: 3 });
    assert.equal(kid.subsetSize, 300);
    assert.ok(rel(kid.mean, ref.kid[0]![0]) < 1e-6, `KID ${kid.mean} vs numpy ${ref.kid[0]![0]}`);
    assert.ok(rel(kid.std, ref.kid[0]![1]) < 1e-6, `KID std ${kid.std} vs numpy ${ref.kid[0]![1]}`);
    assert.ok(kid.std > 0);

    const partial = kernelInceptionDistance({ data: a, dim: d }, { data: b, dim: d }, { subsets: 4, subsetSize: 1000, seed: 9 });
    assert.equal(partial.subsetSize, 700);
    assert.ok(
      rel(partial.mean, ref.kid[2]![0]) < 1e-6 && rel(partial.std, ref.kid[2]![1]) < 1e-6,
      `KID ${JSON.stringify(partial)} vs ${ref.kid[2]}`,
    );

    // m clamped to the sets' size (clean-fid's rule): one MMD of the whole sets, std 0
    const same = kernelInceptionDistance({ data: a, dim: d }, { data: a, dim: d }, { subsetSize: 2000 });
    assert.deepEqual([same.subsetSize, same.std], [900, 0]);
    assert.ok(Math.abs(same.mean - ref.kid[1]![0]) < 1e-6 * Math.abs(kid.mean), `KID(A, A) ${same.mean} vs numpy ${ref.kid[1]![0]}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('KID refuses sets of fewer than 2 samples and bad subset counts', () => {
  const x = { data: new Float32Array(8), dim: 4 };
  assert.throws(() => kernelInceptionDistance(x, { data: new Float32Array(4), dim: 4 }), /at least 2 samples in each set/);
  assert.throws(() => kernelInceptionDistance(x, x, { subsets: 0 }), /subsets must be a positive integer/);
  assert.throws(() => kernelInceptionDistance(x, { data: new Float32Array(6), dim: 3 }), /feature dimensions differ/);
});
