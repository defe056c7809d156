// How N items (images to draw, samples of a global batch) are shared out over the ranks: contiguous
// ranges in rank order, the first ranks taking one more when N does not divide evenly.
// Concatenating the ranges in rank order gives back 0..N-1, so work that depends on an item's index
// alone comes out the same for any number of ranks. With a `unit` (a batch size), whole units are
// shared out instead: each rank then computes exactly the batches one process would, which keeps
// results bit for bit the same (a kernel's rounding can depend on the batch size).

export interface IndexRange {
  /** first index of this rank's items */
  from: number;
  count: number;
}

export function rankRange(n: number, rank: number, size: number, unit = 1): IndexRange {
  if (!Number.isInteger(n) || n < 0) throw new Error(`item count must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(size) || size < 1 || !Number.isInteger(rank) || rank < 0 || rank >= size)
    throw new Error(`rank ${rank} is outside a world of ${size}`);
  if (!Number.isInteger(unit) || unit < 1) throw new Error(`unit must be a positive integer, got ${unit}`);
  const units = Math.ceil(n / unit);
  const base = Math.floor(units / size);
  const extra = units % size;
  const first = rank * base + Math.min(rank, extra);
  const from = Math.min(n, first * unit);
  return { from, count: Math.min(n, (first + base + (rank < extra ? 1 : 0)) * unit) - from };
}

/** Every rank's range, in rank order. */
export function allRanges(n: number, size: number, unit = 1): IndexRange[] {
  return Array.from({ length: size }, (_, r) => rankRange(n, r, size, unit));
}
