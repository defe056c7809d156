// `ctfgen train stage1|stage2|baseline`: options → trainTokens, with presets for the defaults.
import type { Stage } from '../ctf/index.js';
import { isMainProcess } from '../dist/env.js';
import { RunDir } from '../run/run-dir.js';
import { writeTrainingCurve } from '../train/curve.js';
import { tokenPreset } from '../train/presets.js';
import { trainTokens } from '../train/train-tokens.js';
import { withCompute, type ComputeFlags } from './compute-flags.js';
import { progressReporter, warn } from './progress.js';

export interface TrainCmdOptions extends ComputeFlags {
  run: string;
  tokenizer: string;
  trainCache: string;
  valCache?: string;
  clusters?: string;
  preset: string;
  steps?: number;
  batchSize?: number;
  gradAccum?: number;
  ema?: number;
  lr?: number;
  dim?: number;
  layers?: number;
  heads?: number;
  seed: number;
  resume?: boolean;
  overwrite?: boolean;
  validateEvery?: number;
  saveEvery?: number;
  keepEvery?: number;
  stage2Mask?: boolean;
  stage2Causal?: boolean;
  /** token, residual and FFN dropout */
  dropout?: number;
  classDropout?: number;
}

export async function trainCommand(stage: Stage, o: TrainCmdOptions): Promise<void> {
  const p = tokenPreset(o.preset);
  const size = p.model;
  const run = new RunDir(o.run);
  const bar = progressReporter();
  try {
    const r = await withCompute(o, (group) =>
      trainTokens({
        stage,
        run: o.run,
        tokenizer: o.tokenizer,
        trainCache: o.trainCache,
        valCache: o.valCache,
        clusters: o.clusters,
        model: { dim: o.dim ?? size.dim, nLayer: o.layers ?? size.nLayer, nHead: o.heads ?? size.nHead },
        steps: o.steps ?? p.steps,
        batchSize: o.batchSize ?? p.batchSize,
        gradAccumulation: o.gradAccum,
        ema: o.ema,
        dropout: {
          ...(o.dropout !== undefined ? { token: o.dropout, resid: o.dropout, ffn: o.dropout } : {}),
          ...(o.classDropout !== undefined ? { class: o.classDropout } : {}),
        },
        schedule: { ...p.schedule, ...(o.lr !== undefined ? { lr: o.lr } : {}) },
        seed: o.seed,
        resume: o.resume,
        overwrite: o.overwrite,
        validateEvery: o.validateEvery ?? p.validateEvery,
        saveEvery: o.saveEvery ?? p.saveEvery,
        keepEvery: o.keepEvery,
        stage2: stage === 'stage2' ? { maskedLoss: o.stage2Mask ?? false, attention: o.stage2Causal ? 'causal' : 'full' } : undefined,
        onProgress: bar,
        onWarning: warn,
        onReport: () => writeTrainingCurve(run.metrics(stage), run.curve(stage), `${stage} training (${o.run})`),
        group,
        precision: o.precision,
      }),
    );
    bar.stop();
    r.model.dispose();
    if (!isMainProcess()) return;
    const last = Object.entries(r.last)
      .map(([k, v]) => `${k} ${v.toFixed(4)}`)
      .join(', ');
    console.log(
      `train ${stage}: ${r.steps} steps in ${r.seconds.toFixed(0)} s${r.resumedFrom ? ` (resumed at ${r.resumedFrom})` : ''}; ${last}`,
    );
    console.log(`  weights ${run.checkpoint(stage)}, metrics ${run.metrics(stage)}, curve ${run.curve(stage)}`);
  } finally {
    bar.stop();
  }
}
