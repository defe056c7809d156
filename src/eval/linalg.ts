// Dense float64 linear algebra for small symmetric matrices (n ≤ a few hundred), row-major
// Float64Arrays: a cyclic Jacobi eigen-solver, the square root of a PSD matrix, products.
// Jacobi is slower than tridiagonal QR but simple and accurate: every rotation is orthogonal,
// the matrix stays exactly symmetric, and small eigenvalues keep good relative accuracy.

export interface SymmetricEigen {
  /** eigenvalues, descending */
  values: Float64Array;
  /** row-major n×n: row i is the unit eigenvector of values[i] (null when not asked for) */
  vectors: Float64Array | null;
  /** Jacobi sweeps used */
  sweeps: number;
}

function checkSquare(a: ArrayLike<number>, n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || a.length !== n * n)
    throw new RangeError(`${what}: expected ${n}x${n} = ${n * n} values, got ${a.length}`);
}

/**
 * Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations. Only the upper triangle is
 * trusted to be symmetric with the lower one; the input is not modified. A rotation is skipped once
 * its off-diagonal entry is negligible next to both diagonal entries (Numerical Recipes' test),
 * and the solver stops after a sweep with no rotation.
 */
export function symmetricEigen(a: ArrayLike<number>, n: number, opts: { vectors?: boolean; maxSweeps?: number } = {}): SymmetricEigen {
  checkSquare(a, n, 'symmetricEigen');
  const wantVectors = opts.vectors ?? true;
  const maxSweeps = opts.maxSweeps ?? 100;
  const m = Float64Array.from(a);
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const v = m[i * n + j]!;
      if (!Number.isFinite(v)) throw new RangeError(`symmetricEigen: non-finite entry at (${i}, ${j})`);
      m[j * n + i] = v;
    }
  // vt: row i = i-th eigenvector (the rotations act on rows, so updates stay contiguous)
  const vt = wantVectors ? new Float64Array(n * n) : null;
  if (vt) for (let i = 0; i < n; i++) vt[i * n + i] = 1;
  let sweeps = 0;
  for (; sweeps < maxSweeps; sweeps++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q]!;
        if (apq === 0) continue;
        const app = m[p * n + p]!;
        const aqq = m[q * n + q]!;
        const g = 100 * Math.abs(apq);
        if (Math.abs(app) + g === Math.abs(app) && Math.abs(aqq) + g === Math.abs(aqq)) {
          m[p * n + q] = m[q * n + p] = 0;
          continue;
        }
        rotated = true;
        const h = aqq - app;
        let t: number;
        if (Math.abs(h) + g === Math.abs(h))
          t = apq / h; // θ huge: t ≈ 1/(2θ)
        else {
          const theta = (0.5 * h) / apq;
          t = 1 / (Math.abs(theta) + Math.sqrt(1 + theta * theta));
          if (theta < 0) t = -t;
        }
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        // A' = Jᵀ A J: rows (and by symmetry columns) p and q change
        const rp = p * n;
        const rq = q * n;
        for (let k = 0; k < n; k++) {
          if (k === p || k === q) continue;
          const akp = m[rp + k]!;
          const akq = m[rq + k]!;
          const np = c * akp - s * akq;
          const nq = s * akp + c * akq;
          m[rp + k] = np;
          m[rq + k] = nq;
          m[k * n + p] = np;
          m[k * n + q] = nq;
        }
        m[rp + p] = app - t * apq;
        m[rq + q] = aqq + t * apq;
        m[rp + q] = m[rq + p] = 0;
        if (vt) {
          for (let k = 0; k < n; k++) {
            const vp = vt[rp + k]!;
            const vq = vt[rq + k]!;
            vt[rp + k] = c * vp - s * vq;
            vt[rq + k] = s * vp + c * vq;
          }
        }
      }
    }
    if (!rotated) break;
  }
  if (sweeps === maxSweeps) throw new Error(`symmetricEigen: no convergence after ${maxSweeps} sweeps`);
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => m[j * n + j]! - m[i * n + i]!);
  const values = Float64Array.from(order, (i) => m[i * n + i]!);
  let vectors: Float64Array | null = null;
  if (vt) {
    vectors = new Float64Array(n * n);
    order.forEach((src, dst) => vectors!.set(vt.subarray(src * n, (src + 1) * n), dst * n));
  }
  return { values, vectors, sweeps };
}

/** V diag(f(λ)) Vᵀ from an eigen-decomposition (rows of `vectors` are eigenvectors). */
export function eigenFunction(e: SymmetricEigen, f: (lambda: number) => number): Float64Array {
  const n = e.values.length;
  const v = e.vectors;
  if (!v) throw new Error('eigenFunction: the decomposition has no eigenvectors');
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const fk = f(e.values[k]!);
    if (fk === 0) continue;
    const row = v.subarray(k * n, (k + 1) * n);
    for (let i = 0; i < n; i++) {
      const a = fk * row[i]!;
      if (a === 0) continue;
      const o = i * n;
      for (let j = 0; j < n; j++) out[o + j] += a * row[j]!;
    }
  }
  symmetrize(out, n);
  return out;
}

/** The PSD square root of a symmetric PSD matrix (negative eigenvalues from round-off → 0). */
export function sqrtPsd(a: ArrayLike<number>, n: number): Float64Array {
  return eigenFunction(symmetricEigen(a, n), (l) => Math.sqrt(Math.max(l, 0)));
}

/** Row-major product of an m×k and a k×n matrix. */
export function matmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  if (a.length !== m * k || b.length !== k * n) throw new RangeError(`matmul: shapes ${m}x${k} and ${k}x${n} do not match the data`);
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const o = i * n;
    for (let l = 0; l < k; l++) {
      const ail = a[i * k + l]!;
      if (ail === 0) continue;
      const r = l * n;
      for (let j = 0; j < n; j++) out[o + j] += ail * b[r + j]!;
    }
  }
  return out;
}

export function transposeSquare(a: ArrayLike<number>, n: number): Float64Array {
  checkSquare(a, n, 'transposeSquare');
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[j * n + i] = a[i * n + j]!;
  return out;
}

/** (A + Aᵀ)/2 in place. */
export function symmetrize(a: Float64Array, n: number): Float64Array {
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const v = 0.5 * (a[i * n + j]! + a[j * n + i]!);
      a[i * n + j] = a[j * n + i] = v;
    }
  return a;
}

export function trace(a: ArrayLike<number>, n: number): number {
  let t = 0;
  for (let i = 0; i < n; i++) t += a[i * n + i]!;
  return t;
}
