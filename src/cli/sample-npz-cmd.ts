// `ctfgen sample --run R --n N --npz samples.npz`: a run's samples in the ADM evaluator's layout
// (sample/npz-samples.ts), with a progress bar.
import { canonicalDatasetSpec } from '../data/open.js';
import { sampleImages } from '../sample/images.js';
import { loadRun } from '../sample/load-run.js';
import { writeNpzSamples, type LabelMode } from '../sample/npz-samples.js';
import { samplingFromOptions, type SampleCmdOptions } from '../sample/sample-command.js';
import { progress, type Progress } from './progress.js';

export interface SampleNpzOptions extends Omit<SampleCmdOptions, 'class' | 'out' | 'each'> {
  npz: string;
  labels: LabelMode;
  shardSize?: number;
  resume?: boolean;
}

export async function sampleNpzCommand(o: SampleNpzOptions): Promise<void> {
  const run = await loadRun(o.run, o.system);
  const shown: { bar: Progress | null } = { bar: null };
  try {
    const sampling = samplingFromOptions(o);
    // 64 a batch: the sampler's transient memory grows with the batch (~800 MB peak at 32x32, ~1.06 GB at 100)
    const batchSize = o.batchSize ?? 64;
    const side = Math.round(Math.sqrt(run.models.stage1.config.blockSize)) * run.tokenizer.model.downsampleFactor;
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
      size: [side, side],
      // the sampler draws from the torch generator in image order; writeNpzSamples seeds and restores it
      sample: (classes) => sampleImages(run, classes, { ...sampling, batchSize }),
      meta: {
        run: o.run,
        dataset: canonicalDatasetSpec(run.info.dataset),
        system: run.kind,
        numClasses: run.info.numClasses,
        classNames: run.info.classNames,
        settings: sampling,
      },
      onProgress: (done, total) => {
        shown.bar ??= progress(`sample ${o.npz}`, total, done);
        shown.bar.update(done);
      },
    });
    shown.bar?.stop();
    shown.bar = null;
    const secs = (performance.now() - t0) / 1000;
    console.log(
      `${o.npz}: ${o.n} ${run.kind} images (arr_0 uint8 [${o.n}, ${side}, ${side}, 3], arr_1 ${o.labels} labels)` +
        (r.resumedFrom > 0 ? `, resumed at image ${r.resumedFrom}` : '') +
        ` in ${secs.toFixed(1)} s (${(r.sampled / secs).toFixed(1)} images/s)`,
    );
  } finally {
    shown.bar?.stop();
    run.dispose();
  }
}
