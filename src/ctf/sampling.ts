// CTF sampling: stage 1 draws the coarse-label map autoregressively (KV cache, CFG, never a label
// without codes); stage 2 turns it into fine tokens in one pass of the auxiliary model, each drawn
// among the codes of its position's label. The baseline is one GPT over fine tokens.
import * as T from '../torch/index.js';
import type { GPT } from '../models/gpt.js';
import { generate, validateGuidance } from '../models/generate.js';
import { combineCfg, drawTokens, validateTokenSampling } from '../models/sampling.js';
import { logitsWithinClusters, type CodeClusters } from './code-clusters.js';
import type { SamplingSettings, Stage2Sampling } from './defaults.js';
import { stage2Logits } from './stages.js';

/** The trained models of one system. */
export type TokenModels = { kind: 'ctf'; stage1: GPT; stage2: GPT; clusters: CodeClusters } | { kind: 'baseline'; baseline: GPT };

/** The autoregressive model of a system (CTF's stage 1, or the baseline). */
export const autoregressive = (m: TokenModels): GPT => (m.kind === 'ctf' ? m.stage1 : m.baseline);

export function validateSampling(s: SamplingSettings): void {
  validateGuidance(s, 'stage 1');
  validateTokenSampling(s, 'stage 1');
  validateTokenSampling(s.stage2, 'stage 2');
  validateGuidance({ cfg: s.stage2.cfg }, 'stage 2');
}

/**
 * Stage 2 alone: classes [B] and a coarse map [B, L] → fine tokens [B, L]; `uniforms` float64
 * [B, L] are the draws (one per position).
 */
export function sampleStage2(
  models: Extract<TokenModels, { kind: 'ctf' }>,
  classes: T.Tensor,
  coarse: T.Tensor,
  o: Stage2Sampling,
  uniforms: T.Tensor,
): T.Tensor {
  const model = models.stage2;
  const wasTraining = model.training;
  model.eval();
  try {
    return T.noGrad(() =>
      T.tidy(() => {
        const [B, L] = coarse.shape as [number, number];
        let logits: T.Tensor;
        if (o.cfg !== 1) {
          const nulls = T.full([B], model.config.numClasses, 'int64');
          const both = stage2Logits(model, T.cat([classes, nulls]), T.cat([coarse, coarse])); // [2B, L, V]
          const V = both.size(-1);
          logits = combineCfg(both.reshape(2 * B * L, V), o.cfg).reshape(B * L, V); // rows: cond block, then uncond block
        } else logits = stage2Logits(model, classes, coarse).reshape(B * L, -1);
        const u = uniforms.reshape(B * L);
        const row = (r: number) => `image ${Math.floor(r / L)} of the batch, token ${r % L}`;
        if (!o.restrict) return drawTokens(logits, u, o, 'stage 2', row).reshape(B, L);
        const own = logitsWithinClusters(models.clusters, logits, coarse.reshape(B * L));
        const pick = drawTokens(own.logits, u, o, 'stage 2', row);
        return own.codes.gather(1, pick.unsqueeze(1)).reshape(B, L);
      }),
    );
  } finally {
    model.train(wasTraining);
  }
}

export interface SampledTokens {
  /** fine tokens int64 [B, L] */
  fine: T.Tensor;
  /** coarse labels int64 [B, L] (CTF) */
  coarse?: T.Tensor;
  seconds: { stage1: number; stage2: number };
}

export interface SampleTokensOptions {
  /** float64 [B, 2L]: the draws of stage 1 (first L) and stage 2 (last L) */
  uniforms: T.Tensor;
  /** teacher-forced tokens of the autoregressive stage (region editing) */
  forced?: { tokens: T.Tensor; mask: ArrayLike<boolean> };
  onStep?: (step: number, total: number) => void;
}

/** classes int64 [B] → fine tokens (and, for CTF, the coarse map they came from). */
export function sampleTokens(models: TokenModels, classes: T.Tensor, s: SamplingSettings, o: SampleTokensOptions): SampledTokens {
  validateSampling(s);
  const ar = autoregressive(models);
  const L = ar.config.blockSize;
  const t0 = performance.now();
  const first = generate(ar, classes, {
    ...s,
    // CTF: coarse labels without codes (possible with k-means) are never drawn
    allowed: models.kind === 'ctf' ? models.clusters.nonEmpty : undefined,
    uniforms: o.uniforms.slice(1, 0, L),
    forced: o.forced,
    onStep: o.onStep,
    what: models.kind === 'ctf' ? 'stage 1' : 'baseline',
  });
  const t1 = performance.now();
  if (models.kind === 'baseline') return { fine: first, seconds: { stage1: (t1 - t0) / 1000, stage2: 0 } };
  const fine = sampleStage2(models, classes, first, s.stage2, o.uniforms.slice(1, L, 2 * L));
  return { fine, coarse: first, seconds: { stage1: (t1 - t0) / 1000, stage2: (performance.now() - t1) / 1000 } };
}
