// Study v2, part B: trained runs at the paper's proportions. One tokenizer, one stage 1 and K
// coarse labels; stage 2 at several multiples of stage 1's transformer parameters (the aux-size
// curve; the largest is the main CTF configuration, as the paper's ≈ 343M aux beside LlamaGen-B)
// and in other designs (causal attention, masked loss); the baseline at the same size and budget as
// stage 1; a second feature network, so no ranking rests on one network. Stage models train on a training range of the split and
// validate on the range held out from it; every run keeps snapshots along its training so FID can
// be followed against steps.
//
// The training is a list of ctfgen commands (runner.ts: finished steps are skipped, training
// resumes from its last checkpoint); the aux-size runs share the one stage 1 through hard links.
import { existsSync, linkSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { StudyStep } from './runner.js';

export interface TrainedStudyConfig {
  /** runs, token caches, cluster file and measurements (not committed) */
  root: string;
  /** the tokenizer every run shares */
  tokenizer: string;
  /** dataset ranges: stage models train on `train`, settings are chosen on `validation` (held out from the training split), numbers are reported on `report` */
  data: { train: string; validation: string; report: string };
  /** feature network */
  classifier: string;
  k: number;
  /** stage 1's and the baseline's size */
  model: { dim: number; layers: number; heads: number };
  /** the stage 2s trained over the one stage 1: the first is the main CTF run's; those with flags are design variants */
  stage2: Stage2Run[];
  /** a second feature network: `ctfgen eval classifier train` arguments besides --out */
  secondNetwork: string[];
  /** optimizer steps of every run, and images in each */
  steps: number;
  batchSize: number;
  /** training flags every run shares besides steps and batch: preset (the schedule), learning rate, validation, checkpoints */
  budget: string[];
  /** where the data and the tokenizer come from, in words (the report's setup) */
  provenance: string;
  /** steps between kept snapshots (the convergence curve's points) */
  keepEvery: number;
}

export interface Stage2Run {
  /** the run folder's suffix (`ctf-k<K>-<name>`) */
  name: string;
  width: number;
  /** extra `train stage2` flags (e.g. --stage2-causal) */
  flags?: string[];
}

export const trainCache = (c: TrainedStudyConfig) => join(c.root, 'train.tokens.safetensors');
export const validationCache = (c: TrainedStudyConfig) => join(c.root, 'validation.tokens.safetensors');
export const clusterFile = (c: TrainedStudyConfig) => join(c.root, `clusters-kmeans-k${c.k}.safetensors`);
export const stage2Run = (c: TrainedStudyConfig, name: string) => join(c.root, `ctf-k${c.k}-${name}`);
export const baselineRun = (c: TrainedStudyConfig) => join(c.root, 'baseline');
export const secondNetworkPath = (c: TrainedStudyConfig) => join(c.root, 'classifier-2.safetensors');

/** Hard-links stage 1's files (final weights, snapshots, metrics, curve) from one run folder into another. */
export function shareStage1(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  const files = readdirSync(from).filter((f) => /^stage1(\.step-\d+)?\.safetensors$|^stage1\.metrics\.jsonl$|^stage1-curve\.png$/.test(f));
  if (!files.includes('stage1.safetensors')) throw new Error(`${from} has no trained stage 1 to share`);
  for (const f of files) if (!existsSync(join(to, f))) linkSync(join(from, f), join(to, f));
}

/** The snapshot a finished training leaves (a curve or the checkpoint exists long before). */
const finished = (c: TrainedStudyConfig, run: string, stage: string) =>
  join(run, `${stage}.step-${String(c.steps).padStart(6, '0')}.safetensors`);

export function trainedStudySteps(c: TrainedStudyConfig): StudyStep[] {
  const common = (run: string) => [
    '--run',
    run,
    '--tokenizer',
    c.tokenizer,
    '--train-cache',
    trainCache(c),
    '--val-cache',
    validationCache(c),
    '--steps',
    String(c.steps),
    '--batch-size',
    String(c.batchSize),
    ...c.budget,
    '--keep-every',
    String(c.keepEvery),
    '--resume',
  ];
  const size = (dim: number) => ['--dim', String(dim), '--layers', String(c.model.layers), '--heads', String(c.model.heads)];
  const [main, ...others] = c.stage2;
  const first = stage2Run(c, main!.name);
  const stage2 = (s: Stage2Run): StudyStep[] => [
    ...(s === main
      ? []
      : [
          {
            name: `share stage 1 with ${s.name}`,
            args: [],
            action: () => shareStage1(first, stage2Run(c, s.name)),
            outputs: [join(stage2Run(c, s.name), 'stage1.safetensors')],
          },
        ]),
    {
      name: `train stage 2, ${s.name}`,
      args: ['train', 'stage2', ...common(stage2Run(c, s.name)), ...size(s.width), '--clusters', clusterFile(c), ...(s.flags ?? [])],
      outputs: [finished(c, stage2Run(c, s.name), 'stage2')],
    },
  ];
  const encode = (name: string, data: string, out: string, flip: boolean): StudyStep => ({
    name,
    args: ['tokenizer', 'encode', '--tokenizer', c.tokenizer, '--data', data, ...(flip ? [] : ['--no-flip']), '--out', out],
    outputs: [out],
  });
  return [
    encode('encode train', c.data.train, trainCache(c), true),
    encode('encode validation', c.data.validation, validationCache(c), false),
    {
      name: `cluster k${c.k}`,
      args: ['cluster', '--tokenizer', c.tokenizer, '--clusters', String(c.k), '--out', clusterFile(c)],
      outputs: [clusterFile(c)],
    },
    {
      name: 'train stage 1',
      args: ['train', 'stage1', ...common(first), ...size(c.model.dim), '--clusters', clusterFile(c)],
      outputs: [finished(c, first, 'stage1')],
    },
    ...stage2(main!),
    {
      name: 'train baseline',
      args: ['train', 'baseline', ...common(baselineRun(c)), ...size(c.model.dim)],
      outputs: [finished(c, baselineRun(c), 'baseline')],
    },
    ...others.flatMap(stage2),
    {
      name: 'second feature network',
      args: ['eval', 'classifier', 'train', ...c.secondNetwork, '--out', secondNetworkPath(c)],
      outputs: [secondNetworkPath(c)],
    },
  ];
}
