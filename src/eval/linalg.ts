// Small helpers for dense float64 matrices held as row-major Float64Arrays (feature covariances).
// The eigen-problems themselves run in LAPACK through libtorch (torch eigh / eigvalsh).

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
