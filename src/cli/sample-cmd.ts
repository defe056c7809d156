// `ctfgen sample --run <dir>`: a PNG grid of generated images (one row per class with --class all),
// and with --each one PNG per image. Images are generated batch by batch and written as they come
// (forEachSampledBatch), so --each works for any --n in flat memory; only the grid holds its images,
// and a grid above --max-grid images is refused (or skipped when --each is given).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../io/index.js';
import { loadRun, type LoadedRun } from '../run/load-run.js';
import { forEachSampledBatch, resolveClass, type SampledBatch } from '../sample/images.js';
import { imageGrid } from '../viz/index.js';
import { progressReporter } from './progress.js';
import { samplingFromFlags, type SamplingFlags } from './sampling-flags.js';

export interface SampleCmdOptions extends SamplingFlags {
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

/** Images per generation request: requests are cut into these so class lists stay small for any N. */
const REQUEST_IMAGES = 4096;

/** Generates images 0..total-1 (image i of class classOf(i)) request by request, handing each batch on with its first image's index. */
function forEachImageBatch(
  run: LoadedRun,
  o: SampleCmdOptions,
  total: number,
  classOf: (i: number) => number,
  onBatch: (b: SampledBatch, first: number) => void,
  onImages: (done: number) => void,
): void {
  for (let first = 0; first < total; first += REQUEST_IMAGES) {
    const count = Math.min(REQUEST_IMAGES, total - first);
    const classes = Int32Array.from({ length: count }, (_, k) => classOf(first + k));
    forEachSampledBatch(run, { classes, seed: o.seed, firstIndex: first, sampling: samplingFromFlags(o), batchSize: o.batchSize }, (b) => {
      onBatch(b, first + b.offset);
      onImages(first + b.offset + b.n);
    });
  }
}

export async function sampleCommand(o: SampleCmdOptions): Promise<void> {
  if (!Number.isInteger(o.n) || o.n < 1) throw new Error(`--n must be a positive integer, got ${o.n}`);
  const run = await loadRun(o.run, o.system);
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
    const gridParts: Float32Array[] = [];
    const maps: { tokens: number[][]; coarse: number[][] } = { tokens: [], coarse: [] };
    let shape: [number, number, number, number] = [0, 0, 0, 0];
    const seconds = { stage1: 0, stage2: 0, decode: 0 };
    const t0 = performance.now();
    forEachImageBatch(
      run,
      o,
      N,
      classOf,
      (b, first) => {
        shape = b.shape;
        for (const k of ['stage1', 'stage2', 'decode'] as const) seconds[k] += b.seconds[k];
        if (grid) gridParts.push(b.images);
        if (o.tokens) {
          const L = b.tokens.length / b.n;
          for (let k = 0; k < b.n; k++) {
            maps.tokens.push(Array.from(b.tokens.subarray(k * L, (k + 1) * L)));
            if (b.coarse) maps.coarse.push(Array.from(b.coarse.subarray(k * L, (k + 1) * L)));
          }
        }
        if (!o.each) return;
        const [, c, h, w] = b.shape;
        const size = c * h * w;
        for (let k = 0; k < b.n; k++) {
          const i = first + k;
          imageGrid(b.images.subarray(k * size, (k + 1) * size), { n: 1, c, h, w, cols: 1, scale: 1, pad: 0 }).savePngSync(
            join(o.each, `${String(i).padStart(digits, '0')}-${names[classOf(i)]!.replace(/[^A-Za-z0-9_-]+/g, '_')}.png`),
          );
        }
      },
      (done) => bar({ phase: 'sample', done, total: N }),
    );
    bar.stop();
    const secs = (performance.now() - t0) / 1000;
    const [, c, h, w] = shape;
    if (grid) {
      const images = new Float32Array(N * c * h * w);
      gridParts.reduce((off, part) => (images.set(part, off), off + part.length), 0);
      await imageGrid(images, {
        n: N,
        c,
        h,
        w,
        cols: all ? o.n : Math.min(o.n, 8),
        scale: h <= 32 ? 3 : h <= 64 ? 2 : 1,
        rowLabels: all ? names : undefined,
        title: `${run.kind === 'ctf' ? 'CTF' : 'baseline'} samples${all ? '' : ` of '${names[classList[0]!]}'`} (seed ${o.seed})`,
      }).savePng(o.out);
    }
    if (o.tokens)
      await writeJsonAtomic(o.tokens, {
        run: o.run,
        system: run.kind,
        seed: o.seed,
        classes: Array.from({ length: N }, (_, i) => classOf(i)),
        tokens: maps.tokens,
        coarse: run.kind === 'ctf' ? maps.coarse : undefined,
      });
    console.log(
      `${grid ? o.out : `${o.each} (no grid: ${N} images are above --max-grid ${o.maxGrid})`}: ${N} ${run.kind} images in ${secs.toFixed(1)} s ` +
        `(${(N / secs).toFixed(2)} images/s; stage 1 ${seconds.stage1.toFixed(1)} s, stage 2 ${seconds.stage2.toFixed(1)} s, decode ${seconds.decode.toFixed(1)} s)`,
    );
  } finally {
    bar.stop();
    run.dispose();
  }
}
