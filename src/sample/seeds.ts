// The seed rule: image i of a request with seed s draws every random choice from a generator seeded
// with imageSeed(s, i), a 53-bit hash of (s, i). So an image depends on (seed, index, class,
// settings) only — not on the batch size, the batch it falls in, the number of processes, or what
// else ran before in the process.
import { hash32 } from '../data/rng.js';
import { seededUniform, type Tensor } from '../torch/index.js';

const TWO_32 = 0x1_0000_0000;

export function imageSeed(seed: number, index: number): number {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative integer, got ${seed}`);
  if (!Number.isSafeInteger(index) || index < 0) throw new Error(`image index must be a non-negative integer, got ${index}`);
  return (hash32(seed, index, 1) & 0x1fffff) * TWO_32 + hash32(seed, index, 2);
}

/** float64 [indices.length, n] uniforms; row r belongs to image indices[r]. */
export function imageUniforms(seed: number, indices: ArrayLike<number>, n: number): Tensor {
  return seededUniform(
    Array.from(indices, (i) => imageSeed(seed, i)),
    n,
  );
}
