// Shared test utilities: numeric comparison and a seeded host-side random source.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { packageRoot } from '../src/util/package-root.js';

export function assertClose(actual: ArrayLike<number | bigint>, expected: ArrayLike<number>, tol = 1e-5, what = 'values'): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = Number(actual[i]);
    const e = expected[i]!;
    const err = Math.abs(a - e);
    if (!(err <= tol * Math.max(1, Math.abs(e)))) assert.fail(`${what}[${i}]: got ${a}, expected ${e} (tolerance ${tol})`);
  }
}

/** mulberry32: small deterministic host RNG for test inputs. */
export function hostRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The shared/ folder beside the checkout (or CTFGEN_SHARED); null when absent. */
export function sharedDir(): string | null {
  const dir = process.env.CTFGEN_SHARED ?? resolve(packageRoot, '..', 'shared');
  return existsSync(dir) ? dir : null;
}
