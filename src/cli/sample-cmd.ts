// `ctfgen sample --run <dir>`: a PNG grid of generated images (one row per class with --class all).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { isMainProcess } from '../dist/env.js';
import type { ProcessGroup } from '../dist/group.js';
import { loadRun } from '../run/load-run.js';
import { sampleImagesSpread } from '../sample/distributed.js';
import { resolveClass } from '../sample/images.js';
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
}

export async function sampleCommand(o: SampleCmdOptions): Promise<void> {
  if (!Number.isInteger(o.n) || o.n < 1) throw new Error(`--n must be a positive integer, got ${o.n}`);
  await withCompute({ device: o.device ?? 'cpu', precision: o.precision ?? 'fp32' }, (group) => sampleWith(o, group));
}

async function sampleWith(o: SampleCmdOptions, group: ProcessGroup | null): Promise<void> {
  const run = await loadRun(o.run, o.system);
  const bar = progressReporter();
  try {
    const names = run.info.classNames;
    const all = o.class.trim().toLowerCase() === 'all';
    const classList = all ? names.map((_, i) => i) : [resolveClass(o.class, names)];
    const classes = classList.flatMap((c) => Array<number>(o.n).fill(c));
    const t0 = performance.now();
    const r = sampleImagesSpread(
      run,
      {
        classes,
        seed: o.seed,
        sampling: samplingFromFlags(o),
        batchSize: o.batchSize,
        onProgress: (p) => bar({ phase: p.stage, done: p.done, total: p.total }),
      },
      { group, precision: o.precision },
    );
    bar.stop();
    if (!isMainProcess()) return;
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
    bar.stop();
    run.dispose();
  }
}
