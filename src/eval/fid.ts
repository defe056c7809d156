// Fréchet distance between Gaussians fitted to feature sets (FID with ctfgen's feature network):
//   FID = ‖μ1 − μ2‖² + tr Σ1 + tr Σ2 − 2 tr sqrt(Σ1^{1/2} Σ2 Σ1^{1/2})
// Statistics are computed in float64 (two-pass: mean, then centred products). Only the trace of the
// square root is needed, so it is the sum of the square roots of the eigenvalues of the symmetric
// PSD form Σ1^{1/2} Σ2 Σ1^{1/2} (pytorch-fid's scipy sqrtm(Σ1 Σ2) has the same eigenvalues but
// computes a whole non-symmetric square root), found in LAPACK through libtorch (traceSqrtProduct):
// several times faster than scipy.linalg.sqrtm at 2048-d and equal to it within round-off
// (bench/sqrtm.ts).
// Reference statistics of a dataset split are cached in one safetensors file per
// (classifier id, dataset) with saveStats/loadStats.
import { join } from 'node:path';
import { loadCheckpoint, saveCheckpoint, type RawTensor } from '../io/index.js';
import { Tensor, cholesky, eigh, eigvalsh, fromArray, noGrad, tidy } from '../torch/index.js';
import { contentId } from '../util/content-id.js';
import { symmetrize, trace } from './linalg.js';

export interface FeatureStats {
  /** number of samples */
  n: number;
  /** feature dimension F */
  dim: number;
  /** [F] */
  mean: Float64Array;
  /** [F, F] row-major, unbiased (divides by n − 1) */
  cov: Float64Array;
}

/** Features as a Tensor [N, F], or a flat typed array with its feature dimension. */
export type FeatureInput = Tensor | { data: Float32Array | Float64Array; dim: number };

function asTensor64(f: FeatureInput): Tensor {
  if (!(f instanceof Tensor)) {
    const { data, dim } = f;
    if (!Number.isInteger(dim) || dim <= 0 || data.length % dim !== 0)
      throw new RangeError(`features: ${data.length} values are not rows of ${dim}`);
    return fromArray(data, [data.length / dim, dim], 'float64');
  }
  const t = f;
  if (t.ndim !== 2) throw new RangeError(`features: expected [N, F], got [${t.shape.join(', ')}]`);
  return t.to('float64');
}

/** Mean and covariance (float64) of features [N, F]; N ≥ 2. */
export function featureStats(features: FeatureInput): FeatureStats {
  return noGrad(() =>
    tidy(() => {
      const x = asTensor64(features);
      const [n, dim] = x.shape as [number, number];
      if (n < 2) throw new RangeError(`featureStats: need at least 2 samples, got ${n}`);
      const mu = x.mean(0, true);
      const xc = x.sub(mu);
      const cov = xc
        .transpose(0, 1)
        .matmul(xc)
        .div(n - 1);
      return {
        n,
        dim,
        mean: mu.reshape(dim).data() as Float64Array,
        cov: symmetrize(cov.contiguous().data() as Float64Array, dim),
      };
    }),
  );
}

export interface FrechetTerms {
  fid: number;
  /** ‖μ1 − μ2‖² */
  meanTerm: number;
  /** tr Σ1 + tr Σ2 − 2 tr sqrt(Σ1^{1/2} Σ2 Σ1^{1/2}) */
  covTerm: number;
  /** tr sqrt(Σ1^{1/2} Σ2 Σ1^{1/2}) */
  traceSqrt: number;
}

/** tr sqrt(Σ1^{1/2} Σ2 Σ1^{1/2}) of two d×d covariances (row-major float64), in LAPACK. */
export function traceSqrtProduct(cov1: Float64Array, cov2: Float64Array, d: number): number {
  // The eigenvalues of Σ1^{1/2} Σ2 Σ1^{1/2} (those of Σ1 Σ2) are those of any congruent
  // symmetric PSD Mᵀ Σ2 M with M Mᵀ = Σ1. M = L, the Cholesky factor, when Σ1 is positive
  // definite (half the time of an eigen-decomposition); otherwise M = V diag(√λ) from Σ1's
  // eigen-decomposition, where null directions of Σ1 give exactly zero rows. Negative round-off
  // eigenvalues count as 0.
  return noGrad(() =>
    tidy(() => {
      const s1 = fromArray(cov1, [d, d], 'float64');
      let m = cholesky(s1);
      if (!m) {
        const { values, vectors } = eigh(s1);
        m = vectors.mul(values.clamp(0, null).sqrt().unsqueeze(0));
      }
      const w = m
        .transpose(0, 1)
        .matmul(fromArray(cov2, [d, d], 'float64'))
        .matmul(m);
      return eigvalsh(w).clamp(0, null).sqrt().sum().item() as number;
    }),
  );
}

/** The Fréchet distance and its parts. Round-off negatives (|x| tiny next to the traces) become 0. */
export function frechetTerms(a: FeatureStats, b: FeatureStats): FrechetTerms {
  const d = a.dim;
  if (b.dim !== d) throw new RangeError(`frechetDistance: feature dimensions differ (${a.dim} vs ${b.dim})`);
  let meanTerm = 0;
  for (let i = 0; i < d; i++) meanTerm += (a.mean[i]! - b.mean[i]!) ** 2;
  const traceSqrt = traceSqrtProduct(a.cov, b.cov, d);
  const tr1 = trace(a.cov, d);
  const tr2 = trace(b.cov, d);
  let covTerm = tr1 + tr2 - 2 * traceSqrt;
  const tol = 1e-6 * (tr1 + tr2);
  if (covTerm < 0) {
    if (covTerm < -tol)
      throw new Error(`frechetDistance: covariance term ${covTerm} is negative beyond round-off (are the covariances PSD?)`);
    covTerm = 0;
  }
  return { fid: meanTerm + covTerm, meanTerm, covTerm, traceSqrt };
}

export function frechetDistance(a: FeatureStats, b: FeatureStats): number {
  return frechetTerms(a, b).fid;
}

// ---- reference statistics files ----

export interface StatsMeta {
  kind: 'feature-stats';
  /** id of the feature network (see classifierId) */
  classifierId: string;
  /** dataset spec the features came from */
  dataset: string;
  n: number;
  dim: number;
  [extra: string]: unknown;
}

export interface ReferenceStats {
  stats: FeatureStats;
  /** the features themselves [n, dim] (for precision/recall and KID), when saved */
  features: Float32Array | null;
  /** statistics of the spatial features (sFID), when the network has them */
  spatial: FeatureStats | null;
  meta: StatsMeta;
}

const raw = (dtype: 'float32' | 'float64', shape: number[], a: Float32Array | Float64Array): RawTensor => ({
  dtype,
  shape,
  data: new Uint8Array(a.buffer, a.byteOffset, a.byteLength),
});

/** Writes statistics (optionally the features and the spatial statistics) atomically. */
export async function saveStats(
  path: string,
  stats: FeatureStats,
  meta: { classifierId: string; dataset: string; [extra: string]: unknown },
  features?: Float32Array | null,
  spatial?: FeatureStats | null,
): Promise<void> {
  const d = stats.dim;
  const tensors = new Map<string, RawTensor>([
    ['mu', raw('float64', [d], stats.mean)],
    ['sigma', raw('float64', [d, d], stats.cov)],
  ]);
  if (features) {
    if (features.length !== stats.n * d) throw new RangeError(`saveStats: ${features.length} feature values for ${stats.n} x ${d}`);
    tensors.set('features', raw('float32', [stats.n, d], features));
  }
  if (spatial) {
    tensors.set('mu_s', raw('float64', [spatial.dim], spatial.mean));
    tensors.set('sigma_s', raw('float64', [spatial.dim, spatial.dim], spatial.cov));
  }
  const full: StatsMeta = { ...meta, kind: 'feature-stats', n: stats.n, dim: d };
  await saveCheckpoint(path, tensors, full);
}

function copyOut(r: RawTensor | undefined, dtype: 'float32' | 'float64', path: string, name: string): Float32Array | Float64Array {
  if (!r || r.dtype !== dtype) throw new Error(`${path}: statistics file lacks a ${dtype} tensor "${name}"`);
  const bytes = r.data.slice(); // aligned copy
  return dtype === 'float64' ? new Float64Array(bytes.buffer) : new Float32Array(bytes.buffer);
}

export async function loadStats(path: string): Promise<ReferenceStats> {
  const { tensors, meta } = await loadCheckpoint(path);
  if (meta.kind !== 'feature-stats') throw new Error(`${path}: not a feature statistics file (kind ${JSON.stringify(meta.kind)})`);
  const m = meta as StatsMeta;
  const mean = copyOut(tensors.get('mu'), 'float64', path, 'mu') as Float64Array;
  const cov = copyOut(tensors.get('sigma'), 'float64', path, 'sigma') as Float64Array;
  if (mean.length !== m.dim || cov.length !== m.dim * m.dim) throw new Error(`${path}: statistics shapes do not match dim ${m.dim}`);
  const features = tensors.has('features') ? (copyOut(tensors.get('features'), 'float32', path, 'features') as Float32Array) : null;
  let spatial: FeatureStats | null = null;
  if (tensors.has('mu_s')) {
    const ms = copyOut(tensors.get('mu_s'), 'float64', path, 'mu_s') as Float64Array;
    spatial = { n: m.n, dim: ms.length, mean: ms, cov: copyOut(tensors.get('sigma_s'), 'float64', path, 'sigma_s') as Float64Array };
  }
  return { stats: { n: m.n, dim: m.dim, mean, cov }, features, spatial, meta: m };
}

/** The cache file of a (classifier, dataset[, limit]) pair under `dir`. */
export function statsCachePath(dir: string, classifierId: string, dataset: string, limit?: number): string {
  const key = limit === undefined ? dataset : `${dataset}#${limit}`;
  const slug = key.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60);
  return join(dir, `stats-${classifierId}-${slug}-${contentId(new TextEncoder().encode(key)).slice(0, 6)}.safetensors`);
}
