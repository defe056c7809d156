// Training of the three stages over token caches: stage 1 (GPT over coarse labels), stage 2
// (auxiliary model: coarse map → every fine token) and the baseline (GPT over fine tokens). What
// each stage reads, predicts and is scored on is the method's (ctf/stages.ts); this is the data,
// the optimizer and the run folder around it.
// With a process group the ranks share every batch (loop.ts) and rank 0 writes the run folder.
import { loadClusters } from '../cluster/cluster-file.js';
import {
  TRAINING_DEFAULTS,
  codeClusters,
  stageLoss,
  stageModelConfig,
  type ModelSize,
  type Stage,
  type Stage2Design,
  type StageDropout,
} from '../ctf/index.js';
import type { ProcessGroup } from '../dist/group.js';
import { epochOrder } from '../data/loader.js';
import { hashUniform } from '../data/rng.js';
import { loadTokenCache, tokenBatch, tokensPerImage, type TokenCache } from '../data/token-cache.js';
import { GPT } from '../models/gpt.js';
import { AdamW, decayGroups } from '../nn/index.js';
import { RunDir } from '../run/run-dir.js';
import * as T from '../torch/index.js';
import type { OnProgress, OnWarning, StopSignal } from '../util/progress.js';
import { Ema } from './ema.js';
import { capBatchSize, claimOutput, runLoop, type LoopResult } from './loop.js';
import type { LrSchedule } from './schedule.js';

export interface TokenTrainOptions {
  stage: Stage;
  run: string;
  tokenizer: string;
  trainCache: string;
  valCache?: string;
  /** required for stage 1 and stage 2 */
  clusters?: string;
  model: ModelSize;
  steps: number;
  batchSize: number;
  gradAccumulation?: number;
  schedule?: LrSchedule;
  weightDecay?: number;
  gradClip?: number;
  /** decay of parameter averages kept beside the weights (e.g. 0.999); sampling then uses them */
  ema?: number;
  dropout?: StageDropout;
  /** stage 2's attention and loss */
  stage2?: Stage2Design;
  seed?: number;
  validateEvery?: number;
  saveEvery?: number;
  /** steps between kept snapshots of the weights (`<stage>.step-<N>.safetensors`): the run evaluated along its training */
  keepEvery?: number;
  valSamples?: number;
  resume?: boolean;
  /** start over an existing checkpoint of this stage, replacing it */
  overwrite?: boolean;
  /** stop after this step (checkpointed), keeping the schedule of `steps` */
  untilStep?: number;
  onProgress?: OnProgress;
  signal?: StopSignal;
  /** told of a capped batch size or a torn metrics line (default: a process warning) */
  onWarning?: OnWarning;
  onReport?: (step: number) => void | Promise<void>;
  /** data-parallel over these ranks (rank 0 writes) */
  group?: ProcessGroup | null;
  precision?: T.Precision;
}

const FLIP_KEY = 0x544f4b46; // "TOKF"

/** Sample indices and flip variants of optimizer step `step` (a pure function of the step). */
export function stepSamples(
  n: number,
  batchSize: number,
  step: number,
  micro: number,
  accum: number,
  seed: number,
  variants: number,
): { idx: Int32Array; variant: Uint8Array } {
  const idx = new Int32Array(batchSize);
  const variant = new Uint8Array(batchSize);
  const orders = new Map<number, Int32Array>();
  for (let b = 0; b < batchSize; b++) {
    const g = ((step * accum + micro) * batchSize + b) % Number.MAX_SAFE_INTEGER;
    const epoch = Math.floor(g / n);
    let order = orders.get(epoch);
    if (!order) orders.set(epoch, (order = epochOrder(n, { seed, epoch })));
    idx[b] = order[g % n]!;
    // uniform over the cached variants (original/mirror, or ten crops); for two variants this is u < 0.5 → 1 as before
    variant[b] = variants - 1 - Math.floor(hashUniform(seed ^ FLIP_KEY, epoch, idx[b]!) * variants);
  }
  return { idx, variant };
}

/** Trains one stage into a run folder, holding the run folder's lock throughout (one trainer per run at a time). */
export async function trainTokens(o: TokenTrainOptions): Promise<LoopResult & { model: GPT }> {
  const run = new RunDir(o.run).ensure();
  const lock = claimOutput(run.checkpoint(o.stage), {
    resume: o.resume,
    overwrite: o.overwrite,
    lockPath: run.lockPath,
    purpose: `train ${o.stage}`,
    group: o.group,
  });
  try {
    return await trainTokensLocked(run, o);
  } finally {
    lock.release();
  }
}

async function trainTokensLocked(run: RunDir, o: TokenTrainOptions): Promise<LoopResult & { model: GPT }> {
  const cache = await loadTokenCache(o.trainCache);
  const val = o.valCache ? await loadTokenCache(o.valCache) : null;
  if (val && (val.codebookSize !== cache.codebookSize || val.tokenizerId !== cache.tokenizerId))
    throw new Error(`validation cache ${o.valCache} was made with another tokenizer than ${o.trainCache}`);
  const clusterFile = o.stage === 'baseline' ? null : o.clusters ? await loadClusters(o.clusters) : null;
  if (o.stage !== 'baseline' && !clusterFile)
    throw new Error(`ctfgen train ${o.stage} needs --clusters <file> (make one with \`ctfgen cluster\`)`);
  if (clusterFile && clusterFile.idxToCluster.length !== cache.codebookSize)
    throw new Error(
      `clusters ${o.clusters} label ${clusterFile.idxToCluster.length} codes but the token cache's codebook has ${cache.codebookSize}`,
    );
  const main = !o.group || o.group.rank === 0;
  if (main)
    run.writeInfo({
      tokenizer: o.tokenizer,
      clusters: o.clusters,
      trainCache: o.trainCache,
      valCache: o.valCache,
      dataset: cache.dataset,
      classNames: cache.classNames,
      numClasses: cache.numClasses,
    });
  const seed = o.seed ?? 0;
  const batchSize = capBatchSize(o.batchSize, cache.n, `the training cache ${o.trainCache}`, o.onWarning);
  T.manualSeed(seed);
  const L = tokensPerImage(cache);
  const shape = { numClasses: cache.numClasses, blockSize: L, codebookSize: cache.codebookSize, k: clusterFile?.k };
  const config = stageModelConfig(o.stage, o.model, shape, { dropout: o.dropout, ...o.stage2 });
  const model = new GPT(config);
  const weightDecay = o.weightDecay ?? TRAINING_DEFAULTS.weightDecay;
  const schedule = o.schedule ?? { lr: TRAINING_DEFAULTS.lr };
  const optimizer = new AdamW(decayGroups(model.namedParameters(), weightDecay), { lr: schedule.lr, betas: [...TRAINING_DEFAULTS.betas] });
  const clusters = clusterFile ? codeClusters(clusterFile.idxToCluster, clusterFile.k) : null;
  const accum = o.gradAccumulation ?? 1;
  const batchOf = (c: TokenCache, idx: ArrayLike<number>, variant: ArrayLike<number>) => {
    const { tokens, labels } = tokenBatch(c, idx, variant);
    return { fine: T.fromArray(tokens, [idx.length, L], 'int64'), classes: T.fromArray(labels, [idx.length], 'int64') };
  };
  const design: Stage2Design = { attention: config.attention === 'causal' ? 'causal' : 'full', maskedLoss: o.stage2?.maskedLoss ?? false };
  const ema = o.ema ? new Ema(model, o.ema) : undefined;
  try {
    const result = await runLoop({
      name: `train ${o.stage}`,
      model,
      optimizer,
      totalSteps: o.steps,
      schedule,
      gradAccumulation: accum,
      gradClip: o.gradClip ?? TRAINING_DEFAULTS.gradClip,
      ema,
      checkpointPath: run.checkpoint(o.stage),
      metricsPath: run.metrics(o.stage),
      resume: o.resume,
      untilStep: o.untilStep,
      onProgress: o.onProgress,
      signal: o.signal,
      onWarning: o.onWarning,
      itemsPerStep: batchSize * accum * L,
      itemName: 'tokens',
      validateEvery: o.validateEvery,
      saveEvery: o.saveEvery,
      keep: o.keepEvery ? { every: o.keepEvery, path: (step) => run.checkpoint(o.stage, step) } : undefined,
      onReport: o.onReport,
      meta: {
        kind: 'gpt',
        stage: o.stage,
        modelConfig: config,
        clusters: clusterFile ? { id: clusterFile.id, k: clusterFile.k, path: o.clusters } : null,
        tokenizerId: cache.tokenizerId,
        ...(o.stage === 'stage2' ? { stage2: design } : {}),
        train: { ...o, batchSize, onReport: undefined, onProgress: undefined, signal: undefined, onWarning: undefined, group: undefined },
      },
      batchSize,
      group: o.group,
      precision: o.precision,
      microStep: (step, micro, part) => {
        const all = stepSamples(cache.n, batchSize, step, micro, accum, seed, cache.variants);
        const to = part.from + part.count;
        const { fine, classes } = batchOf(cache, all.idx.subarray(part.from, to), all.variant.subarray(part.from, to));
        const { loss, acc } = stageLoss(o.stage, model, classes, fine, clusters, design);
        return { loss, metrics: { acc: acc.item() } };
      },
      validate: val
        ? () => {
            const n = Math.min(val.n, o.valSamples ?? 512);
            let loss = 0;
            let acc = 0;
            for (let from = 0; from < n; from += batchSize) {
              const m = Math.min(batchSize, n - from);
              T.tidy(() => {
                const idx = Int32Array.from({ length: m }, (_, i) => from + i);
                const { fine, classes } = batchOf(val, idx, new Uint8Array(m));
                const r = stageLoss(o.stage, model, classes, fine, clusters, design);
                loss += r.loss.item() * m;
                acc += r.acc.item() * m;
              });
            }
            return { valLoss: loss / n, valAcc: acc / n };
          }
        : undefined,
    });
    return { ...result, model };
  } finally {
    optimizer.dispose();
    ema?.dispose();
    clusters?.dispose();
  }
}
