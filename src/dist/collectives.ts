// Host values over a process group: numbers, JSON and byte strings, and the rows of a split set
// gathered back in order. Each call is one or two collectives, made by every rank alike.
import * as T from '../torch/index.js';
import type { ProcessGroup, ReduceOp } from './group.js';
import { allRanges } from './shard.js';

/** The element-wise reduction of `values` over the ranks (float64). */
export function allReduceNumbers(group: ProcessGroup, values: ArrayLike<number>, op: ReduceOp = 'sum'): Float64Array {
  return T.tidy(() => {
    const t = T.fromArray(Float64Array.from(values), [values.length]);
    group.allReduce([t], op);
    return t.data() as Float64Array;
  });
}

/** Whether `flag` holds on any rank. */
export const anyRank = (group: ProcessGroup, flag: boolean): boolean => allReduceNumbers(group, [flag ? 1 : 0], 'max')[0]! > 0;

/** Every rank's bytes (of any lengths), in rank order. */
export function allGatherBytes(group: ProcessGroup, bytes: Uint8Array): Uint8Array[] {
  const lengths = allReduceLengths(group, bytes.length);
  const max = Math.max(...lengths);
  return T.tidy(() => {
    const padded = new Uint8Array(max);
    padded.set(bytes);
    const parts = group.allGather(T.fromArray(padded, [max], 'uint8'));
    return parts.map((p, r) => (p.data() as Uint8Array).slice(0, lengths[r]));
  });
}

function allReduceLengths(group: ProcessGroup, length: number): number[] {
  const v = new Float64Array(group.size);
  v[group.rank] = length;
  return Array.from(allReduceNumbers(group, v));
}

/** Root's bytes on every rank. */
export function broadcastBytes(group: ProcessGroup, bytes: Uint8Array | null, root = 0): Uint8Array {
  const length = allReduceNumbers(group, [group.rank === root ? bytes!.length : 0], 'max')[0]!;
  if (length === 0) return new Uint8Array(0);
  return T.tidy(() => {
    const t = group.rank === root ? T.fromArray(Uint8Array.from(bytes!), [length], 'uint8') : T.zeros([length], 'uint8');
    group.broadcast([t], root);
    return t.data() as Uint8Array;
  });
}

/** Root's JSON-able value on every rank. */
export function broadcastJson<V>(group: ProcessGroup, value: V | null, root = 0): V {
  const bytes = group.rank === root ? new TextEncoder().encode(JSON.stringify(value)) : null;
  return JSON.parse(new TextDecoder().decode(broadcastBytes(group, bytes, root))) as V;
}

type Rows = Float32Array | Int32Array | Uint8Array;

/**
 * The rows of a set of `n` split by rankRange (in `unit`s), gathered in order on every rank: each
 * rank passes its own rows (rankRange(n, rank, size, unit).count rows of `rowSize` values) and
 * receives all n rows.
 */
export function allGatherRows<A extends Rows>(group: ProcessGroup, local: A, n: number, rowSize: number, unit = 1): A {
  const ranges = allRanges(n, group.size, unit);
  const mine = ranges[group.rank]!;
  if (local.length !== mine.count * rowSize)
    throw new Error(`rank ${group.rank} holds ${local.length / rowSize} rows but its share of ${n} is ${mine.count}`);
  const maxRows = Math.max(...ranges.map((r) => r.count));
  const bytesPerRow = rowSize * local.BYTES_PER_ELEMENT;
  const out = new Uint8Array(n * bytesPerRow);
  T.tidy(() => {
    const padded = new Uint8Array(maxRows * bytesPerRow);
    padded.set(new Uint8Array(local.buffer, local.byteOffset, local.byteLength));
    const parts = group.allGather(T.fromArray(padded, [padded.length], 'uint8'));
    parts.forEach((p, r) => out.set((p.data() as Uint8Array).subarray(0, ranges[r]!.count * bytesPerRow), ranges[r]!.from * bytesPerRow));
  });
  const Ctor = local.constructor as new (b: ArrayBuffer) => A;
  return new Ctor(out.buffer);
}
