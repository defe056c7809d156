// Class labels → images through the whole pipeline: tokens (CTF or baseline) → VQ decoder.
import * as T from '../torch/index.js';
import type { LoadedRun } from './load-run.js';
import { sampleTokens, type TwoStageOptions } from './two-stage.js';

export interface SampledImages {
  /** [N, C, H, W] in [-1, 1] */
  images: Float32Array;
  shape: [number, number, number, number];
  seconds: { stage1: number; stage2: number; decode: number };
}

/** Samples images for the given classes, in batches of `batchSize`. */
export function sampleImages(run: LoadedRun, classes: ArrayLike<number>, o: TwoStageOptions & { batchSize?: number } = {}): SampledImages {
  const bs = o.batchSize ?? 32;
  const grid = Math.round(Math.sqrt(run.models.stage1.config.blockSize));
  const seconds = { stage1: 0, stage2: 0, decode: 0 };
  const parts: Float32Array[] = [];
  let shape: [number, number, number, number] = [0, 0, 0, 0];
  for (let from = 0; from < classes.length; from += bs) {
    const n = Math.min(bs, classes.length - from);
    T.tidy(() => {
      const cls = T.fromArray(
        Float64Array.from({ length: n }, (_, i) => classes[from + i]!),
        [n],
        'int64',
      );
      const r = sampleTokens(run.models, cls, o);
      seconds.stage1 += r.seconds.stage1;
      seconds.stage2 += r.seconds.stage2;
      const t0 = performance.now();
      const img = T.noGrad(() => run.tokenizer.model.decodeCodes(r.fine.reshape(n, grid, grid)).clamp(-1, 1));
      parts.push(img.toFloat32Array());
      seconds.decode += (performance.now() - t0) / 1000;
      shape = [0, img.size(1), img.size(2), img.size(3)];
    });
  }
  const images = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    images.set(p, off);
    off += p.length;
  }
  shape[0] = classes.length;
  return { images, shape, seconds };
}

/** A class argument (id or name, case-insensitive) → class id, with a clear error. */
export function resolveClass(arg: string, classNames: string[]): number {
  const id = Number(arg);
  if (arg.trim() !== '' && Number.isInteger(id)) {
    if (id < 0 || id >= classNames.length) throw new Error(`class ${id} is out of range: this run has classes 0..${classNames.length - 1}`);
    return id;
  }
  const i = classNames.findIndex((n) => n.toLowerCase() === arg.trim().toLowerCase());
  if (i < 0) throw new Error(`unknown class '${arg}'; this run's classes are: ${classNames.map((n, k) => `${k} ${n}`).join(', ')}`);
  return i;
}
