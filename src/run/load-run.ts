// Everything sampling needs, from a run folder alone: the tokenizer, the cluster map and the
// trained stages of one system (CTF or the baseline).
import { loadClusters } from '../cluster/cluster-file.js';
import { autoregressive, codeClusters, type Stage, type TokenModels } from '../ctf/index.js';
import { loadCheckpoint, type CheckpointMeta } from '../io/index.js';
import { GPT } from '../models/gpt.js';
import type { PackedWeights } from '../models/gpt-packed.js';
import type { GPTConfig } from '../models/gpt-config.js';
import { loadWeights } from '../nn/index.js';
import { openTokenizer, type Tokenizer } from '../tokenizer/tokenizer-file.js';
import { RunDir, type RunInfo } from './run-dir.js';
import { samplingWeights } from './weights.js';

export type SystemKind = TokenModels['kind'];
export const SYSTEMS: readonly SystemKind[] = ['ctf', 'baseline'];

export interface LoadedRun {
  kind: SystemKind;
  info: RunInfo;
  tokenizer: Tokenizer;
  models: TokenModels;
  dispose(): void;
}

/** A run's token grid (grid × grid tokens) and the size of the images it makes. */
export function imageGeometry(run: LoadedRun): { grid: number; width: number; height: number } {
  const grid = Math.round(Math.sqrt(autoregressive(run.models).config.blockSize));
  const side = grid * run.tokenizer.model.downsampleFactor;
  return { grid, width: side, height: side };
}

/** A stage's checkpoint as a model with its sampling weights (checked: keys, shapes, dtypes, finite), and its metadata. */
export async function loadStageFile(path: string): Promise<{ model: GPT; meta: CheckpointMeta }> {
  const ck = await loadCheckpoint(path);
  if (ck.meta.kind !== 'gpt') throw new Error(`${path}: not a stage checkpoint (kind '${String(ck.meta.kind)}')`);
  return { model: loadWeights(new GPT(ck.meta.modelConfig as GPTConfig), samplingWeights(ck), { source: path }), meta: ck.meta };
}

/** The stage's trained weights, or with `step` its snapshot kept at that step. */
export async function loadStage(run: RunDir, stage: Stage, step?: number): Promise<GPT> {
  if (step !== undefined && !run.has(stage, step)) {
    const kept = run.snapshotSteps(stage);
    throw new Error(
      `${run.root} has no ${stage} snapshot at step ${step} (${run.checkpoint(stage, step)} missing); ` +
        (kept.length > 0
          ? `its kept steps are ${kept.join(', ')}`
          : `train with \`--keep-every <n>\` to keep snapshots, or leave out --step to use the final weights`),
    );
  }
  if (!run.has(stage))
    throw new Error(
      `${run.root} has no ${stage} (${run.checkpoint(stage)} missing); train it with \`ctfgen train ${stage} --run ${run.root}\``,
    );
  return (await loadStageFile(run.checkpoint(stage, step))).model;
}

/** The system a run holds when none is named: CTF when it has stage 1 or 2, else the baseline. */
export function defaultSystem(run: RunDir): SystemKind {
  return run.has('stage1') || run.has('stage2') ? 'ctf' : 'baseline';
}

export interface LoadOptions {
  /** precision of the packed weights sampling decodes with (default fp32; int8 is approximate) */
  weights?: PackedWeights;
  /** the snapshots kept at this training step (`train --keep-every`) instead of the final weights */
  step?: number;
}

/** kind: which system to load when a run holds both. */
export async function loadRun(dir: string, kind?: SystemKind, o: LoadOptions = {}): Promise<LoadedRun> {
  if (kind !== undefined && !SYSTEMS.includes(kind)) throw new Error(`system must be ${SYSTEMS.join(' or ')}, got '${kind}'`);
  const run = new RunDir(dir);
  const info = run.readInfo();
  const k = kind ?? defaultSystem(run);
  const tokenizer = await openTokenizer(info.tokenizer);
  const owned: { dispose(): void }[] = [tokenizer.model];
  try {
    let models: TokenModels;
    if (k === 'baseline') {
      const baseline = await loadStage(run, 'baseline', o.step);
      owned.push(baseline);
      models = { kind: 'baseline', baseline };
    } else {
      if (!info.clusters) throw new Error(`${run.root}/run.json names no cluster file; a CTF run needs one`);
      const clusters = await loadClusters(info.clusters);
      if (clusters.tokenizerId && clusters.tokenizerId !== tokenizer.id)
        throw new Error(
          `${info.clusters} was made from another codebook (${clusters.tokenizerId}) than ${info.tokenizer} (${tokenizer.id})`,
        );
      const stage1 = await loadStage(run, 'stage1', o.step);
      owned.push(stage1);
      const stage2 = await loadStage(run, 'stage2', o.step);
      owned.push(stage2);
      if (stage1.config.vocabSize !== clusters.k)
        throw new Error(
          `${run.checkpoint('stage1')} predicts ${stage1.config.vocabSize} coarse labels but ${info.clusters} has ${clusters.k}`,
        );
      const table = codeClusters(clusters.idxToCluster, clusters.k);
      owned.push(table);
      models = { kind: 'ctf', stage1, stage2, clusters: table };
    }
    const stages: [Stage, GPT][] =
      models.kind === 'ctf'
        ? [
            ['stage1', models.stage1],
            ['stage2', models.stage2],
          ]
        : [['baseline', models.baseline]];
    for (const [, m] of stages) m.packedWeights = o.weights ?? 'fp32';
    for (const [stage, m] of stages)
      if (m.config.numClasses !== info.numClasses)
        throw new Error(
          `${run.infoPath} lists ${info.numClasses} classes but ${run.checkpoint(stage)} was trained on ${m.config.numClasses}; ` +
            `make classNames and numClasses in run.json the model's ${m.config.numClasses} classes`,
        );
    return { kind: k, info, tokenizer, models, dispose: () => owned.forEach((o) => o.dispose()) };
  } catch (e) {
    owned.forEach((o) => o.dispose());
    throw e;
  }
}
