// Kernel Inception Distance (Bińkowski et al. 2018) as torch-fidelity and clean-fid compute it: the
// unbiased estimate of MMD² with the cubic polynomial kernel k(x, y) = (x·y / d + 1)³,
//   MMD² = Σ_{i≠j} k(x_i, x_j) / m(m−1) + Σ_{i≠j} k(y_i, y_j) / m(m−1) − 2 Σ_{i,j} k(x_i, y_j) / m²,
// over `subsets` subsets of m = `subsetSize` rows drawn without replacement from each set (defaults
// 100 × 1000; m is clamped to the smaller set, as clean-fid does, where torch-fidelity refuses), and
// reported as the mean and the (population) standard deviation over subsets, as torch-fidelity
// reports them. Arithmetic in float64. Subsets come from ctfgen's seeded RNG (data/rng.ts), so the
// draws are not numpy's: KID values agree with those tools in expectation, not digit for digit.
// A set no larger than m enters every subset whole, so its within-set sum is computed once (and
// when both are, the MMD is).
import { Rng } from '../data/rng.js';
import { fromArray, noGrad, tidy, type Tensor } from '../torch/index.js';

export interface KidOptions {
  /** number of subsets (default 100) */
  subsets?: number;
  /** rows per subset (default 1000; clamped to the smaller set) */
  subsetSize?: number;
  /** seed of the subset draws (default 0) */
  seed?: number;
}

export interface Kid {
  mean: number;
  std: number;
  subsets: number;
  subsetSize: number;
}

const SUBSET_KEY = 0x4b49_4453; // "KIDS"

/** The row indices of each subset: `real[s]` and `fake[s]`, m each. */
export function kidSubsets(nReal: number, nFake: number, o: KidOptions = {}): { real: Int32Array[]; fake: Int32Array[]; m: number } {
  const subsets = o.subsets ?? 100;
  const m = Math.min(o.subsetSize ?? 1000, nReal, nFake);
  if (!Number.isInteger(subsets) || subsets < 1) throw new RangeError(`KID: subsets must be a positive integer, got ${subsets}`);
  if (m < 2) throw new RangeError(`KID: need at least 2 samples in each set (got ${nReal} and ${nFake})`);
  const rng = new Rng(o.seed ?? 0, SUBSET_KEY);
  const real: Int32Array[] = [];
  const fake: Int32Array[] = [];
  for (let s = 0; s < subsets; s++) {
    real.push(rng.permutation(nReal).slice(0, m));
    fake.push(rng.permutation(nFake).slice(0, m));
  }
  return { real, fake, m };
}

const kernel = (a: Tensor, b: Tensor, d: number) => a.matmul(b.transpose(0, 1)).div(d).add(1).pow(3);

/** Σ_{i≠j} k(a_i, a_j): the whole kernel sum less the diagonal k(a_i, a_i) = (‖a_i‖² / d + 1)³. */
function offDiagonalSum(a: Tensor): number {
  const d = a.size(1);
  return tidy(() => (kernel(a, a, d).sum().item() as number) - (a.square().sum(1).div(d).add(1).pow(3).sum().item() as number));
}

/**
 * Unbiased MMD² of two equally sized float64 sets x, y [m, d] under (x·y / d + 1)³. `known` holds
 * within-set sums already computed (they do not depend on the order of the rows).
 */
export function mmd2Unbiased(x: Tensor, y: Tensor, known: { xx?: number; yy?: number } = {}): number {
  return noGrad(() =>
    tidy(() => {
      const [m, d] = x.shape as [number, number];
      const xx = known.xx ?? offDiagonalSum(x);
      const yy = known.yy ?? offDiagonalSum(y);
      const xy = kernel(x, y, d).sum().item() as number;
      return (xx + yy) / (m * (m - 1)) - (2 * xy) / (m * m);
    }),
  );
}

/** KID of generated features against real features (flat float arrays of rows of `dim`). */
export function kernelInceptionDistance(
  real: { data: Float32Array | Float64Array; dim: number },
  fake: { data: Float32Array | Float64Array; dim: number },
  o: KidOptions = {},
): Kid {
  const d = real.dim;
  if (fake.dim !== d) throw new RangeError(`KID: feature dimensions differ (${real.dim} vs ${fake.dim})`);
  const nReal = real.data.length / d;
  const nFake = fake.data.length / d;
  const { real: ri, fake: fi, m } = kidSubsets(nReal, nFake, o);
  return noGrad(() =>
    tidy(() => {
      const r = fromArray(real.data, [nReal, d], 'float64');
      const f = fromArray(fake.data, [nFake, d], 'float64');
      // a subset that is a whole set has that set's within-set sum, whatever its order
      const known = { xx: m === nReal ? offDiagonalSum(r) : undefined, yy: m === nFake ? offDiagonalSum(f) : undefined };
      const pick = (t: Tensor, idx: Int32Array) => t.indexSelect(0, fromArray(idx, [m], 'int64'));
      const mmds =
        known.xx !== undefined && known.yy !== undefined
          ? [mmd2Unbiased(r, f, known)]
          : ri.map((idx, s) => tidy(() => mmd2Unbiased(pick(r, idx), pick(f, fi[s]!), known)));
      const mean = mmds.reduce((a, b) => a + b, 0) / mmds.length;
      const std = Math.sqrt(mmds.reduce((a, b) => a + (b - mean) ** 2, 0) / mmds.length);
      return { mean, std, subsets: ri.length, subsetSize: m };
    }),
  );
}
