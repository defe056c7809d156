// `ctfgen sample --run R --n 50000 --npz samples.npz`: generated images in the ADM evaluator's
// layout (what LlamaGen's and VAR's sampling scripts write and their evaluation reads):
//   arr_0  uint8 [N, H, W, 3]  pixels floor(clamp(127.5·x + 128, 0, 255)) of images x in [-1, 1],
//                              as LlamaGen's sample_ddp.py converts them; grey images replicated to
//                              three channels
//   arr_1  int64 [N]           the class of each image
//   ctfgen_meta                JSON bytes: run, dataset, system, settings, seed, labels (what
//                              `ctfgen eval --samples` needs to pick its defaults)
// Labels: 'balanced' gives image i the class i mod K, so every prefix is balanced and N = 50 K gives
// 50 per class (when K does not divide N the first N mod K classes get one more); 'uniform' draws
// each class uniformly at random from ctfgen's seeded RNG (data/rng.ts; seed --seed).
// Seeds: image i is drawn from (seed, i) alone (sample/seeds.ts), in batches that start at its
// shard's first image; the torch generator is also seeded per shard (for samplers that draw from
// it), so a shard's bytes depend on the request and its index only: a resumed run, or one whose
// shards were shared out over processes, writes exactly the images an uninterrupted one writes.
// Streaming and resuming: images go to shards (<out>.shards/shard-<first index>.npz, each written
// atomically) one batch at a time, then the shards are streamed into <out>, itself written
// atomically, and removed. Memory stays flat in N; a killed run leaves no <out>, and `--resume`
// writes only the missing shards (the folder's plan.json must match the request). Under a
// launcher the ranks take every size-th shard and the main process assembles the file.
// Disk: the shards and <out> coexist briefly (2 × N·H·W·3 bytes).
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../data/rng.js';
import { jsonArray, NpzFile, readTextFileSync, writeJsonAtomic, writeNpz, type NpzArrayInput } from '../io/index.js';
import * as T from '../torch/index.js';
import type { OnProgress } from '../util/progress.js';

export type LabelMode = 'balanced' | 'uniform';
export const LABEL_MODES: readonly LabelMode[] = ['balanced', 'uniform'];

const LABELS_KEY = 0x4c41_4253; // "LABS"

/** The class of each of n images over k classes (see the module comment). */
export function sampleLabels(n: number, k: number, mode: LabelMode, seed: number): Int32Array {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`labels: need at least one class, got ${k}`);
  if (mode === 'balanced') return Int32Array.from({ length: n }, (_, i) => i % k);
  if (mode === 'uniform') {
    const rng = new Rng(seed, LABELS_KEY);
    return Int32Array.from({ length: n }, () => rng.int(k));
  }
  throw new Error(`--labels must be ${LABEL_MODES.join(' or ')}, got '${String(mode)}'`);
}

/** Images [n, C, H, W] in [-1, 1] (C = 1 or 3) → ADM's uint8 [n, H, W, 3]. */
export function toAdmPixels(images: Float32Array, shape: readonly [number, number, number, number]): Uint8Array {
  const [n, c, h, w] = shape;
  if (c !== 1 && c !== 3) throw new RangeError(`samples: ${c} channels; ADM's layout holds grey or RGB images`);
  if (images.length !== n * c * h * w) throw new RangeError(`samples: ${images.length} values are not [${shape.join(', ')}]`);
  const out = new Uint8Array(n * h * w * 3);
  const plane = h * w;
  for (let i = 0; i < n; i++)
    for (let p = 0; p < plane; p++)
      for (let ch = 0; ch < 3; ch++) {
        const v = Math.floor(127.5 * images[(i * c + (c === 1 ? 0 : ch)) * plane + p]! + 128);
        out[(i * plane + p) * 3 + ch] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
  return out;
}

/** Samples `classes` (image indices firstIndex, firstIndex + 1, …): images [n, C, H, W] in [-1, 1]. */
export type BatchSampler = (classes: Int32Array, firstIndex: number) => { images: Float32Array; shape: [number, number, number, number] };

export interface NpzSamplesOptions {
  out: string;
  n: number;
  numClasses: number;
  labels: LabelMode;
  seed: number;
  sample: BatchSampler;
  /** image height and width of the sampler's output */
  size: [number, number];
  /** images per sampler call (default 100) */
  batchSize?: number;
  /** images per resumable shard (default 1000) */
  shardSize?: number;
  /** continue an interrupted run from its shards */
  resume?: boolean;
  /** recorded in ctfgen_meta and plan.json (run, dataset, system, sampling settings) */
  meta: Record<string, unknown>;
  onProgress?: OnProgress;
  /** processes sharing the shards: this one's rank, their number, and a wait for all of them */
  ranks?: { rank: number; size: number; barrier: () => void };
}

const shardName = (first: number) => `shard-${String(first).padStart(9, '0')}.npz`;

/** Writes the samples file (see the module comment); returns how many images were sampled now. */
export async function writeNpzSamples(o: NpzSamplesOptions): Promise<{ sampled: number; resumedFrom: number }> {
  const { n } = o;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`--n must be a positive integer, got ${n}`);
  const batchSize = o.batchSize ?? 100;
  const shardSize = o.shardSize ?? 1000;
  const [h, w] = o.size;
  const dir = `${o.out}.shards`;
  const planPath = join(dir, 'plan.json');
  const plan = { n, labels: o.labels, seed: o.seed, numClasses: o.numClasses, batchSize, shardSize, size: o.size, meta: o.meta };
  const shards = Array.from({ length: Math.ceil(n / shardSize) }, (_, s) => [s * shardSize, Math.min(n, (s + 1) * shardSize)] as const);
  const ranks = o.ranks ?? { rank: 0, size: 1, barrier: () => {} };
  const main = ranks.rank === 0;
  const finished = () => shards.filter(([first]) => existsSync(join(dir, shardName(first))));
  // every rank looks before any writes (the barrier), so all see the same folder
  const planned = existsSync(planPath);
  if (planned) {
    if (!o.resume)
      throw new Error(
        `${dir} holds an interrupted run (${finished().length} of ${shards.length} shards); pass --resume to continue it, or delete the folder`,
      );
    const old = JSON.parse(readTextFileSync(planPath, { what: 'a samples plan', maxBytes: 1 << 20 })) as typeof plan;
    if (JSON.stringify(old) !== JSON.stringify(plan))
      throw new Error(`${dir} was started with other settings (${planPath}: ${JSON.stringify(old)}); delete it to start again`);
  }
  ranks.barrier();
  if (!planned && main) {
    mkdirSync(dir, { recursive: true });
    await writeJsonAtomic(planPath, plan);
  }
  ranks.barrier();
  const labels = sampleLabels(n, o.numClasses, o.labels, o.seed);
  const todo = shards.filter(([first], s) => s % ranks.size === ranks.rank && !existsSync(join(dir, shardName(first))));
  const mine = shards.filter((_, s) => s % ranks.size === ranks.rank).reduce((k, [a, b]) => k + b - a, 0);
  let done = mine - todo.reduce((k, [a, b]) => k + b - a, 0);
  o.onProgress?.({ phase: `sample ${o.out}`, done, total: mine, startAt: done });
  for (const [first, end] of todo) {
    T.manualSeed(shardSeed(o.seed, first));
    async function* pixels(): AsyncGenerator<Uint8Array> {
      for (let from = first; from < end; from += batchSize) {
        const to = Math.min(end, from + batchSize);
        const r = o.sample(labels.subarray(from, to), from);
        if (r.shape[2] !== h || r.shape[3] !== w)
          throw new Error(`sampler returned ${r.shape[3]}x${r.shape[2]} images, expected ${w}x${h}`);
        yield toAdmPixels(r.images, r.shape);
        done += to - from;
        o.onProgress?.({ phase: `sample ${o.out}`, done, total: mine });
      }
    }
    await writeNpz(join(dir, shardName(first)), [
      { name: 'arr_0', dtype: 'uint8', shape: [end - first, h, w, 3], data: pixels() },
      { name: 'arr_1', dtype: 'int64', shape: [end - first], data: BigInt64Array.from(labels.subarray(first, end), BigInt) },
    ]);
  }
  ranks.barrier();
  if (main) {
    await writeNpz(o.out, samplesArrays(dir, shards, labels, [h, w], { kind: 'samples', ...o.meta, n, labels: o.labels, seed: o.seed }));
    rmSync(dir, { recursive: true, force: true });
  }
  ranks.barrier();
  const sampled = todo.reduce((k, [a, b]) => k + b - a, 0);
  // the first image this call drew (n: none were missing)
  return { sampled, resumedFrom: todo[0]?.[0] ?? n };
}

/** The torch generator's seed for the shard that starts at image `first`. */
const shardSeed = (seed: number, first: number) => (seed * 1_000_003 + first) % 2 ** 52;

/** The final file's arrays, arr_0 streamed from the shards. */
function samplesArrays(
  dir: string,
  shards: (readonly [number, number])[],
  labels: Int32Array,
  [h, w]: [number, number],
  meta: Record<string, unknown>,
): NpzArrayInput[] {
  async function* pixels(): AsyncGenerator<Uint8Array> {
    for (const [first] of shards) {
      const f = await NpzFile.open(join(dir, shardName(first)));
      try {
        for await (const rows of f.rows('arr_0', 256)) yield rows.data as Uint8Array;
      } finally {
        await f.close();
      }
    }
  }
  return [
    { name: 'arr_0', dtype: 'uint8', shape: [labels.length, h, w, 3], data: pixels() },
    { name: 'arr_1', dtype: 'int64', shape: [labels.length], data: BigInt64Array.from(labels, BigInt) },
    jsonArray('ctfgen_meta', meta),
  ];
}
