// Study v2, part B: trained runs at the paper's proportions. One tokenizer, one stage 1 and K
// coarse labels; stage 2 at several multiples of stage 1's transformer parameters (the aux-size
// curve; the largest is the main CTF configuration, as the paper's ≈ 343M aux beside LlamaGen-B)
// and in other designs (causal attention, masked loss); the baseline at the same size and budget as
// stage 1; CTF over other coarse labels (other K, random clusters: a stage 1 and a 1x stage 2 each);
// the baseline over a tokenizer with only K codes (does CTF beat simply using a small codebook?); a
// second feature network, so no ranking rests on one network; the headline systems again with other
// training seeds. Stage models train on a training range of the split and
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
  /** CTF over other coarse labels: each a stage 1 and a stage 2 at stage 1's width (compared with the 1x stage 2 over the main clusters; K is chosen among them on the validation range) */
  coarse: CoarseRun[];
  /** the key control: the baseline over a tokenizer trained with only `codes` codes (`ctfgen tokenizer train` arguments besides --codebook-size and --out) */
  smallCodebook?: { codes: number; train: string[] };
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
  /** other training seeds of the headline systems (stage 1 with the main stage 2, and the baseline), each trained as seed 0 was but with `--seed`; the main runs are seed 0 */
  trainingSeeds: number[];
  /** the folder the best configuration by the validation range is exported into (study/ship.ts); none: nothing is shipped */
  shipped?: string;
}

export interface Stage2Run {
  /** the run folder's suffix (`ctf-k<K>-<name>`) */
  name: string;
  width: number;
  /** extra `train stage2` flags (e.g. --stage2-causal) */
  flags?: string[];
}

export interface CoarseRun {
  /** the run folder's suffix (`ctf-<name>`) */
  name: string;
  k: number;
  method: 'kmeans' | 'random';
}

/** Token caches of the shipped tokenizer, or (`codes`) of the small-codebook control's. */
const codebookSuffix = (codes?: number) => (codes === undefined ? '' : `-c${codes}`);
export const trainCache = (c: TrainedStudyConfig, codes?: number) => join(c.root, `train${codebookSuffix(codes)}.tokens.safetensors`);
export const validationCache = (c: TrainedStudyConfig, codes?: number) =>
  join(c.root, `validation${codebookSuffix(codes)}.tokens.safetensors`);
export const clusterFile = (c: TrainedStudyConfig, v: Pick<CoarseRun, 'k' | 'method'> = { k: c.k, method: 'kmeans' }) =>
  join(c.root, `clusters-${v.method}-k${v.k}.safetensors`);
export const stage2Run = (c: TrainedStudyConfig, name: string) => join(c.root, `ctf-k${c.k}-${name}`);
export const coarseRun = (c: TrainedStudyConfig, v: CoarseRun) => join(c.root, `ctf-${v.name}`);
export const baselineRun = (c: TrainedStudyConfig, codes?: number) => join(c.root, `baseline${codebookSuffix(codes)}`);
export const smallTokenizer = (c: TrainedStudyConfig, codes: number) => join(c.root, `tokenizer-c${codes}.safetensors`);
/** A headline system's run of a training seed: seed 0 is the main run, another seed (`--seed`) the main run's folder with a `-seed<n>` suffix. */
export const seedRun = (c: TrainedStudyConfig, system: 'ctf' | 'baseline', seed: number) => {
  const main = system === 'ctf' ? stage2Run(c, c.stage2[0]!.name) : baselineRun(c);
  return seed === 0 ? main : `${main}-seed${seed}`;
};
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
  if (!c.trainingSeeds.every((s) => Number.isInteger(s) && s > 0) || new Set(c.trainingSeeds).size !== c.trainingSeeds.length)
    throw new Error(
      `trainingSeeds [${c.trainingSeeds.join(', ')}]: list other seeds, each once, as positive integers (seed 0 is the main runs)`,
    );
  const common = (run: string, codes?: number) => [
    '--run',
    run,
    '--tokenizer',
    codes === undefined ? c.tokenizer : smallTokenizer(c, codes),
    '--train-cache',
    trainCache(c, codes),
    '--val-cache',
    validationCache(c, codes),
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
  /** `ctfgen train <stage>` of one run at width `dim` (over the small-codebook tokenizer with `codes`), finished once its last snapshot exists */
  const train = (
    name: string,
    stage: 'stage1' | 'stage2' | 'baseline',
    run: string,
    dim: number,
    extra: string[] = [],
    codes?: number,
  ): StudyStep => ({
    name,
    args: ['train', stage, ...common(run, codes), ...size(dim), ...extra],
    outputs: [finished(c, run, stage)],
  });
  const clusterFlag = (v?: Pick<CoarseRun, 'k' | 'method'>) => ['--clusters', clusterFile(c, v)];
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
    train(`train stage 2, ${s.name}`, 'stage2', stage2Run(c, s.name), s.width, [...clusterFlag(), ...(s.flags ?? [])]),
  ];
  const encode = (name: string, tokenizer: string, data: string, out: string, flip: boolean): StudyStep => ({
    name,
    args: ['tokenizer', 'encode', '--tokenizer', tokenizer, '--data', data, ...(flip ? [] : ['--no-flip']), '--out', out],
    outputs: [out],
  });
  const cluster = (v: Pick<CoarseRun, 'k' | 'method'>): StudyStep => ({
    name: `cluster ${v.method} k${v.k}`,
    args: ['cluster', '--tokenizer', c.tokenizer, '--clusters', String(v.k), '--method', v.method, '--out', clusterFile(c, v)],
    outputs: [clusterFile(c, v)],
  });
  const coarse = (v: CoarseRun): StudyStep[] => [
    ...(clusterFile(c, v) === clusterFile(c) ? [] : [cluster(v)]),
    ...(['stage1', 'stage2'] as const).map((stage) =>
      train(`train ${stage === 'stage1' ? 'stage 1' : 'stage 2'}, ${v.name}`, stage, coarseRun(c, v), c.model.dim, clusterFlag(v)),
    ),
  ];
  const control = (s: NonNullable<TrainedStudyConfig['smallCodebook']>): StudyStep[] => {
    const tokenizer = smallTokenizer(c, s.codes);
    return [
      {
        name: `tokenizer with ${s.codes} codes`,
        args: ['tokenizer', 'train', ...s.train, '--codebook-size', String(s.codes), '--out', tokenizer, '--resume'],
        outputs: [tokenizer],
      },
      encode(`encode train, ${s.codes} codes`, tokenizer, c.data.train, trainCache(c, s.codes), true),
      encode(`encode validation, ${s.codes} codes`, tokenizer, c.data.validation, validationCache(c, s.codes), false),
      train(`train baseline, ${s.codes} codes`, 'baseline', baselineRun(c, s.codes), c.model.dim, [], s.codes),
    ];
  };
  const seeded = (seed: number): StudyStep[] => {
    const [ctf, baseline, flag] = [seedRun(c, 'ctf', seed), seedRun(c, 'baseline', seed), ['--seed', String(seed)]];
    return [
      train(`train baseline, seed ${seed}`, 'baseline', baseline, c.model.dim, flag),
      train(`train stage 1, seed ${seed}`, 'stage1', ctf, c.model.dim, [...clusterFlag(), ...flag]),
      train(`train stage 2, ${main!.name}, seed ${seed}`, 'stage2', ctf, main!.width, [...clusterFlag(), ...(main!.flags ?? []), ...flag]),
    ];
  };
  return [
    encode('encode train', c.tokenizer, c.data.train, trainCache(c), true),
    encode('encode validation', c.tokenizer, c.data.validation, validationCache(c), false),
    { ...cluster({ k: c.k, method: 'kmeans' }), name: `cluster k${c.k}` },
    train('train stage 1', 'stage1', first, c.model.dim, clusterFlag()),
    ...stage2(main!),
    train('train baseline', 'baseline', baselineRun(c), c.model.dim),
    ...others.filter((s) => !s.flags?.length).flatMap(stage2),
    {
      name: 'second feature network',
      args: ['eval', 'classifier', 'train', ...c.secondNetwork, '--out', secondNetworkPath(c)],
      outputs: [secondNetworkPath(c)],
    },
    ...(c.smallCodebook ? control(c.smallCodebook) : []),
    ...c.coarse.flatMap(coarse),
    // beyond the paper, so last
    ...others.filter((s) => s.flags?.length).flatMap(stage2),
    ...c.trainingSeeds.flatMap(seeded),
  ];
}
