// Joining typed arrays end to end.
type Typed = Int32Array | Float32Array | Uint8Array;

export function concatTyped<A extends Typed>(arrays: readonly A[], make: (n: number) => A): A {
  const out = make(arrays.reduce((n, a) => n + a.length, 0));
  let off = 0;
  for (const a of arrays) {
    out.set(a, off);
    off += a.length;
  }
  return out;
}

export const concatInt32 = (arrays: readonly Int32Array[]): Int32Array => concatTyped(arrays, (n) => new Int32Array(n));
