// `ctfgen sample --run <dir>`: a PNG grid of generated images (one row per class with --class all).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../torch/index.js';
import { imageGrid } from '../viz/index.js';
import { loadRun, type SystemKind } from './load-run.js';
import { resolveClass, sampleImages } from './images.js';
import type { TwoStageOptions } from './two-stage.js';
import type { PackedWeights } from '../models/gpt-packed.js';

export interface SampleCmdOptions {
  run: string;
  class: string;
  n: number;
  out: string;
  system?: SystemKind;
  cfg?: number;
  cfgSchedule?: 'constant' | 'linear';
  temperature?: number;
  topK?: number;
  topP?: number;
  temperature2?: number;
  topK2?: number;
  noRestrict?: boolean;
  cfg2?: number;
  seed: number;
  each?: string;
  batchSize?: number;
  /** precision of the sampling weights (default fp32) */
  weights?: PackedWeights;
}

export function samplingFromOptions(o: Omit<SampleCmdOptions, 'run' | 'class' | 'n' | 'out' | 'seed'>): TwoStageOptions {
  const def = <V>(v: V | undefined) => (v === undefined ? {} : v);
  return {
    stage1: {
      ...def(o.cfg !== undefined ? { cfgScale: o.cfg } : undefined),
      ...def(o.cfgSchedule !== undefined ? { cfgSchedule: o.cfgSchedule } : undefined),
      ...def(o.temperature !== undefined ? { temperature: o.temperature } : undefined),
      ...def(o.topK !== undefined ? { topK: o.topK } : undefined),
      ...def(o.topP !== undefined ? { topP: o.topP } : undefined),
    },
    stage2: {
      ...def(o.temperature2 !== undefined ? { temperature: o.temperature2 } : undefined),
      ...def(o.topK2 !== undefined ? { topK: o.topK2 } : undefined),
      ...def(o.noRestrict ? { restrict: false } : undefined),
      ...def(o.cfg2 !== undefined ? { cfgScale: o.cfg2 } : undefined),
    },
  };
}

export async function sampleCommand(o: SampleCmdOptions): Promise<void> {
  if (!Number.isInteger(o.n) || o.n < 1) throw new Error(`--n must be a positive integer, got ${o.n}`);
  const run = await loadRun(o.run, o.system, { weights: o.weights });
  try {
    const names = run.info.classNames;
    const all = o.class.trim().toLowerCase() === 'all';
    const classList = all ? names.map((_, i) => i) : [resolveClass(o.class, names)];
    const classes = classList.flatMap((c) => Array<number>(o.n).fill(c));
    T.manualSeed(o.seed);
    const t0 = performance.now();
    const r = sampleImages(run, classes, { ...samplingFromOptions(o), batchSize: o.batchSize });
    const secs = (performance.now() - t0) / 1000;
    const [N, c, h, w] = r.shape;
    const cols = all ? o.n : Math.min(o.n, 8);
    const grid = imageGrid(r.images, {
      n: N,
      c,
      h,
      w,
      cols,
      scale: h <= 32 ? 3 : h <= 64 ? 2 : 1,
      rowLabels: all ? names : undefined,
      title: `${run.kind === 'ctf' ? 'CTF' : 'baseline'} samples${all ? '' : ` of '${names[classList[0]!]}'`} (seed ${o.seed})`,
    });
    await grid.savePng(o.out);
    if (o.each) {
      mkdirSync(o.each, { recursive: true });
      const size = c * h * w;
      for (let i = 0; i < N; i++)
        await imageGrid(r.images.subarray(i * size, (i + 1) * size), { n: 1, c, h, w, cols: 1, scale: 1, pad: 0 }).savePng(
          join(o.each, `${String(i).padStart(4, '0')}-${names[classes[i]!]!.replace(/[^A-Za-z0-9_-]+/g, '_')}.png`),
        );
    }
    console.log(
      `${o.out}: ${N} ${run.kind} images in ${secs.toFixed(1)} s (${(N / secs).toFixed(2)} images/s; stage 1 ${r.seconds.stage1.toFixed(1)} s, ` +
        `stage 2 ${r.seconds.stage2.toFixed(1)} s, decode ${r.seconds.decode.toFixed(1)} s)`,
    );
  } finally {
    run.dispose();
  }
}
