// Class labels → images through the whole pipeline: tokens (CTF or baseline) → VQ decoder, in
// batches, image i drawn from the seed rule of seeds.ts (so it is the same in any batch).
import { autoregressive, resolveSampling, sampleTokens, type SamplingOverrides } from '../ctf/index.js';
import type { LoadedRun } from '../run/load-run.js';
import { decodeImages } from '../tokenizer/decode-images.js';
import * as T from '../torch/index.js';
import { throwIfAborted, type StopSignal } from '../util/progress.js';
import { concatInt32, concatTyped } from '../util/typed-arrays.js';
import { imageUniforms } from './seeds.js';

/** Which part of generation a progress report is about. */
export type GenerationStage = 'stage1' | 'stage2' | 'decode';
export interface GenerationProgress {
  stage: GenerationStage;
  done: number;
  total: number;
}

export interface SampleRequest {
  /** class id of every image to draw */
  classes: ArrayLike<number>;
  /** the seed of the seed rule (default 0) */
  seed?: number;
  /** index of the first image (images of one request are numbered from here; default 0) */
  firstIndex?: number;
  /** images per forward pass (default 32) */
  batchSize?: number;
  sampling?: SamplingOverrides;
  onProgress?: (p: GenerationProgress) => void;
  signal?: StopSignal;
}

/** One batch of generated images. */
export interface SampledBatch {
  /** index of the batch's first image within the request */
  offset: number;
  n: number;
  /** [n, C, H, W] in [-1, 1] */
  images: Float32Array;
  shape: [number, number, number, number];
  /** fine tokens [n, L] */
  tokens: Int32Array;
  /** coarse labels [n, L] (CTF) */
  coarse?: Int32Array;
  seconds: { stage1: number; stage2: number; decode: number };
}

export const DEFAULT_BATCH_SIZE = 32;

/** A class argument (id or name, case-insensitive) → class id, with a clear error. */
export function resolveClass(arg: string | number, classNames: readonly string[]): number {
  const s = String(arg).trim();
  const id = Number(s);
  if (s !== '' && Number.isInteger(id)) {
    if (id < 0 || id >= classNames.length) throw new Error(`class ${id} is out of range: this run has classes 0..${classNames.length - 1}`);
    return id;
  }
  const i = classNames.findIndex((n) => n.toLowerCase() === s.toLowerCase());
  if (i < 0) throw new Error(`unknown class '${arg}'; this run's classes are: ${classNames.map((n, k) => `${k} ${n}`).join(', ')}`);
  return i;
}

/** Generates the request batch by batch, handing each to `onBatch` (memory stays flat in N). */
export function forEachSampledBatch(run: LoadedRun, r: SampleRequest, onBatch: (b: SampledBatch) => void): void {
  const bs = r.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(bs) || bs < 1) throw new Error(`batch size must be a positive integer, got ${bs}`);
  const sampling = resolveSampling(r.sampling);
  const ar = autoregressive(run.models);
  const L = ar.config.blockSize;
  const grid = Math.round(Math.sqrt(L));
  const N = r.classes.length;
  const numClasses = ar.config.numClasses;
  for (let i = 0; i < N; i++) {
    const c = r.classes[i]!;
    if (!Number.isInteger(c) || c < 0 || c >= numClasses)
      throw new Error(`class ${c} (image ${i}) is outside this model's 0..${numClasses - 1}`);
  }
  const batches = Math.ceil(N / bs);
  const stage1Total = batches * L;
  const first = r.firstIndex ?? 0;
  for (let b = 0; b < batches; b++) {
    throwIfAborted(r.signal, 'generation');
    const offset = b * bs;
    const n = Math.min(bs, N - offset);
    T.tidy(() => {
      const cls = T.fromArray(
        Float64Array.from({ length: n }, (_, i) => r.classes[offset + i]!),
        [n],
        'int64',
      );
      const uniforms = imageUniforms(
        r.seed ?? 0,
        Array.from({ length: n }, (_, i) => first + offset + i),
        2 * L,
      );
      const t = sampleTokens(run.models, cls, sampling, {
        uniforms,
        onStep: (step) => {
          throwIfAborted(r.signal, 'generation');
          r.onProgress?.({ stage: 'stage1', done: b * L + step, total: stage1Total });
        },
      });
      if (t.coarse) r.onProgress?.({ stage: 'stage2', done: offset + n, total: N });
      const t0 = performance.now();
      const img = decodeImages(run.tokenizer.model, t.fine.reshape(n, grid, grid));
      const images = img.toFloat32Array();
      const decode = (performance.now() - t0) / 1000;
      r.onProgress?.({ stage: 'decode', done: offset + n, total: N });
      onBatch({
        offset,
        n,
        images,
        shape: img.shape as [number, number, number, number],
        tokens: t.fine.toInt32Array(),
        coarse: t.coarse?.toInt32Array(),
        seconds: { ...t.seconds, decode },
      });
    });
  }
}

export interface SampledImages {
  /** [N, C, H, W] in [-1, 1] */
  images: Float32Array;
  shape: [number, number, number, number];
  tokens: Int32Array;
  coarse?: Int32Array;
  seconds: { stage1: number; stage2: number; decode: number };
}

/** The whole request in memory (use forEachSampledBatch for large N). */
export function sampleImages(run: LoadedRun, r: SampleRequest): SampledImages {
  const parts: SampledBatch[] = [];
  forEachSampledBatch(run, r, (b) => parts.push(b));
  const seconds = { stage1: 0, stage2: 0, decode: 0 };
  for (const p of parts) for (const k of ['stage1', 'stage2', 'decode'] as const) seconds[k] += p.seconds[k];
  const [, c, h, w] = parts[0]?.shape ?? [0, 0, 0, 0];
  return {
    images: concatTyped(
      parts.map((p) => p.images),
      (n) => new Float32Array(n),
    ),
    shape: [r.classes.length, c, h, w],
    tokens: concatInt32(parts.map((p) => p.tokens)),
    coarse: run.kind === 'ctf' ? concatInt32(parts.map((p) => p.coarse!)) : undefined,
    seconds,
  };
}

/** Token maps [N·L] (row-major, L = grid²) → images, decoded as generation decodes them. */
export function decodeTokenMaps(run: LoadedRun, tokens: Int32Array): SampledImages {
  const L = autoregressive(run.models).config.blockSize;
  const grid = Math.round(Math.sqrt(L));
  const n = tokens.length / L;
  const V = run.tokenizer.model.config.codebookSize;
  if (!Number.isInteger(n) || n < 1) throw new Error(`token maps: ${tokens.length} values are not maps of ${L} cells`);
  for (let i = 0; i < tokens.length; i++)
    if (!(tokens[i]! >= 0 && tokens[i]! < V))
      throw new Error(`token maps: cell ${i % L} of map ${Math.floor(i / L)} is ${tokens[i]}, outside 0..${V - 1}`);
  const t0 = performance.now();
  return T.tidy(() => {
    const img = decodeImages(run.tokenizer.model, T.fromArray(tokens, [n, grid, grid], 'int64'));
    return {
      images: img.toFloat32Array(),
      shape: img.shape as [number, number, number, number],
      tokens: tokens.slice(),
      seconds: { stage1: 0, stage2: 0, decode: (performance.now() - t0) / 1000 },
    };
  });
}
