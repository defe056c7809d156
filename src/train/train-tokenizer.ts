// Tokenizer training (`ctfgen tokenizer train`): the LlamaGen VQ model trained with reconstruction (l2) + codebook +
// commitment (β) losses, optional entropy loss, and dead-code restarts that keep a large codebook
// alive: every `restartEvery` steps, codes unused in that window are re-seeded with encoder
// outputs of the current batch. Progress, validation (PSNR, usage), reconstruction grids and
// atomic, exactly-resumable checkpoints come from the shared training loop.
import { join } from 'node:path';
import { batches } from '../data/loader.js';
import { openDataset } from '../data/open.js';
import type { U8ImageDataset } from '../data/dataset.js';
import { AdamW } from '../nn/index.js';
import { reconstructionGrid, reconstructionStats, type ReconstructionStats } from '../tokenizer/evaluate.js';
import { tokenizerPreset, type TokenizerPreset } from '../tokenizer/presets.js';
import type { TokenizerMeta } from '../tokenizer/tokenizer-file.js';
import { VQModel, l2Normalize } from '../tokenizer/vq-model.js';
import * as T from '../torch/index.js';
import type { OnProgress, OnWarning, StopSignal } from '../util/progress.js';
import { capBatchSize, claimOutput, runLoop, type LoopResult } from './loop.js';

export interface TokenizerTrainOptions {
  preset: string;
  out: string;
  data?: string;
  testData?: string;
  steps?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  resume?: boolean;
  /** start over an existing checkpoint at `out`, replacing it */
  overwrite?: boolean;
  /** stop after this step (checkpointed), keeping the schedule of `steps` */
  untilStep?: number;
  /** images of the test split used for periodic validation */
  valImages?: number;
  entropyLossRatio?: number;
  onProgress?: OnProgress;
  signal?: StopSignal;
  /** told of a capped batch size or a torn metrics line (default: a process warning) */
  onWarning?: OnWarning;
}

/** The batch of optimizer step `step` (a pure function of the step, for exact resume). */
function stepBatch(ds: U8ImageDataset, p: TokenizerPreset, batchSize: number, step: number, seed: number) {
  const perEpoch = Math.floor(ds.length / batchSize);
  const epoch = Math.floor(step / perEpoch);
  const it = batches(ds, {
    batchSize,
    seed,
    epoch,
    startBatch: step % perEpoch,
    dropLast: true,
    transform: { ...p.transform, hflip: 0.5 },
  });
  return it.next().value!;
}

type TokenizerTrainResult = LoopResult & { model: VQModel; val: ReconstructionStats };

/** Trains a tokenizer into `out`, holding `<out>.lock` throughout. */
export async function trainTokenizer(o: TokenizerTrainOptions): Promise<TokenizerTrainResult> {
  const p = tokenizerPreset(o.preset);
  const lock = claimOutput(o.out, { resume: o.resume, overwrite: o.overwrite, purpose: 'tokenizer train' });
  try {
    return await trainTokenizerLocked(o, p);
  } finally {
    lock.release();
  }
}

async function trainTokenizerLocked(o: TokenizerTrainOptions, p: TokenizerPreset): Promise<TokenizerTrainResult> {
  const ds = openDataset(o.data ?? p.data);
  const test = openDataset(o.testData ?? p.testData);
  const seed = o.seed ?? 0;
  const batchSize = capBatchSize(o.batchSize ?? p.batchSize, ds.length, `the training set ${ds.name}`, o.onWarning);
  const steps = o.steps ?? p.steps;
  T.manualSeed(seed);
  const config = { ...p.vq, ...(o.entropyLossRatio !== undefined ? { entropyLossRatio: o.entropyLossRatio } : {}) };
  const model = new VQModel(config);
  const V = model.config.codebookSize;
  const optimizer = new AdamW(model.parameters(), { lr: o.lr ?? p.lr, betas: [0.9, 0.95], weightDecay: 0 });
  const usage = new Float64Array(V); // code counts in the current restart window
  let lastImages = null as T.Tensor | null; // the last batch, whose latents re-seed dead codes
  let restarts = 0;
  const valN = Math.min(test.length, o.valImages ?? 512);
  const valBatch = batches(test, { batchSize: valN, shuffle: false, transform: p.transform }).next().value!;
  const valImages = T.keep(T.fromArray(valBatch.images, [valN, valBatch.c, valBatch.h, valBatch.w]));
  const meta: TokenizerMeta & Record<string, unknown> = {
    kind: 'vq-tokenizer',
    config,
    transform: p.transform,
    dataset: o.data ?? p.data,
    preset: o.preset,
  };
  let val: ReconstructionStats = { mse: NaN, psnr: NaN, usage: NaN, perplexity: NaN, n: 0 };
  try {
    const result = await runLoop({
      name: 'tokenizer',
      model,
      optimizer,
      totalSteps: steps,
      schedule: { lr: o.lr ?? p.lr, warmupSteps: Math.min(200, Math.floor(steps / 10)), decay: 'cosine', minLr: (o.lr ?? p.lr) / 10 },
      gradClip: 1,
      checkpointPath: o.out,
      metricsPath: `${o.out}.metrics.jsonl`,
      resume: o.resume,
      untilStep: o.untilStep,
      onProgress: o.onProgress,
      signal: o.signal,
      onWarning: o.onWarning,
      meta,
      validateEvery: p.reportEvery,
      saveEvery: p.reportEvery,
      state: {
        save: () => ({ usage: Buffer.from(usage.buffer).toString('base64'), restarts }),
        load: (s) => {
          const saved = s as { usage: string; restarts: number };
          usage.set(new Float64Array(new Uint8Array(Buffer.from(saved.usage, 'base64')).buffer));
          restarts = saved.restarts;
        },
      },
      itemsPerStep: batchSize,
      itemName: 'images',
      microStep: (step) => {
        const b = stepBatch(ds, p, batchSize, step, seed);
        const images = T.fromArray(b.images, [b.n, b.c, b.h, b.w]);
        const f = model.forward(images);
        const recon = f.recon.sub(images).square().mean();
        let loss = recon.add(f.codebookLoss).add(f.commitLoss);
        if (f.entropyLoss) loss = loss.add(f.entropyLoss);
        for (const c of f.codes.toInt32Array()) usage[c]!++;
        lastImages?.dispose();
        lastImages = T.keep(images);
        const psnr = 10 * Math.log10(4 / recon.item());
        return { loss, metrics: { recon: recon.item(), psnr } };
      },
      afterStep: (step): Record<string, number> => {
        if ((step + 1) % p.restartEvery !== 0 || !lastImages) return {};
        const dead = usage.reduce((n, u) => n + (u === 0 ? 1 : 0), 0);
        if (dead > 0) restarts += restartDeadCodes(model, usage, lastImages);
        const used = 1 - dead / V;
        usage.fill(0);
        return { windowUsage: used, restarts };
      },
      validate: () => {
        val = reconstructionStats(model, valImages);
        return { valMse: val.mse, valPsnr: val.psnr, valUsage: val.usage, valPerplexity: val.perplexity };
      },
      onReport: (step) => reconstructionGrid(model, valImages, join(`${o.out}.recon-${String(step).padStart(6, '0')}.png`)),
    });
    return { ...result, model, val };
  } finally {
    optimizer.dispose();
    valImages.dispose();
    lastImages?.dispose();
  }
}

/** Re-seeds every code with zero usage by a random (normalised) latent of `images`; returns how many. */
function restartDeadCodes(model: VQModel, usage: Float64Array, images: T.Tensor): number {
  const deadIdx = Int32Array.from(usage.keys()).filter((i) => usage[i] === 0);
  T.noGrad(() =>
    T.tidy(() => {
      const w = model.quantizer.embedding.weight;
      const z = l2Normalize(model.encodeToLatent(images).permute(0, 2, 3, 1).reshape(-1, w.size(1)));
      const picks = T.randint(0, z.size(0), [deadIdx.length]);
      const fresh = z.indexSelect(0, picks);
      const dead = T.fromArray(deadIdx, [deadIdx.length], 'int64');
      const rows = dead.unsqueeze(1).expand(deadIdx.length, w.size(1));
      w.copy_(w.scatter(0, rows, fresh));
    }),
  );
  return deadIdx.length;
}
