// The training loop every trainer shares: gradient accumulation, clipping, AdamW, learning-rate
// schedule, periodic validation, JSONL metrics, progress reports, cancellation, atomic checkpoints
// and exact resume (weights, optimizer moments, step, RNG state; data order is a function of the step).
// Trainers claim their output first (claimOutput): an exclusive lock, and no silent replacement of
// a finished checkpoint.
//
// Data-parallel over a process group (src/dist/): `batchSize` is the global micro-batch; rank r
// computes samples rankRange(batchSize, r, size) of it, scales its loss by its share, and the
// gradients are summed over the ranks, so every rank takes the step one process would take on the
// whole batch, whatever the number of ranks or an uneven split. The training state (weights,
// optimizer, EMA, trainer state) starts as rank 0's; the logged numbers are the global batch's;
// rank 0 alone validates and writes (checkpoints, metrics, reports, the lock), so a run resumes
// with any number of ranks. Each rank draws dropout from a random stream of its own.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { allGatherBytes, allReduceNumbers, anyRank, broadcastJson } from '../dist/collectives.js';
import { allReduceGradients, broadcastTensors } from '../dist/data-parallel.js';
import type { ProcessGroup } from '../dist/group.js';
import { rankRange, type IndexRange } from '../dist/shard.js';
import { acquireLock, loadCheckpoint, saveCheckpoint, type RawTensor } from '../io/index.js';
import * as T from '../torch/index.js';
import type { AdamW, Module } from '../nn/index.js';
import { abortError, warnProcess, type OnProgress, type OnWarning, type StopSignal } from '../util/progress.js';
import { MetricsLog, type MetricRecord } from './metrics-log.js';
import type { Ema } from './ema.js';
import { lrAt, type LrSchedule } from './schedule.js';

export interface MicroStepResult {
  /** scalar mean loss over the samples computed (the loop scales it by their share and 1/accumulation) */
  loss: T.Tensor;
  /** extra numbers to log, means over the samples computed (accuracy, …) */
  metrics?: Record<string, number>;
}

export interface LoopSpec {
  name: string;
  model: Module;
  optimizer: AdamW;
  totalSteps: number;
  schedule: LrSchedule;
  /** samples in one micro-batch of the whole run (all ranks together) */
  batchSize: number;
  /**
   * Forward + loss (no backward) of samples [part.from, part.from + part.count) of micro-batch
   * `micro` of optimizer step `step` (the whole micro-batch when training alone).
   */
  microStep: (step: number, micro: number, part: IndexRange) => MicroStepResult;
  gradAccumulation?: number;
  gradClip?: number;
  /** parameter averages updated after every optimizer step, saved and restored with the optimizer */
  ema?: Ema;
  /**
   * After each optimizer step (e.g. dead-code restarts), on every rank, with the step's metrics
   * (those of the whole batch); returned numbers are logged with the step.
   */
  afterStep?: (step: number, metrics: Record<string, number>) => Record<string, number> | void;
  /** run in eval mode, without gradients (an async one must turn them off itself) */
  validate?: () => Record<string, number> | Promise<Record<string, number>>;
  validateEvery?: number;
  saveEvery?: number;
  /** snapshots kept every `every` steps: the sampling weights at those steps, each in its own file `path(step)` */
  keep?: { every: number; path: (step: number) => string };
  checkpointPath: string;
  metricsPath: string;
  /** JSON-able description stored in every checkpoint (configs, references). */
  meta: Record<string, unknown>;
  /** Trainer state outside the model and optimizer (e.g. usage counters), saved for exact resume. */
  state?: { save(): unknown; load(saved: unknown): void };
  resume?: boolean;
  /** Stop (with a checkpoint) after this step, keeping the schedule of totalSteps: a time-boxed session. */
  untilStep?: number;
  /** Called after each validation and at the end (curves, sample grids). */
  onReport?: (step: number) => void | Promise<void>;
  /** Items per optimizer step for the rate display (e.g. tokens). */
  itemsPerStep?: number;
  itemName?: string;
  /** after every optimizer step: phase = name, done = steps, info = loss (and accuracy) */
  onProgress?: OnProgress;
  /** checked before every step; an aborted run stops with an AbortError after saving its last finished step */
  signal?: StopSignal;
  /** told of recoverable problems (a torn last line in the metrics log); default: a process warning */
  onWarning?: OnWarning;
  /** data-parallel training over these ranks (every rank runs runLoop with the same spec) */
  group?: ProcessGroup | null;
  /** forward passes in bf16 autocast (weights, optimizer state and the loss stay float32) */
  precision?: T.Precision;
}

export interface ClaimOptions {
  /** continue from an existing checkpoint */
  resume?: boolean;
  /** replace an existing checkpoint (without it, starting over one is refused) */
  overwrite?: boolean;
  /** the lock file to hold (default `<checkpoint>.lock`) */
  lockPath?: string;
  /** what holds the lock, shown to whoever finds it taken */
  purpose: string;
  /** a data-parallel trainer's ranks: every rank checks, rank 0 alone holds the lock */
  group?: ProcessGroup | null;
}

/**
 * What a trainer does before anything else: takes the exclusive lock on its output (a second
 * trainer fails at once, naming this one's PID) and refuses to start over an existing checkpoint
 * unless told to resume or overwrite it. The caller releases the lock when it is done.
 */
export function claimOutput(checkpointPath: string, o: ClaimOptions): { release(): void } {
  const taken = () =>
    new Error(`${checkpointPath} already exists; pass --resume to continue its training or --overwrite to start over and replace it`);
  if (o.group && o.group.rank !== 0) {
    if (!o.resume && !o.overwrite && existsSync(checkpointPath)) throw taken();
    return { release: () => {} };
  }
  mkdirSync(dirname(resolve(checkpointPath)), { recursive: true });
  const lock = acquireLock(o.lockPath ?? `${checkpointPath}.lock`, o.purpose);
  if (!o.resume && !o.overwrite && existsSync(checkpointPath)) {
    lock.release();
    throw taken();
  }
  return lock;
}

/** The batch size to use: at most the dataset's size (a larger batch only repeats items and costs memory), with a warning when capped. */
export function capBatchSize(batchSize: number, items: number, what: string, onWarning: OnWarning = warnProcess): number {
  if (batchSize <= items) return batchSize;
  onWarning(`batch size ${batchSize} is larger than ${what} (${items} items); using ${items}`);
  return items;
}

export interface LoopResult {
  steps: number;
  resumedFrom: number;
  last: Record<string, number>;
  seconds: number;
}

const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

/** Writes the training state (on rank 0; every rank of a group must call it, for the RNG states). */
export async function saveTrainingCheckpoint(spec: LoopSpec, step: number): Promise<void> {
  const group = spec.group ?? null;
  const rngByRank = group ? allGatherBytes(group, T.getRngState()).map(b64) : null;
  if (group && group.rank !== 0) return;
  const weights = T.tensorsToRaw(spec.model.stateDict());
  const optim = new Map<string, RawTensor>(T.tensorsToRaw(spec.optimizer.stateTensors()));
  if (spec.ema) for (const [n, t] of T.tensorsToRaw(spec.ema.stateTensors())) optim.set(n, t);
  const meta = {
    ...spec.meta,
    step,
    optimizerStep: spec.optimizer.stepCount,
    rng: b64(T.getRngState()),
    ...(rngByRank ? { rngByRank } : {}),
    trainerState: spec.state?.save() ?? null,
  };
  await saveCheckpoint(spec.checkpointPath, weights, meta, { optimizer: optim });
}

/**
 * The weights sampling uses at `step` (and the EMA's, when kept) with the checkpoint's meta, in a
 * file of its own that later steps leave alone: what an evaluation of the run at that step loads.
 */
async function saveSnapshot(spec: LoopSpec, path: string, step: number): Promise<void> {
  if (spec.group && spec.group.rank !== 0) return;
  const weights = T.tensorsToRaw(spec.model.stateDict());
  const ema = new Map<string, RawTensor>(spec.ema ? T.tensorsToRaw(spec.ema.stateTensors()) : []);
  await saveCheckpoint(path, weights, { ...spec.meta, step, snapshot: true }, { optimizer: ema });
}

/** Restores weights, optimizer and RNG; returns the step to continue from and the saved per-rank RNG states. */
async function restore(spec: LoopSpec): Promise<{ step: number; rngByRank: string[] | null }> {
  const ck = await loadCheckpoint(spec.checkpointPath);
  const weights = T.tensorsFromRaw(ck.tensors);
  const optim = T.tensorsFromRaw(ck.optimizer);
  try {
    spec.model.loadStateDict(weights);
    spec.optimizer.loadState(optim, Number(ck.meta.optimizerStep ?? ck.meta.step));
    if (spec.ema && !spec.ema.load(optim)) spec.ema.reset();
  } finally {
    T.dispose(weights);
    T.dispose(optim);
  }
  if (typeof ck.meta.rng === 'string') T.setRngState(unb64(ck.meta.rng));
  if (spec.state && ck.meta.trainerState != null) spec.state.load(ck.meta.trainerState);
  return { step: Number(ck.meta.step), rngByRank: Array.isArray(ck.meta.rngByRank) ? (ck.meta.rngByRank as string[]) : null };
}

/** A seed for rank r's own random stream, from its current generator state (deterministic). */
function rankStreamSeed(state: Uint8Array, rank: number): number {
  let h = 0x811c9dc5 ^ rank;
  for (const b of state) h = Math.imul(h ^ b, 0x01000193);
  return (h >>> 0) + rank * 0x1_0000_0000;
}

/**
 * Rank 0 starts fresh or restores its checkpoint; in a group every rank then takes rank 0's
 * training state, and its own random stream (the saved one when the run had this rank, else a
 * derived one). Returns the step to continue from.
 */
async function startingPoint(spec: LoopSpec, log: MetricsLog | null): Promise<number> {
  const group = spec.group ?? null;
  let start = 0;
  let rngByRank: string[] | null = null;
  if (log) {
    if (spec.resume && existsSync(spec.checkpointPath)) {
      ({ step: start, rngByRank } = await restore(spec));
      log.truncateAfter(start);
    } else log.truncateAfter(-1);
  }
  if (!group) return start;
  type Shared = { start: number; optimizerStep: number; trainerState: unknown; rngByRank: string[] | null };
  const main = group.rank === 0;
  const shared = broadcastJson<Shared>(
    group,
    main ? { start, optimizerStep: spec.optimizer.stepCount, trainerState: spec.state?.save() ?? null, rngByRank } : null,
  );
  broadcastTensors(group, [
    ...spec.model.stateDict().values(),
    ...spec.optimizer.stateTensors().values(),
    ...(spec.ema?.stateTensors().values() ?? []),
  ]);
  if (!main) {
    spec.optimizer.stepCount = shared.optimizerStep;
    if (spec.state && shared.trainerState != null) spec.state.load(shared.trainerState);
    const saved = shared.rngByRank?.[group.rank];
    if (saved) T.setRngState(unb64(saved));
    else T.manualSeed(rankStreamSeed(T.getRngState(), group.rank));
  }
  return shared.start;
}

/** Runs fn without disturbing the training random stream (reports may sample). */
async function isolatedRng<R>(fn: () => Promise<R>): Promise<R> {
  const state = T.getRngState();
  try {
    return await fn();
  } finally {
    T.setRngState(state);
  }
}

export async function runLoop(spec: LoopSpec): Promise<LoopResult> {
  const group = spec.group ?? null;
  const main = !group || group.rank === 0;
  if (!Number.isInteger(spec.batchSize) || spec.batchSize < 1)
    throw new Error(`${spec.name}: batch size must be a positive integer, got ${spec.batchSize}`);
  if (group && spec.batchSize < group.size)
    throw new Error(
      `${spec.name}: a batch of ${spec.batchSize} cannot be shared by ${group.size} processes; use a batch size of at least ${group.size}`,
    );
  const log = main ? new MetricsLog(spec.metricsPath, spec.onWarning ?? warnProcess) : null;
  const accum = spec.gradAccumulation ?? 1;
  const start = await startingPoint(spec, log);
  const part = group ? rankRange(spec.batchSize, group.rank, group.size) : { from: 0, count: spec.batchSize };
  // loss of this rank's part, divided by this, sums over the ranks and micro-batches to the mean over all
  const divisor = (accum * spec.batchSize) / part.count;
  const named = spec.model.namedParameters();
  const params = named.map(([, p]) => p);
  const report = (done: number, info?: Record<string, number>) =>
    spec.onProgress?.({ phase: spec.name, done, total: spec.totalSteps, startAt: start, info });
  report(start);
  const t0 = Date.now();
  let last: Record<string, number> = {};
  spec.model.train();
  const end = Math.min(spec.totalSteps, spec.untilStep ?? Infinity);
  try {
    for (let step = start; step < end; step++) {
      const aborted = Boolean(spec.signal?.aborted);
      if (group ? anyRank(group, aborted) : aborted) {
        if (step > start) await saveTrainingCheckpoint(spec, step);
        throw abortError(spec.name);
      }
      const lr = lrAt(spec.schedule, step, spec.totalSteps);
      spec.optimizer.lr = lr;
      const tStep = Date.now();
      const sums: Record<string, number> = {};
      for (let micro = 0; micro < accum; micro++) {
        T.tidy(() => {
          const r = T.withPrecision(spec.precision, () => spec.microStep(step, micro, part));
          const loss = r.loss.item();
          (divisor === 1 ? r.loss : r.loss.div(divisor)).backward();
          sums.loss = (sums.loss ?? 0) + loss / divisor;
          for (const [k, v] of Object.entries(r.metrics ?? {})) sums[k] = (sums[k] ?? 0) + v / divisor;
        });
      }
      if (group) {
        const keys = Object.keys(sums).sort();
        const total = allReduceNumbers(
          group,
          keys.map((k) => sums[k]!),
        );
        keys.forEach((k, i) => (sums[k] = total[i]!));
      }
      if (!Number.isFinite(sums.loss)) throw new Error(`${spec.name}: loss became ${sums.loss} at step ${step}; lower the learning rate`);
      if (group)
        allReduceGradients(
          group,
          params,
          named.map(([n]) => n),
        );
      const gradNorm = spec.gradClip ? T.clipGradNorm(params, spec.gradClip) : NaN;
      spec.optimizer.step();
      spec.ema?.update();
      T.zeroGrad(params);
      const extra = spec.afterStep?.(step, sums) ?? {};
      const secs = (Date.now() - tStep) / 1000;
      const record: MetricRecord = { step: step + 1, ...sums, ...extra, lr };
      if (!Number.isNaN(gradNorm)) record.gradNorm = gradNorm;
      if (spec.itemsPerStep) record[`${spec.itemName ?? 'items'}PerSec`] = spec.itemsPerStep / Math.max(secs, 1e-6);
      log?.append(record);
      last = { ...sums };
      const done = step + 1;
      const isLast = done === end;
      if (log && spec.validate && ((spec.validateEvery && done % spec.validateEvery === 0) || isLast)) {
        const v = await isolatedRng(async () => {
          spec.model.eval();
          try {
            return await T.noGrad(() => spec.validate!());
          } finally {
            spec.model.train();
          }
        });
        log.append({ step: done, ...v });
        last = { ...last, ...v };
      }
      report(done, { loss: sums.loss!, ...(sums.acc !== undefined ? { acc: sums.acc } : {}) });
      if ((spec.saveEvery && done % spec.saveEvery === 0) || isLast) await saveTrainingCheckpoint(spec, done);
      if (spec.keep && done % spec.keep.every === 0) await saveSnapshot(spec, spec.keep.path(done), done);
      if (main && spec.onReport && ((spec.validateEvery && done % spec.validateEvery === 0) || isLast))
        await isolatedRng(async () => spec.onReport!(done));
    }
  } finally {
    spec.model.eval();
  }
  return { steps: end, resumedFrom: start, last, seconds: (Date.now() - t0) / 1000 };
}
