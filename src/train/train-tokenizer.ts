// Tokenizer training (`ctfgen tokenizer train`): the LlamaGen VQ model trained with reconstruction (l2) + codebook +
// commitment (β) losses, optional entropy loss, and dead-code restarts that keep a large codebook
// alive: every `restartEvery` steps, codes unused in that window are re-seeded with encoder
// outputs of the current batch. Progress, validation (PSNR, usage), reconstruction grids and
// atomic, exactly-resumable checkpoints come from the shared training loop. With a process group the
// ranks share every batch (the loop); code usage is summed over the ranks every step, and rank 0
// decides the restarts (from the whole batch) and hands the codebook to the others.
import { join } from 'node:path';
import { allGatherRows, allReduceNumbers } from '../dist/collectives.js';
import type { ProcessGroup } from '../dist/group.js';
import type { IndexRange } from '../dist/shard.js';
import { batchAtStep, batches } from '../data/loader.js';
import { openDataset } from '../data/open.js';
import type { Batch, U8ImageDataset } from '../data/dataset.js';
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
  /** codes in the codebook (default: the preset's) */
  codebookSize?: number;
  onProgress?: OnProgress;
  signal?: StopSignal;
  /** told of a capped batch size or a torn metrics line (default: a process warning) */
  onWarning?: OnWarning;
  /** data-parallel over these ranks (rank 0 writes) */
  group?: ProcessGroup | null;
  precision?: T.Precision;
}

/** Samples `part` (default all) of the batch of optimizer step `step` (a pure function of the step). */
function stepBatch(ds: U8ImageDataset, p: TokenizerPreset, batchSize: number, step: number, seed: number, part?: IndexRange) {
  return batchAtStep(ds, { batchSize, seed, transform: { ...p.transform, hflip: 0.5 }, part }, step);
}

type TokenizerTrainResult = LoopResult & { model: VQModel; val: ReconstructionStats };

/** Trains a tokenizer into `out`, holding `<out>.lock` throughout. */
export async function trainTokenizer(o: TokenizerTrainOptions): Promise<TokenizerTrainResult> {
  const p = tokenizerPreset(o.preset);
  const lock = claimOutput(o.out, { resume: o.resume, overwrite: o.overwrite, purpose: 'tokenizer train', group: o.group });
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
  const config = {
    ...p.vq,
    ...(o.entropyLossRatio !== undefined ? { entropyLossRatio: o.entropyLossRatio } : {}),
    ...(o.codebookSize !== undefined ? { codebookSize: o.codebookSize } : {}),
  };
  const model = new VQModel(config);
  const V = model.config.codebookSize;
  const optimizer = new AdamW(model.parameters(), { lr: o.lr ?? p.lr, betas: [0.9, 0.95], weightDecay: 0 });
  const usage = new Float64Array(V); // code counts in the current restart window (all ranks)
  const stepUsage = new Float64Array(V); // this rank's code counts in the current step
  const group = o.group ?? null;
  let stepCodes: { codes: Int32Array; perImage: number } = { codes: new Int32Array(0), perImage: 0 }; // this rank's codes of this step
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
      batchSize,
      group,
      precision: o.precision,
      microStep: (step, _micro, part) => {
        const b = stepBatch(ds, p, batchSize, step, seed, part);
        const images = T.fromArray(b.images, [b.n, b.c, b.h, b.w]);
        const f = model.forward(images, { recordUsage: !group });
        const recon = f.recon.sub(images).square().mean();
        let loss = recon.add(f.codebookLoss).add(f.commitLoss);
        if (f.entropyLoss) loss = loss.add(f.entropyLoss);
        stepCodes = { codes: f.codes.toInt32Array(), perImage: f.codes.numel / b.n };
        for (const c of stepCodes.codes) stepUsage[c]!++;
        return { loss, metrics: { recon: recon.item() } };
      },
      afterStep: (step, metrics): Record<string, number> => {
        const counts = group ? allReduceNumbers(group, stepUsage) : stepUsage;
        // LlamaGen's record of recent codes takes the whole batch's, in order
        if (group) recordBatchUsage(model, allGatherRows(group, stepCodes.codes, batchSize, stepCodes.perImage));
        for (let c = 0; c < V; c++) usage[c]! += counts[c]!;
        stepUsage.fill(0);
        const psnr = 10 * Math.log10(4 / metrics.recon!);
        if ((step + 1) % p.restartEvery !== 0) return { psnr };
        const dead = usage.reduce((n, u) => n + (u === 0 ? 1 : 0), 0);
        if (dead > 0) {
          // decided once, on rank 0, from the step's whole batch; the others take its codebook
          if (!group || group.rank === 0) restartDeadCodes(model, usage, stepBatch(ds, p, batchSize, step, seed));
          group?.broadcast([model.quantizer.embedding.weight], 0);
          restarts += dead;
        }
        const used = 1 - dead / V;
        usage.fill(0);
        return { psnr, windowUsage: used, restarts };
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
  }
}

function recordBatchUsage(model: VQModel, codes: Int32Array): void {
  T.tidy(() => model.quantizer.recordUsage(T.fromArray(codes, [codes.length], 'int64')));
}

/** Re-seeds every code with zero usage by a random (normalised) latent of the batch's images. */
function restartDeadCodes(model: VQModel, usage: Float64Array, batch: Batch): void {
  const deadIdx = Int32Array.from(usage.keys()).filter((i) => usage[i] === 0);
  T.noGrad(() =>
    T.tidy(() => {
      const images = T.fromArray(batch.images, [batch.n, batch.c, batch.h, batch.w]);
      const w = model.quantizer.embedding.weight;
      const z = l2Normalize(model.encodeToLatent(images).permute(0, 2, 3, 1).reshape(-1, w.size(1)));
      const picks = T.randint(0, z.size(0), [deadIdx.length]);
      const fresh = z.indexSelect(0, picks);
      const dead = T.fromArray(deadIdx, [deadIdx.length], 'int64');
      const rows = dead.unsqueeze(1).expand(deadIdx.length, w.size(1));
      w.copy_(w.scatter(0, rows, fresh));
    }),
  );
}
