// Everything `ctfgen sample --run <dir>` needs, from the run folder alone: the tokenizer, the
// cluster map and the trained stages.
import { loadCheckpoint } from '../io/index.js';
import { samplingWeights } from '../train/ema.js';
import { clusterTable } from './cluster-table.js';
import { loadClusters } from '../cluster/clusters.js';
import { GPT } from '../models/gpt.js';
import type { PackedWeights } from '../models/gpt-packed.js';
import type { GPTConfig } from '../models/gpt-config.js';
import * as T from '../torch/index.js';
import { openTokenizer, type Tokenizer } from '../tokenizer/tokenizer-file.js';
import { RunDir, type RunInfo, type Stage } from '../train/run-dir.js';
import type { TokenModels } from './two-stage.js';

export type SystemKind = 'ctf' | 'baseline';

export interface LoadedRun {
  kind: SystemKind;
  info: RunInfo;
  tokenizer: Tokenizer;
  models: TokenModels;
  dispose(): void;
}

export interface LoadOptions {
  /** Precision of the packed weights sampling decodes with (default fp32; int8 is faster and approximate). */
  weights?: PackedWeights;
}

export async function loadStage(run: RunDir, stage: Stage, o: LoadOptions = {}): Promise<GPT> {
  if (!run.has(stage))
    throw new Error(
      `${run.root} has no ${stage} stage (${run.checkpoint(stage)} missing); train it with \`ctfgen train ${stage} --run ${run.root}\``,
    );
  const ck = await loadCheckpoint(run.checkpoint(stage));
  const model = new GPT(ck.meta.modelConfig as GPTConfig);
  const weights = T.tensorsFromRaw(samplingWeights(ck));
  try {
    model.loadStateDict(weights);
  } finally {
    T.dispose(weights);
  }
  if (o.weights) model.packedWeights = o.weights;
  return model.eval();
}

/** kind: which system to load when a run holds both; default CTF when ar+aux exist, else baseline. */
export async function loadRun(dir: string, kind?: SystemKind, o: LoadOptions = {}): Promise<LoadedRun> {
  const run = new RunDir(dir);
  const info = run.readInfo();
  const k: SystemKind = kind ?? (run.has('ar') || run.has('aux') ? 'ctf' : 'baseline');
  const tokenizer = await openTokenizer(info.tokenizer);
  const owned: { dispose(): void }[] = [tokenizer.model];
  try {
    let models: TokenModels;
    if (k === 'baseline') {
      const stage1 = await loadStage(run, 'baseline', o);
      owned.push(stage1);
      models = { stage1 };
    } else {
      if (!info.clusters) throw new Error(`${run.root}/run.json names no cluster file; a CTF run needs one`);
      const clusters = await loadClusters(info.clusters);
      if (clusters.tokenizerId && clusters.tokenizerId !== tokenizer.id)
        throw new Error(
          `${info.clusters} was made from another codebook (${clusters.tokenizerId}) than ${info.tokenizer} (${tokenizer.id})`,
        );
      const stage1 = await loadStage(run, 'ar', o);
      owned.push(stage1);
      const stage2 = await loadStage(run, 'aux', o);
      owned.push(stage2);
      if (stage1.config.vocabSize !== clusters.k)
        throw new Error(`${run.checkpoint('ar')} predicts ${stage1.config.vocabSize} coarse labels but ${info.clusters} has ${clusters.k}`);
      const table = clusterTable(clusters.idxToCluster, clusters.k);
      owned.push(table);
      models = { stage1, stage2, clusters: table };
    }
    return { kind: k, info, tokenizer, models, dispose: () => owned.forEach((o) => o.dispose()) };
  } catch (e) {
    owned.forEach((o) => o.dispose());
    throw e;
  }
}
