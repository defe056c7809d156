// Autoregressive sampling from a class-conditional GPT with a KV cache (or, for checks and
// benchmarks, recomputing the whole prefix every step) and classifier-free guidance: the batch
// runs as [cond; uncond] and both halves receive the same sampled token.
import { cat, full, keep, noGrad, stack, tidy, type Tensor } from '../torch/index.js';
import type { GPT } from '../models/gpt.js';
import { combineCfg, sampleLogits, validateSampling, type SamplingOptions } from './logits.js';

export interface GenerateOptions extends SamplingOptions {
  /** Guidance scale; 1 (default) runs the conditional model alone. */
  cfgScale?: number;
  /** 'constant' (LlamaGen), or 'linear': the scale ramps from 1 to cfgScale over the steps. */
  cfgSchedule?: 'constant' | 'linear';
  /** Tokens to generate; defaults to the model's blockSize. */
  numTokens?: number;
  /** false recomputes the full forward at every step (reference path). Default true. */
  useCache?: boolean;
  /** bool [V]: the only tokens that may be drawn (CTF stage 1: labels that have codes). */
  allowed?: Tensor;
  /** Called after each generated token (progress). */
  onStep?: (step: number, total: number) => void;
}

export function cfgScaleAt(o: GenerateOptions, step: number, total: number): number {
  const s = o.cfgScale ?? 1;
  return o.cfgSchedule === 'linear' ? 1 + ((s - 1) * (step + 1)) / total : s;
}

/** classes int64 [B] → tokens int64 [B, numTokens]. */
export function generate(model: GPT, classes: Tensor, o: GenerateOptions = {}): Tensor {
  validateSampling(o);
  const cfg = o.cfgScale ?? 1;
  if (!(cfg >= 0)) throw new Error(`cfg scale must be ≥ 0, got ${cfg}`);
  const total = o.numTokens ?? model.config.blockSize;
  if (!Number.isInteger(total) || total < 1 || total > model.config.blockSize)
    throw new Error(`numTokens must be in 1..${model.config.blockSize}, got ${total}`);
  const guided = cfg !== 1;
  const B = classes.size(0);
  const wasTraining = model.training;
  model.eval();
  return noGrad(() => {
    const cond = keep(guided ? cat([classes, full([B], model.config.numClasses, 'int64')]) : classes.clone());
    const tokens: Tensor[] = [];
    const pick = (logits: Tensor, step: number): Tensor => {
      const l = guided ? combineCfg(logits, cfgScaleAt(o, step, total)) : logits;
      return keep(sampleLogits(o.allowed ? l.maskedFill(o.allowed.logicalNot(), -Infinity) : l, o));
    };
    const cache = o.useCache === false ? null : model.newCache(guided ? 2 * B : B);
    try {
      for (let step = 0; step < total; step++) {
        const next = tidy(() => {
          if (cache) {
            if (step === 0) return pick(model.prefill(cond, cache), step);
            const prev = tokens[step - 1]!;
            return pick(model.decodeStep(guided ? cat([prev, prev]) : prev, cache), step);
          }
          const prefix = step === 0 ? null : stack(tokens, 1);
          const input = prefix === null ? null : guided ? cat([prefix, prefix]) : prefix;
          const logits = input === null ? model.forward(cond, full([cond.size(0), 0], 0, 'int64')) : model.forward(cond, input);
          return pick(logits.select(1, step), step);
        });
        tokens.push(next);
        o.onStep?.(step + 1, total);
      }
      return stack(tokens, 1);
    } finally {
      for (const t of tokens) t.dispose();
      cond.dispose();
      cache?.dispose();
      model.train(wasTraining);
    }
  });
}
