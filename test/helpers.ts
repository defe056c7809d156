// Shared test utilities: numeric comparison and a seeded host-side random source.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { packageRoot } from '../src/util/package-root.js';
import { Rng } from '../src/data/rng.js';

export function assertClose(actual: ArrayLike<number | bigint>, expected: ArrayLike<number>, tol = 1e-5, what = 'values'): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = Number(actual[i]);
    const e = expected[i]!;
    const err = Math.abs(a - e);
    if (!(err <= tol * Math.max(1, Math.abs(e)))) assert.fail(`${what}[${i}]: got ${a}, expected ${e} (tolerance ${tol})`);
  }
}

/** Deterministic host-side uniform [0, 1) source for test inputs. */
export function hostRandom(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.uniform();
}

/** The shared/ folder beside the checkout (or CTFGEN_SHARED); null when absent. */
export function sharedDir(): string | null {
  const dir = process.env.CTFGEN_SHARED ?? resolve(packageRoot, '..', 'shared');
  return existsSync(dir) ? dir : null;
}
