// Autoregressive sampling from a class-conditional GPT with a KV cache (or, for checks and
// benchmarks, recomputing the whole prefix every step) and classifier-free guidance: the batch
// runs as [cond; uncond] and both halves receive the same token.
import { cat, full, keep, noGrad, rand, stack, tidy, type Tensor } from '../torch/index.js';
import type { GPT } from './gpt.js';
import { combineCfg, drawTokens, validateTokenSampling, type TokenSampling } from './sampling.js';

export type CfgSchedule = 'constant' | 'linear';
export const CFG_SCHEDULES: readonly CfgSchedule[] = ['constant', 'linear'];

/** Guidance settings of an autoregressive model. */
export interface Guidance {
  /** Guidance scale; 1 runs the conditional model alone. */
  cfg?: number;
  /** 'constant' (LlamaGen), or 'linear': the scale ramps from 1 to cfg over the steps. */
  cfgSchedule?: CfgSchedule;
}

export interface GenerateOptions extends TokenSampling, Guidance {
  /** Tokens to generate; defaults to the model's blockSize. */
  numTokens?: number;
  /** false recomputes the full forward at every step (reference path). Default true. */
  useCache?: boolean;
  /** bool [V]: the only tokens that may be drawn (CTF stage 1: labels that have codes). */
  allowed?: Tensor;
  /**
   * float64 [B, numTokens]: the uniform each draw uses (row b, step t). Give per-image seeded
   * uniforms (sample/seeds.ts) for results that do not depend on the batch; default: drawn from
   * the thread's generator.
   */
  uniforms?: Tensor;
  /** Teacher forcing: at the positions where `mask` [numTokens] is true, take `tokens` [B, numTokens] instead of drawing. */
  forced?: { tokens: Tensor; mask: ArrayLike<boolean> };
  /** Called after each generated token (progress, cancellation: throw to stop). */
  onStep?: (step: number, total: number) => void;
  /** Names the model in errors ('stage 1', 'baseline'). */
  what?: string;
}

export function validateGuidance(o: Guidance, what = 'sampling'): void {
  if (o.cfg !== undefined && !(o.cfg >= 0 && Number.isFinite(o.cfg))) throw new Error(`${what}: cfg must be a finite number ≥ 0, got ${o.cfg}`);
  if (o.cfgSchedule !== undefined && !CFG_SCHEDULES.includes(o.cfgSchedule))
    throw new Error(`${what}: cfg schedule must be ${CFG_SCHEDULES.join(' or ')}, got '${o.cfgSchedule}'`);
}

export function cfgAt(o: Guidance, step: number, total: number): number {
  const s = o.cfg ?? 1;
  return o.cfgSchedule === 'linear' ? 1 + ((s - 1) * (step + 1)) / total : s;
}

/** classes int64 [B] → tokens int64 [B, numTokens]. */
export function generate(model: GPT, classes: Tensor, o: GenerateOptions = {}): Tensor {
  const what = o.what ?? 'sampling';
  validateTokenSampling(o, what);
  validateGuidance(o, what);
  const total = o.numTokens ?? model.config.blockSize;
  if (!Number.isInteger(total) || total < 1 || total > model.config.blockSize)
    throw new Error(`numTokens must be in 1..${model.config.blockSize}, got ${total}`);
  const guided = (o.cfg ?? 1) !== 1;
  const B = classes.size(0);
  if (o.uniforms && (o.uniforms.size(0) !== B || o.uniforms.size(1) < total))
    throw new Error(`generate: uniforms must be [${B}, ≥${total}], got [${o.uniforms.shape}]`);
  if (o.forced && (o.forced.tokens.size(0) !== B || o.forced.tokens.size(1) < total || o.forced.mask.length < total))
    throw new Error(`generate: forced tokens must be [${B}, ${total}] with a mask of ${total}, got [${o.forced.tokens.shape}]`);
  const wasTraining = model.training;
  model.eval();
  return noGrad(() => {
    const cond = keep(guided ? cat([classes, full([B], model.config.numClasses, 'int64')]) : classes.clone());
    const uniforms = keep(o.uniforms ? o.uniforms.clone() : rand([B, total], 'float64'));
    const tokens: Tensor[] = [];
    const pick = (logits: Tensor, step: number): Tensor => {
      const l = guided ? combineCfg(logits, cfgAt(o, step, total)) : logits;
      const masked = o.allowed ? l.maskedFill(o.allowed.logicalNot(), -Infinity) : l;
      return keep(drawTokens(masked, uniforms.select(1, step), o, `${what}, token ${step}`, (r) => `image ${r} of the batch`));
    };
    const cache = o.useCache === false ? null : model.newCache(guided ? 2 * B : B);
    try {
      for (let step = 0; step < total; step++) {
        const next = tidy(() => {
          // a cached step feeds the previous token even when this one is forced
          let logits: Tensor | null = null;
          if (cache) {
            const prev = tokens[step - 1];
            logits = prev ? model.decodeStep(guided ? cat([prev, prev]) : prev, cache) : model.prefill(cond, cache);
          }
          if (o.forced?.mask[step]) return keep(o.forced.tokens.select(1, step).clone());
          if (!logits) {
            const prefix = step === 0 ? full([B, 0], 0, 'int64') : stack(tokens, 1);
            logits = model.forward(cond, guided ? cat([prefix, prefix]) : prefix).select(1, step);
          }
          return pick(logits, step);
        });
        tokens.push(next);
        o.onStep?.(step + 1, total);
      }
      return stack(tokens, 1);
    } finally {
      for (const t of tokens) t.dispose();
      cond.dispose();
      uniforms.dispose();
      cache?.dispose();
      model.train(wasTraining);
    }
  });
}
