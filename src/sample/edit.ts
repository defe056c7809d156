// Re-drawing parts of generated images, the two things coarse-to-fine makes natural:
//   refine — keep an image's coarse map and re-draw every fine token (stage 2 alone);
//   edit   — re-generate a rectangle of token cells, consistent with what surrounds it: the
//            autoregressive stage draws the cells inside the region with every known cell outside
//            it teacher-forced (CTF: coarse labels; baseline: fine tokens), then (CTF) stage 2 reads
//            the whole map and its fine tokens replace those inside the region only. A class other
//            than the image's own gives class-conditional editing.
// Image i of a request draws from the seed rule (seeds.ts), as generation does.
import { coarseLabels, resolveSampling, sampleStage2, sampleTokens, type SamplingOverrides } from '../ctf/index.js';
import type { LoadedRun } from '../run/load-run.js';
import * as T from '../torch/index.js';
import { decodeTokenMaps, type SampledImages } from './images.js';
import { imageUniforms } from './seeds.js';

/** A rectangle of token cells: columns x0..x1-1, rows y0..y1-1 (0 ≤ x0 < x1 ≤ grid, same for y). */
export interface Region {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

interface Common {
  /** class of each image */
  classes: ArrayLike<number>;
  seed?: number;
  firstIndex?: number;
}

export interface RefineRequest extends Common {
  /** coarse maps [N·L] (row-major token cells) */
  coarse: Int32Array;
  sampling?: SamplingOverrides;
  /** images per stage-2 pass (default 100): memory stays bounded whatever N (the draws do not depend on it) */
  batchSize?: number;
}

export interface EditRequest extends Common {
  /** fine tokens [N·L] of the images to edit (CTF: their coarse labels follow from them) */
  tokens?: Int32Array;
  /** CTF only, instead of tokens: coarse maps [N·L] (stage 2 then draws every fine token) */
  coarse?: Int32Array;
  region: Region;
  sampling?: SamplingOverrides;
}

function gridOf(run: LoadedRun): { L: number; grid: number } {
  const m = run.models;
  const L = (m.kind === 'ctf' ? m.stage1 : m.baseline).config.blockSize;
  return { L, grid: Math.round(Math.sqrt(L)) };
}

function checkMaps(what: string, data: Int32Array | undefined, n: number, L: number, vocab: number): void {
  if (!data) return;
  if (data.length !== n * L) throw new Error(`${what}: expected ${n} maps of ${L} cells (${n * L} values), got ${data.length}`);
  for (let i = 0; i < data.length; i++)
    if (!Number.isInteger(data[i]) || data[i]! < 0 || data[i]! >= vocab)
      throw new Error(`${what}: cell ${i % L} of map ${Math.floor(i / L)} is ${data[i]}, outside 0..${vocab - 1}`);
}

/** Checks a region against the token grid; returns the mask [L] of its cells. */
export function regionMask(region: Region, grid: number): boolean[] {
  const { x0, y0, x1, y1 } = region;
  for (const [k, v] of Object.entries(region))
    if (!Number.isInteger(v) || v < 0 || v > grid) throw new Error(`region.${k} must be an integer in 0..${grid}, got ${v}`);
  if (!(x0 < x1 && y0 < y1)) throw new Error(`region must have x0 < x1 and y0 < y1, got ${JSON.stringify(region)}`);
  return Array.from({ length: grid * grid }, (_, p) => {
    const x = p % grid;
    const y = Math.floor(p / grid);
    return x >= x0 && x < x1 && y >= y0 && y < y1;
  });
}

function checkClasses(classes: ArrayLike<number>, numClasses: number): void {
  for (let i = 0; i < classes.length; i++)
    if (!Number.isInteger(classes[i]) || classes[i]! < 0 || classes[i]! >= numClasses)
      throw new Error(`class ${classes[i]} (image ${i}) is outside this model's 0..${numClasses - 1}`);
}

function classTensor(classes: ArrayLike<number>, numClasses: number): T.Tensor {
  checkClasses(classes, numClasses);
  return T.fromArray(Float64Array.from(classes), [classes.length], 'int64');
}

const uniformsOf = (r: Common, n: number, L: number) =>
  imageUniforms(
    r.seed ?? 0,
    Array.from({ length: n }, (_, i) => (r.firstIndex ?? 0) + i),
    2 * L,
  );

/** Stage 2 alone over given coarse maps: new fine tokens and images for the same coarse layout. */
export function refineImages(run: LoadedRun, r: RefineRequest): SampledImages {
  const m = run.models;
  if (m.kind !== 'ctf') throw new Error('refining needs a CTF run (stage 2 re-draws fine tokens from the coarse map)');
  const { L } = gridOf(run);
  const n = r.classes.length;
  checkMaps('coarse', r.coarse, n, L, m.clusters.k);
  checkClasses(r.classes, m.stage2.config.numClasses);
  const batch = r.batchSize ?? 100;
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`refine: batchSize must be a positive integer, got ${batch}`);
  const t0 = performance.now();
  const fine = new Int32Array(n * L);
  const settings = resolveSampling(r.sampling).stage2;
  for (let from = 0; from < n; from += batch) {
    const count = Math.min(batch, n - from);
    // image i draws from uniforms of (seed, firstIndex + i) alone, so the batches change nothing
    const part = { ...r, firstIndex: (r.firstIndex ?? 0) + from };
    T.tidy(() => {
      const classes = T.fromArray(
        Float64Array.from({ length: count }, (_, i) => r.classes[from + i]!),
        [count],
        'int64',
      );
      const coarse = T.fromArray(r.coarse.subarray(from * L, (from + count) * L), [count, L], 'int64');
      fine.set(sampleStage2(m, classes, coarse, settings, uniformsOf(part, count, L).slice(1, L, 2 * L)).toInt32Array(), from * L);
    });
  }
  const stage2 = (performance.now() - t0) / 1000;
  const out = decodeTokenMaps(run, fine);
  return { ...out, coarse: r.coarse.slice(), seconds: { ...out.seconds, stage2 } };
}

/** Re-generates the region of each image; every token outside it stays as it was. */
export function editImages(run: LoadedRun, r: EditRequest): SampledImages {
  const m = run.models;
  const { L, grid } = gridOf(run);
  const n = r.classes.length;
  const inside = regionMask(r.region, grid);
  if (!r.tokens && !r.coarse) throw new Error('an edit needs the images’ tokens (or, for CTF, their coarse maps)');
  if (m.kind === 'baseline' && !r.tokens) throw new Error('editing a baseline image needs its fine tokens');
  const vocab = m.kind === 'ctf' ? m.stage2.config.vocabSize : m.baseline.config.vocabSize;
  checkMaps('tokens', r.tokens, n, L, vocab);
  if (m.kind === 'ctf') checkMaps('coarse', r.tokens ? undefined : r.coarse, n, L, m.clusters.k);
  return T.tidy(() => {
    const classes = classTensor(r.classes, (m.kind === 'ctf' ? m.stage1 : m.baseline).config.numClasses);
    const tokens = r.tokens ? T.fromArray(r.tokens, [n, L], 'int64') : null;
    const known = m.kind === 'ctf' ? (tokens ? coarseLabels(m.clusters, tokens) : T.fromArray(r.coarse!, [n, L], 'int64')) : tokens!;
    const sampled = sampleTokens(m, classes, resolveSampling(r.sampling), {
      uniforms: uniformsOf(r, n, L),
      forced: { tokens: known, mask: inside.map((x) => !x) },
    });
    // CTF: stage 2 read the whole map; keep the given fine tokens outside the region
    const inRegion = T.fromArray(
      Int32Array.from(inside, (x) => (x ? 1 : 0)),
      [1, L],
      'bool',
    );
    const fine = tokens ? T.where(inRegion, sampled.fine, tokens) : sampled.fine;
    const out = decodeTokenMaps(run, fine.toInt32Array());
    return { ...out, coarse: sampled.coarse?.toInt32Array(), seconds: { ...sampled.seconds, decode: out.seconds.decode } };
  });
}
