// `ctfgen sample --run R --n N --npz samples.npz`: a run's samples in the ADM evaluator's layout
// (sample/npz-samples.ts), with a progress bar; under a launcher the ranks share the shards.
import { canonicalDatasetSpec } from '../data/open.js';
import type { ProcessGroup } from '../dist/group.js';
import { resolveSampling } from '../ctf/index.js';
import { imageGeometry, loadRun } from '../run/load-run.js';
import { sampleImages } from '../sample/images.js';
import { writeNpzSamples, type LabelMode } from '../sample/npz-samples.js';
import * as T from '../torch/index.js';
import { withCompute, type ComputeFlags } from './compute-flags.js';
import { progressReporter } from './progress.js';
import { samplingFromFlags, type SamplingFlags } from './sampling-flags.js';

export interface SampleNpzOptions extends SamplingFlags, Partial<ComputeFlags> {
  run: string;
  n: number;
  npz: string;
  labels: LabelMode;
  shardSize?: number;
  resume?: boolean;
}

export async function sampleNpzCommand(o: SampleNpzOptions): Promise<void> {
  await withCompute({ device: o.device ?? 'cpu', precision: o.precision ?? 'fp32' }, (group) => sampleNpzWith(o, group));
}

async function sampleNpzWith(o: SampleNpzOptions, group: ProcessGroup | null): Promise<void> {
  const run = await loadRun(o.run, o.system, { weights: o.weights, step: o.step });
  const bar = progressReporter();
  try {
    const sampling = samplingFromFlags(o);
    // 64 a batch: the sampler's transient memory grows with the batch (~800 MB peak at 32x32, ~1.06 GB at 100)
    const batchSize = o.batchSize ?? 64;
    const { height: h, width: w } = imageGeometry(run);
    const t0 = performance.now();
    const r = await writeNpzSamples({
      out: o.npz,
      n: o.n,
      numClasses: run.info.numClasses,
      labels: o.labels,
      seed: o.seed,
      batchSize,
      shardSize: o.shardSize,
      resume: o.resume,
      size: [h, w],
      sample: (classes, firstIndex) =>
        T.withPrecision(o.precision, () => sampleImages(run, { classes, firstIndex, seed: o.seed, sampling, batchSize })),
      meta: {
        run: o.run,
        dataset: canonicalDatasetSpec(run.info.dataset),
        system: run.kind,
        numClasses: run.info.numClasses,
        classNames: run.info.classNames,
        settings: resolveSampling(sampling),
      },
      onProgress: bar,
      ranks: group ? { rank: group.rank, size: group.size, barrier: () => group.barrier() } : undefined,
    });
    bar.stop();
    if (group && group.rank !== 0) return;
    const secs = (performance.now() - t0) / 1000;
    console.log(
      `${o.npz}: ${o.n} ${run.kind} images (arr_0 uint8 [${o.n}, ${h}, ${w}, 3], arr_1 ${o.labels} labels)` +
        (r.resumedFrom > 0 ? `, resumed at image ${r.resumedFrom}` : '') +
        ` in ${secs.toFixed(1)} s (${(r.sampled / secs).toFixed(1)} images/s${group ? ` on rank 0 of ${group.size}` : ''})`,
    );
  } finally {
    bar.stop();
    run.dispose();
  }
}
