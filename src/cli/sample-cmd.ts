// `ctfgen sample --run <dir>`: a PNG grid of generated images (one row per class with --class all),
// and with --each one PNG per image. Images are generated batch by batch and written as they come
// (forEachSampledBatch), so --each works for any --n in flat memory; only the grid holds its images,
// and a grid above --max-grid images is refused (or skipped when --each is given).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { isMainProcess } from '../dist/env.js';
import type { ProcessGroup } from '../dist/group.js';
import { rankRange } from '../dist/shard.js';
import { writeJsonAtomic } from '../io/index.js';
import { loadRun, type LoadedRun } from '../run/load-run.js';
import { gatherSampled } from '../sample/distributed.js';
import { DEFAULT_BATCH_SIZE, forEachSampledBatch, resolveClass, type SampledBatch } from '../sample/images.js';
import * as T from '../torch/index.js';
import { concatInt32, concatTyped } from '../util/typed-arrays.js';
import { imageGrid } from '../viz/index.js';
import { withCompute, type ComputeFlags } from './compute-flags.js';
import { progressReporter } from './progress.js';
import { samplingFromFlags, type SamplingFlags } from './sampling-flags.js';

export interface SampleCmdOptions extends SamplingFlags, Partial<ComputeFlags> {
  run: string;
  class: string;
  n: number;
  out: string;
  each?: string;
  /** largest grid written, in images */
  maxGrid: number;
  /** also write every image's class, token map and (CTF) coarse map as JSON */
  tokens?: string;
}

/** Images per generation request (whole batches): requests are cut into these so class lists stay small for any N. */
const REQUEST_IMAGES = 4096;

/**
 * Generates images from..from+count-1 (image i of class classOf(i)) request by request, handing each
 * batch on with its first image's index. `from` is a multiple of the batch size, so every image is
 * drawn in the batch one process would draw it in.
 */
function forEachImageBatch(
  run: LoadedRun,
  o: SampleCmdOptions,
  range: { from: number; count: number },
  classOf: (i: number) => number,
  onBatch: (b: SampledBatch, first: number) => void,
): void {
  const unit = o.batchSize ?? DEFAULT_BATCH_SIZE;
  const request = unit * Math.ceil(REQUEST_IMAGES / unit);
  const end = range.from + range.count;
  for (let first = range.from; first < end; first += request) {
    const count = Math.min(request, end - first);
    const classes = Int32Array.from({ length: count }, (_, k) => classOf(first + k));
    forEachSampledBatch(run, { classes, seed: o.seed, firstIndex: first, sampling: samplingFromFlags(o), batchSize: o.batchSize }, (b) =>
      onBatch(b, first + b.offset),
    );
  }
}

export async function sampleCommand(o: SampleCmdOptions): Promise<void> {
  if (!Number.isInteger(o.n) || o.n < 1) throw new Error(`--n must be a positive integer, got ${o.n}`);
  await withCompute({ device: o.device ?? 'cpu', precision: o.precision ?? 'fp32' }, (group) => sampleWith(o, group));
}

async function sampleWith(o: SampleCmdOptions, group: ProcessGroup | null): Promise<void> {
  const run = await loadRun(o.run, o.system, { weights: o.weights, step: o.step });
  const bar = progressReporter();
  try {
    const names = run.info.classNames;
    const all = o.class.trim().toLowerCase() === 'all';
    const classList = all ? names.map((_, i) => i) : [resolveClass(o.class, names)];
    const N = classList.length * o.n;
    const classOf = (i: number) => classList[Math.floor(i / o.n)]!;
    const grid = N <= o.maxGrid;
    if (!grid && !o.each)
      throw new Error(
        `${N} images make a grid above the limit of ${o.maxGrid} (--max-grid; a grid holds all its images in memory): ` +
          `write one PNG per image with --each <dir> (streamed, for any --n), or save arrays with --npz, or raise --max-grid`,
      );
    if (o.each) mkdirSync(o.each, { recursive: true });
    const digits = Math.max(4, String(N - 1).length);
    // under a launcher every rank draws its share (whole batches) and writes its own --each files;
    // the grid and the token maps are gathered on the main process
    const unit = o.batchSize ?? DEFAULT_BATCH_SIZE;
    const mine = group ? rankRange(N, group.rank, group.size, unit) : { from: 0, count: N };
    const gather = grid || Boolean(o.tokens);
    const parts: SampledBatch[] = [];
    let shape: [number, number, number, number] = [0, 0, 0, 0];
    const seconds = { stage1: 0, stage2: 0, decode: 0 };
    const t0 = performance.now();
    T.withPrecision(o.precision, () =>
      forEachImageBatch(run, o, mine, classOf, (b, first) => {
        shape = b.shape;
        for (const k of ['stage1', 'stage2', 'decode'] as const) seconds[k] += b.seconds[k];
        if (gather) parts.push(b);
        bar({ phase: 'sample', done: first + b.n - mine.from, total: mine.count });
        if (!o.each) return;
        const [, c, h, w] = b.shape;
        const size = c * h * w;
        for (let k = 0; k < b.n; k++) {
          const i = first + k;
          imageGrid(b.images.subarray(k * size, (k + 1) * size), { n: 1, c, h, w, cols: 1, scale: 1, pad: 0 }).savePngSync(
            join(o.each, `${String(i).padStart(digits, '0')}-${names[classOf(i)]!.replace(/[^A-Za-z0-9_-]+/g, '_')}.png`),
          );
        }
      }),
    );
    bar.stop();
    const local = {
      images: concatTyped(
        parts.map((b) => b.images),
        (n) => new Float32Array(n),
      ),
      shape: [mine.count, ...shape.slice(1)] as typeof shape,
      tokens: concatInt32(parts.map((b) => b.tokens)),
      coarse: run.kind === 'ctf' ? concatInt32(parts.map((b) => b.coarse!)) : undefined,
      seconds,
    };
    const set = group && gather ? gatherSampled(group, local, N, unit) : local;
    if (!isMainProcess()) return;
    const secs = (performance.now() - t0) / 1000;
    const [, c, h, w] = set.shape;
    if (grid)
      await imageGrid(set.images, {
        n: N,
        c,
        h,
        w,
        cols: all ? o.n : Math.min(o.n, 8),
        scale: h <= 32 ? 3 : h <= 64 ? 2 : 1,
        rowLabels: all ? names : undefined,
        title: `${run.kind === 'ctf' ? 'CTF' : 'baseline'} samples${all ? '' : ` of '${names[classList[0]!]}'`} (seed ${o.seed})`,
      }).savePng(o.out);
    if (o.tokens)
      await writeJsonAtomic(o.tokens, {
        run: o.run,
        system: run.kind,
        seed: o.seed,
        classes: Array.from({ length: N }, (_, i) => classOf(i)),
        tokens: rows(set.tokens, N),
        coarse: set.coarse ? rows(set.coarse, N) : undefined,
      });
    console.log(
      `${grid ? o.out : `${o.each} (no grid: ${N} images are above --max-grid ${o.maxGrid})`}: ${N} ${run.kind} images in ${secs.toFixed(1)} s ` +
        `(${(N / secs).toFixed(2)} images/s; stage 1 ${set.seconds.stage1.toFixed(1)} s, stage 2 ${set.seconds.stage2.toFixed(1)} s, decode ${set.seconds.decode.toFixed(1)} s)`,
    );
  } finally {
    bar.stop();
    run.dispose();
  }
}

/** [n, L] → n arrays of L numbers, for JSON. */
function rows(a: Int32Array, n: number): number[][] {
  const L = a.length / n;
  return Array.from({ length: n }, (_, k) => Array.from(a.subarray(k * L, (k + 1) * L)));
}
