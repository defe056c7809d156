// The method: what each stage reads, predicts and is trained on.
//   stage 1  — a LlamaGen GPT over coarse labels (vocabulary K): next-label prediction;
//   stage 2  — an auxiliary transformer (a GPT with full attention over [class, coarse map], input
//              vocabulary K, output vocabulary V) predicting every fine token at once, trained with
//              cross-entropy on the true fine tokens given the true coarse labels (optionally with
//              the softmax restricted to the members of each position's label);
//   baseline — the same GPT as stage 1 over fine tokens (plain LlamaGen), the comparison.
import type { GPT } from '../models/gpt.js';
import type { GPTConfig } from '../models/gpt-config.js';
import * as T from '../torch/index.js';
import { coarseLabels, memberMask, type CodeClusters } from './code-clusters.js';
import { TRAINING_DEFAULTS } from './defaults.js';

/** The trained models of a CTF run (stage 1, stage 2) and of the baseline. */
export type Stage = 'stage1' | 'stage2' | 'baseline';
export const STAGES: readonly Stage[] = ['stage1', 'stage2', 'baseline'];

export function isStage(s: unknown): s is Stage {
  return typeof s === 'string' && (STAGES as readonly string[]).includes(s);
}

export interface ModelSize {
  dim: number;
  nLayer: number;
  nHead: number;
}

export interface StageDropout {
  token?: number;
  resid?: number;
  ffn?: number;
  class?: number;
}

/** Stage 2's own choices (the paper leaves both open). */
export interface Stage2Design {
  /** 'full' (default) or 'causal' attention */
  attention?: 'full' | 'causal';
  /** restrict the loss's softmax to the members of each position's coarse label */
  maskedLoss?: boolean;
}

export interface StageShape {
  numClasses: number;
  /** tokens per image */
  blockSize: number;
  /** fine codes V */
  codebookSize: number;
  /** coarse labels K (stage 1 and 2) */
  k?: number;
}

/** The GPT config of a stage. */
export function stageModelConfig(
  stage: Stage,
  size: ModelSize,
  shape: StageShape,
  o: { dropout?: StageDropout } & Stage2Design = {},
): GPTConfig {
  const d = { ...TRAINING_DEFAULTS.dropout, ...o.dropout };
  const common = {
    ...size,
    numClasses: shape.numClasses,
    blockSize: shape.blockSize,
    tokenDropout: d.token,
    residDropout: d.resid,
    ffnDropout: d.ffn,
    classDropout: d.class,
  };
  if (stage === 'baseline') return { ...common, vocabSize: shape.codebookSize };
  if (shape.k === undefined) throw new Error(`${stage} needs coarse labels (a cluster file)`);
  if (stage === 'stage1') return { ...common, vocabSize: shape.k };
  return { ...common, vocabSize: shape.codebookSize, inputVocabSize: shape.k, attention: o.attention ?? 'full' };
}

/** Stage 2: classes [B], coarse labels [B, N] → fine-token logits [B, N, V] (position i predicts fine token i). */
export function stage2Logits(model: GPT, classes: T.Tensor, coarse: T.Tensor): T.Tensor {
  const n = coarse.size(1);
  if (n !== model.config.blockSize) throw new Error(`stage 2 needs the full coarse map of ${model.config.blockSize} labels, got ${n}`);
  return model.forward(classes, coarse).slice(1, 1, n + 1);
}

/**
 * Loss and accuracy of one batch of true fine tokens [B, L] for a stage: stage 1 and the baseline
 * predict the next label / code; stage 2 every code from the true coarse map.
 */
export function stageLoss(
  stage: Stage,
  model: GPT,
  classes: T.Tensor,
  fine: T.Tensor,
  clusters: CodeClusters | null,
  design: Stage2Design = {},
): { loss: T.Tensor; acc: T.Tensor } {
  if (stage !== 'baseline' && !clusters) throw new Error(`${stage} needs the cluster map`);
  let logits: T.Tensor;
  let target: T.Tensor;
  if (stage === 'stage2') {
    const coarse = coarseLabels(clusters!, fine);
    logits = stage2Logits(model, classes, coarse);
    if (design.maskedLoss) logits = logits.maskedFill(memberMask(clusters!, coarse).logicalNot(), -Infinity);
    target = fine;
  } else {
    target = stage === 'stage1' ? coarseLabels(clusters!, fine) : fine;
    logits = model.forward(classes, target.slice(1, 0, target.size(1) - 1));
  }
  const V = logits.size(-1);
  const flat = logits.reshape(-1, V);
  const t = target.reshape(-1);
  return { loss: T.crossEntropy(flat, t), acc: flat.argmax(-1).eq(t).float().mean() };
}
