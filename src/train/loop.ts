// The training loop every trainer shares: gradient accumulation, clipping, AdamW, learning-rate
// schedule, periodic validation, JSONL metrics, progress reports, cancellation, atomic checkpoints
// and exact resume (weights, optimizer moments, step, RNG state; data order is a function of the step).
// Trainers claim their output first (claimOutput): an exclusive lock, and no silent replacement of
// a finished checkpoint.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { acquireLock, loadCheckpoint, saveCheckpoint, type FileLock, type RawTensor } from '../io/index.js';
import * as T from '../torch/index.js';
import type { AdamW, Module } from '../nn/index.js';
import { throwIfAborted, warnProcess, type OnProgress, type OnWarning, type StopSignal } from '../util/progress.js';
import { MetricsLog, type MetricRecord } from './metrics-log.js';
import type { Ema } from './ema.js';
import { lrAt, type LrSchedule } from './schedule.js';

export interface MicroStepResult {
  /** scalar loss of this micro-batch (the loop scales it by 1/accumulation) */
  loss: T.Tensor;
  /** extra numbers to log (accuracy, tokens, …) */
  metrics?: Record<string, number>;
}

export interface LoopSpec {
  name: string;
  model: Module;
  optimizer: AdamW;
  totalSteps: number;
  schedule: LrSchedule;
  /** One micro-batch: forward + loss (no backward). `step` is the optimizer step, `micro` its index. */
  microStep: (step: number, micro: number) => MicroStepResult;
  gradAccumulation?: number;
  gradClip?: number;
  /** parameter averages updated after every optimizer step, saved and restored with the optimizer */
  ema?: Ema;
  /** After each optimizer step (e.g. dead-code restarts); returned numbers are logged with the step. */
  afterStep?: (step: number) => Record<string, number> | void;
  /** run in eval mode, without gradients (an async one must turn them off itself) */
  validate?: () => Record<string, number> | Promise<Record<string, number>>;
  validateEvery?: number;
  saveEvery?: number;
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
}

/**
 * What a trainer does before anything else: takes the exclusive lock on its output (a second
 * trainer fails at once, naming this one's PID) and refuses to start over an existing checkpoint
 * unless told to resume or overwrite it. The caller releases the lock when it is done.
 */
export function claimOutput(checkpointPath: string, o: ClaimOptions): FileLock {
  mkdirSync(dirname(resolve(checkpointPath)), { recursive: true });
  const lock = acquireLock(o.lockPath ?? `${checkpointPath}.lock`, o.purpose);
  if (!o.resume && !o.overwrite && existsSync(checkpointPath)) {
    lock.release();
    throw new Error(`${checkpointPath} already exists; pass --resume to continue its training or --overwrite to start over and replace it`);
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

export async function saveTrainingCheckpoint(spec: LoopSpec, step: number): Promise<void> {
  const weights = T.tensorsToRaw(spec.model.stateDict());
  const optim = new Map<string, RawTensor>(T.tensorsToRaw(spec.optimizer.stateTensors()));
  if (spec.ema) for (const [n, t] of T.tensorsToRaw(spec.ema.stateTensors())) optim.set(n, t);
  const meta = {
    ...spec.meta,
    step,
    optimizerStep: spec.optimizer.stepCount,
    rng: b64(T.getRngState()),
    trainerState: spec.state?.save() ?? null,
  };
  await saveCheckpoint(spec.checkpointPath, weights, meta, { optimizer: optim });
}

/** Restores weights, optimizer and RNG; returns the step to continue from. */
async function restore(spec: LoopSpec): Promise<number> {
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
  if (typeof ck.meta.rng === 'string') T.setRngState(new Uint8Array(Buffer.from(ck.meta.rng, 'base64')));
  if (spec.state && ck.meta.trainerState != null) spec.state.load(ck.meta.trainerState);
  return Number(ck.meta.step);
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
  const log = new MetricsLog(spec.metricsPath, spec.onWarning ?? warnProcess);
  const accum = spec.gradAccumulation ?? 1;
  let start = 0;
  if (spec.resume && existsSync(spec.checkpointPath)) {
    start = await restore(spec);
    log.truncateAfter(start);
  } else log.truncateAfter(-1);
  const params = spec.model.parameters();
  const report = (done: number, info?: Record<string, number>) =>
    spec.onProgress?.({ phase: spec.name, done, total: spec.totalSteps, startAt: start, info });
  report(start);
  const t0 = Date.now();
  let last: Record<string, number> = {};
  spec.model.train();
  const end = Math.min(spec.totalSteps, spec.untilStep ?? Infinity);
  try {
    for (let step = start; step < end; step++) {
      if (spec.signal?.aborted) {
        if (step > start) await saveTrainingCheckpoint(spec, step);
        throwIfAborted(spec.signal, spec.name);
      }
      const lr = lrAt(spec.schedule, step, spec.totalSteps);
      spec.optimizer.lr = lr;
      const tStep = Date.now();
      const sums: Record<string, number> = {};
      for (let micro = 0; micro < accum; micro++) {
        T.tidy(() => {
          const r = spec.microStep(step, micro);
          const loss = r.loss.item();
          if (!Number.isFinite(loss)) throw new Error(`${spec.name}: loss became ${loss} at step ${step}; lower the learning rate`);
          (accum === 1 ? r.loss : r.loss.div(accum)).backward();
          sums.loss = (sums.loss ?? 0) + loss / accum;
          for (const [k, v] of Object.entries(r.metrics ?? {})) sums[k] = (sums[k] ?? 0) + v / accum;
        });
      }
      const gradNorm = spec.gradClip ? T.clipGradNorm(params, spec.gradClip) : NaN;
      spec.optimizer.step();
      spec.ema?.update();
      T.zeroGrad(params);
      const extra = spec.afterStep?.(step) ?? {};
      const secs = (Date.now() - tStep) / 1000;
      const record: MetricRecord = { step: step + 1, ...sums, ...extra, lr };
      if (!Number.isNaN(gradNorm)) record.gradNorm = gradNorm;
      if (spec.itemsPerStep) record[`${spec.itemName ?? 'items'}PerSec`] = spec.itemsPerStep / Math.max(secs, 1e-6);
      log.append(record);
      last = { ...sums };
      const done = step + 1;
      const isLast = done === end;
      if (spec.validate && ((spec.validateEvery && done % spec.validateEvery === 0) || isLast)) {
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
      if (spec.onReport && ((spec.validateEvery && done % spec.validateEvery === 0) || isLast))
        await isolatedRng(async () => spec.onReport!(done));
    }
  } finally {
    spec.model.eval();
  }
  return { steps: end, resumedFrom: start, last, seconds: (Date.now() - t0) / 1000 };
}
