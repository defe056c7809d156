// Trainers over token caches: stage 1 (GPT over coarse labels), stage 2 (auxiliary model: coarse
// map → every fine token) and the baseline (GPT over fine tokens). One function, three stages:
// they differ only in the vocabularies, the attention and what the loss compares.
import { loadClusters } from '../cluster/clusters.js';
import { epochOrder } from '../data/loader.js';
import { hashUniform } from '../data/rng.js';
import { loadTokenCache, tokenBatch, tokensPerImage, type TokenCache } from '../data/token-cache.js';
import { auxLogits, maskToClusters } from '../models/aux.js';
import { GPT } from '../models/gpt.js';
import type { GPTConfig } from '../models/gpt-config.js';
import { AdamW, decayGroups } from '../nn/index.js';
import * as T from '../torch/index.js';
import { Ema } from './ema.js';
import { runLoop, type LoopResult } from './loop.js';
import { RunDir, type Stage } from './run-dir.js';
import type { LrSchedule } from './schedule.js';

export interface ModelSize {
  dim: number;
  nLayer: number;
  nHead: number;
}

export interface TokenTrainOptions {
  stage: Stage;
  run: string;
  tokenizer: string;
  trainCache: string;
  valCache?: string;
  /** required for ar and aux */
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
  dropout?: { token?: number; resid?: number; ffn?: number; class?: number };
  /** stage 2: 'full' (default) or 'causal' attention */
  auxAttention?: 'full' | 'causal';
  /** stage 2: restrict the loss's softmax to the members of each position's coarse label */
  auxMask?: boolean;
  seed?: number;
  validateEvery?: number;
  saveEvery?: number;
  valSamples?: number;
  resume?: boolean;
  /** stop after this step (checkpointed), keeping the schedule of `steps` */
  untilStep?: number;
  quiet?: boolean;
  onReport?: (step: number) => void | Promise<void>;
}

const FLIP_KEY = 0x544f4b46; // "TOKF"

/** What stage s reads and predicts. */
export function stageModelConfig(
  stage: Stage,
  size: ModelSize,
  cache: TokenCache,
  k: number | undefined,
  o: Pick<TokenTrainOptions, 'dropout' | 'auxAttention'>,
): GPTConfig {
  const L = tokensPerImage(cache);
  const common = {
    ...size,
    numClasses: cache.numClasses,
    blockSize: L,
    tokenDropout: o.dropout?.token ?? 0.1,
    residDropout: o.dropout?.resid ?? 0.1,
    ffnDropout: o.dropout?.ffn ?? 0.1,
    classDropout: o.dropout?.class ?? 0.1,
  };
  if (stage === 'baseline') return { ...common, vocabSize: cache.codebookSize };
  if (k === undefined) throw new Error(`stage ${stage} needs --clusters`);
  if (stage === 'ar') return { ...common, vocabSize: k };
  return { ...common, vocabSize: cache.codebookSize, inputVocabSize: k, attention: o.auxAttention ?? 'full' };
}

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

/** Loss and accuracy of one batch for a stage. tokens: fine codes [B, L]. */
export function stageLoss(
  stage: Stage,
  model: GPT,
  classes: T.Tensor,
  fine: T.Tensor,
  idxToCluster: T.Tensor | null,
  auxMask: boolean,
): { loss: T.Tensor; acc: T.Tensor } {
  const coarse = idxToCluster ? idxToCluster.indexSelect(0, fine.reshape(-1)).reshape(...fine.shape) : null;
  let logits: T.Tensor;
  let target: T.Tensor;
  if (stage === 'aux') {
    logits = auxLogits(model, classes, coarse!);
    if (auxMask) logits = maskToClusters(logits, idxToCluster!, coarse!);
    target = fine;
  } else {
    target = stage === 'ar' ? coarse! : fine;
    logits = model.forward(classes, target.slice(1, 0, target.size(1) - 1));
  }
  const V = logits.size(-1);
  const flat = logits.reshape(-1, V);
  const t = target.reshape(-1);
  return { loss: T.crossEntropy(flat, t), acc: flat.argmax(-1).eq(t).float().mean() };
}

export async function trainTokens(o: TokenTrainOptions): Promise<LoopResult & { model: GPT }> {
  const run = new RunDir(o.run);
  const cache = await loadTokenCache(o.trainCache);
  const val = o.valCache ? await loadTokenCache(o.valCache) : null;
  if (val && (val.codebookSize !== cache.codebookSize || val.tokenizerId !== cache.tokenizerId))
    throw new Error(`validation cache ${o.valCache} was made with another tokenizer than ${o.trainCache}`);
  const clusters = o.stage === 'baseline' ? null : o.clusters ? await loadClusters(o.clusters) : null;
  if (o.stage !== 'baseline' && !clusters)
    throw new Error(`ctfgen train ${o.stage} needs --clusters <file> (make one with \`ctfgen cluster\`)`);
  if (clusters && clusters.idxToCluster.length !== cache.codebookSize)
    throw new Error(
      `clusters ${o.clusters} label ${clusters.idxToCluster.length} codes but the token cache's codebook has ${cache.codebookSize}`,
    );
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
  T.manualSeed(seed);
  const config = stageModelConfig(o.stage, o.model, cache, clusters?.k, o);
  const model = new GPT(config);
  const weightDecay = o.weightDecay ?? 0.05;
  const optimizer = new AdamW(decayGroups(model.namedParameters(), weightDecay), { lr: o.schedule?.lr ?? 1e-4, betas: [0.9, 0.95] });
  const idxToCluster = clusters ? T.keep(T.fromArray(clusters.idxToCluster, [clusters.idxToCluster.length], 'int64')) : null;
  const accum = o.gradAccumulation ?? 1;
  const L = tokensPerImage(cache);
  const batchOf = (c: TokenCache, idx: ArrayLike<number>, variant: ArrayLike<number>) => {
    const { tokens, labels } = tokenBatch(c, idx, variant);
    return { fine: T.fromArray(tokens, [idx.length, L], 'int64'), classes: T.fromArray(labels, [idx.length], 'int64') };
  };
  const auxMask = o.auxMask ?? false;
  const ema = o.ema ? new Ema(model, o.ema) : undefined;
  try {
    const result = await runLoop({
      name: `train ${o.stage}`,
      model,
      optimizer,
      totalSteps: o.steps,
      schedule: o.schedule ?? { lr: 1e-4 },
      gradAccumulation: accum,
      gradClip: o.gradClip ?? 1,
      ema,
      checkpointPath: run.checkpoint(o.stage),
      metricsPath: run.metrics(o.stage),
      resume: o.resume,
      untilStep: o.untilStep,
      quiet: o.quiet,
      itemsPerStep: o.batchSize * accum * L,
      itemName: 'tokens',
      validateEvery: o.validateEvery,
      saveEvery: o.saveEvery,
      onReport: o.onReport,
      meta: {
        kind: 'gpt',
        stage: o.stage,
        modelConfig: config,
        clusters: clusters ? { id: clusters.id, k: clusters.k, path: o.clusters } : null,
        tokenizerId: cache.tokenizerId,
        auxMask,
        train: { ...o, onReport: undefined },
      },
      microStep: (step, micro) => {
        const { idx, variant } = stepSamples(cache.n, o.batchSize, step, micro, accum, seed, cache.variants);
        const { fine, classes } = batchOf(cache, idx, variant);
        const { loss, acc } = stageLoss(o.stage, model, classes, fine, idxToCluster, auxMask);
        return { loss, metrics: { acc: acc.item() } };
      },
      validate: val
        ? () => {
            const n = Math.min(val.n, o.valSamples ?? 512);
            let loss = 0;
            let acc = 0;
            for (let from = 0; from < n; from += o.batchSize) {
              const m = Math.min(o.batchSize, n - from);
              T.tidy(() => {
                const idx = Int32Array.from({ length: m }, (_, i) => from + i);
                const { fine, classes } = batchOf(val, idx, new Uint8Array(m));
                const r = stageLoss(o.stage, model, classes, fine, idxToCluster, auxMask);
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
    idxToCluster?.dispose();
  }
}
