// CTF sampling: stage 1 draws the coarse-label map autoregressively (KV cache, CFG); stage 2 turns
// it into fine tokens in one pass of the auxiliary model. The baseline is stage 1 alone over fine
// tokens. Defaults follow the method notes: CFG 2.0, τ1 = τ2 = 1.1, top-k all.
import * as T from '../torch/index.js';
import { auxLogits } from '../models/aux.js';
import type { GPT } from '../models/gpt.js';
import { generate, type GenerateOptions } from './generate.js';
import { sampleWithinClusters, type ClusterTable } from './cluster-table.js';
import { combineCfg, sampleLogits, validateSampling, type SamplingOptions } from './logits.js';

export interface TokenModels {
  /** GPT over coarse labels (CTF) or over fine tokens (baseline) */
  stage1: GPT;
  /** auxiliary model (CTF only) */
  stage2?: GPT;
  /** the codes of each coarse label (CTF only; clusterTable of the run's cluster map) */
  clusters?: ClusterTable;
}

export interface TwoStageOptions {
  stage1?: Omit<GenerateOptions, 'numTokens' | 'useCache'>;
  stage2?: SamplingOptions & {
    /** sample only members of the sampled coarse label (default true) */
    restrict?: boolean;
    /** guidance scale for stage 2 (1 = off, the default) */
    cfgScale?: number;
  };
}

export const DEFAULT_SAMPLING: Required<Pick<TwoStageOptions, 'stage1' | 'stage2'>> = {
  stage1: { cfgScale: 2.0, temperature: 1.1, topK: 0, topP: 1 },
  stage2: { temperature: 1.1, topK: 0, topP: 1, restrict: true, cfgScale: 1 },
};

/** Fine tokens [B, L] from coarse labels [B, L] with the auxiliary model (no grad). */
export function stage2Tokens(
  models: Required<TokenModels>,
  classes: T.Tensor,
  coarse: T.Tensor,
  o: TwoStageOptions['stage2'] = {},
): T.Tensor {
  validateSampling(o);
  const cfg = o.cfgScale ?? 1;
  const model = models.stage2;
  const wasTraining = model.training;
  model.eval();
  try {
    return T.noGrad(() =>
      T.tidy(() => {
        let logits: T.Tensor;
        if (cfg !== 1) {
          const nulls = T.full([classes.size(0)], model.config.numClasses, 'int64');
          const both = auxLogits(model, T.cat([classes, nulls]), T.cat([coarse, coarse])); // [2B, L, V]
          const [B, L, V] = [classes.size(0), coarse.size(1), both.size(-1)];
          logits = combineCfg(both.reshape(2 * B * L, V), cfg).reshape(B, L, V); // rows: cond block, then uncond block
        } else logits = auxLogits(model, classes, coarse);
        const [B, L, V] = logits.shape as [number, number, number];
        const flat = logits.reshape(B * L, V);
        if (!(o.restrict ?? true)) return sampleLogits(flat, o).reshape(B, L);
        return sampleWithinClusters(flat, coarse.reshape(B * L), models.clusters, o).reshape(B, L);
      }),
    );
  } finally {
    model.train(wasTraining);
  }
}

export interface SampledTokens {
  /** fine tokens [B, L] */
  fine: T.Tensor;
  /** coarse labels [B, L] (CTF) */
  coarse?: T.Tensor;
  seconds: { stage1: number; stage2: number };
}

/** classes int64 [B] → fine tokens (CTF when stage 2 is present, else baseline). */
export function sampleTokens(models: TokenModels, classes: T.Tensor, o: TwoStageOptions = {}): SampledTokens {
  const s1 = { ...DEFAULT_SAMPLING.stage1, ...o.stage1 };
  if (models.stage2 && !models.clusters) throw new Error('CTF sampling needs the cluster map (clusters: clusterTable(idxToCluster, K))');
  const t0 = performance.now();
  // CTF: coarse labels without codes (possible with k-means) are never drawn
  const first = generate(models.stage1, classes, { ...s1, allowed: models.stage2 ? models.clusters!.nonEmpty : undefined });
  const t1 = performance.now();
  if (!models.stage2) return { fine: first, seconds: { stage1: (t1 - t0) / 1000, stage2: 0 } };
  const fine = stage2Tokens(models as Required<TokenModels>, classes, first, { ...DEFAULT_SAMPLING.stage2, ...o.stage2 });
  return { fine, coarse: first, seconds: { stage1: (t1 - t0) / 1000, stage2: (performance.now() - t1) / 1000 } };
}
