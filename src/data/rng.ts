/**
 * Small seeded PRNG for data order and augmentation.
 *
 * Generator: xoshiro128** (32-bit state words, Math.imul only, no BigInt), seeded
 * through splitmix32 so that any integer seed (including 0) gives a well-mixed state.
 * Sequences are fully determined by the seed and identical on every platform; the
 * exact values are pinned by a unit test, so changing the algorithm is a visible
 * (reproducibility-breaking) change.
 *
 * `hash32`/`hashUniform` are stateless mixers for per-sample decisions keyed by
 * (seed, epoch, index): they do not depend on batch size or iteration order.
 */

const U32 = 0x1_0000_0000;

/** splitmix32 finaliser: a bijective 32-bit mix. */
export function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Splits a JS number seed (any safe integer, may be negative) into two 32-bit words. */
function seedWords(seed: number): [number, number] {
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`seed must be a safe integer, got ${seed}`);
  }
  const lo = seed >>> 0; // low 32 bits (two's complement for negatives)
  const hi = Math.floor(seed / U32) >>> 0;
  return [lo, hi];
}

/** Stateless hash of a seed and any number of integer keys to a uint32. */
export function hash32(seed: number, ...keys: number[]): number {
  const [lo, hi] = seedWords(seed);
  let h = mix32(lo ^ mix32(hi));
  for (const k of keys) {
    const [klo, khi] = seedWords(k);
    h = mix32(h ^ mix32(klo ^ mix32(khi ^ 0x5bd1e995)));
  }
  return h;
}

/** Stateless uniform in [0, 1) from a seed and keys. */
export function hashUniform(seed: number, ...keys: number[]): number {
  return hash32(seed, ...keys) / U32;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** `seed`: any safe integer. Extra `keys` derive an independent stream (e.g. epoch). */
  constructor(seed = 0, ...keys: number[]) {
    let x = hash32(seed, ...keys);
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      return mix32(x);
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // all-zero state is absorbing
  }

  /** Next raw uint32 (xoshiro128**). */
  nextU32(): number {
    const s1 = this.s1;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return r;
  }

  /** Uniform float in [0, 1) with 53 random bits; or in [lo, hi) when bounds are given. */
  uniform(lo = 0, hi = 1): number {
    const a = this.nextU32() >>> 5; // 27 bits
    const b = this.nextU32() >>> 6; // 26 bits
    const u = (a * 67108864 + b) / 9007199254740992;
    return lo + (hi - lo) * u;
  }

  /**
   * Uniform integer. `int(n)` is in [0, n); `int(lo, hi)` is in [lo, hi).
   * Unbiased (rejection sampling); the range must be at most 2^32.
   */
  int(a: number, b?: number): number {
    const lo = b === undefined ? 0 : a;
    const hi = b === undefined ? a : b;
    const n = hi - lo;
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || n <= 0 || n > U32) {
      throw new RangeError(`int(): need integers with 0 < hi - lo <= 2^32, got [${lo}, ${hi})`);
    }
    // Largest multiple of n not above 2^32; reject values beyond it.
    const limit = U32 - (U32 % n);
    let r = this.nextU32();
    while (r >= limit) r = this.nextU32();
    return lo + (r % n);
  }

  /** True with probability p. */
  bool(p = 0.5): boolean {
    return this.uniform() < p;
  }

  /** Standard normal (Box-Muller, one value per call). */
  normal(mean = 0, std = 1): number {
    let u = this.uniform();
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    return mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** In-place Fisher-Yates shuffle; returns the same array. */
  shuffle<T extends { length: number; [i: number]: unknown }>(arr: T): T {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = arr[i];
      arr[i] = arr[j];
      arr[j] = tmp;
    }
    return arr;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /** An independent generator derived from this one's next output and `keys`. */
  fork(...keys: number[]): Rng {
    return new Rng(this.nextU32(), ...keys);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
