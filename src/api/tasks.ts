// The long library calls that run in a worker thread of their own (worker side): training,
// clustering, encoding, evaluation. Each takes the domain function's typed options (without the
// callbacks, which cross the thread as messages) and returns plain data.
import { analyzeRedundancy, type RedundancyAnalysisOptions } from '../cluster/analyze.js';
import { clusterTokenizer, type ClusterTokenizerOptions } from '../cluster/cluster-tokenizer.js';
import { saveTokenCache } from '../data/token-cache.js';
import { evaluateRun, type EvalRunOptions } from '../eval/evaluate-run.js';
import { trainClassifier, type TrainClassifierOptions } from '../eval/train-classifier.js';
import { encodeDataset } from '../tokenizer/encode-dataset.js';
import { runNamedStudy } from '../study/runner.js';
import { openTokenizer } from '../tokenizer/tokenizer-file.js';
import { trainTokenizer, type TokenizerTrainOptions } from '../train/train-tokenizer.js';
import { trainTokens, type TokenTrainOptions } from '../train/train-tokens.js';
import type { OnProgress, StopSignal } from '../util/progress.js';

export interface TaskContext {
  onProgress: OnProgress;
  signal: StopSignal;
}

type Plain<O> = Omit<O, 'onProgress' | 'signal' | 'onReport'>;

export const TASKS = {
  async trainStage(o: Plain<TokenTrainOptions>, ctx: TaskContext) {
    const r = await trainTokens({ ...o, ...ctx });
    r.model.dispose();
    return { steps: r.steps, resumedFrom: r.resumedFrom, last: r.last, seconds: r.seconds };
  },
  async trainTokenizer(o: Plain<TokenizerTrainOptions>, ctx: TaskContext) {
    const r = await trainTokenizer({ ...o, ...ctx });
    r.model.dispose();
    return { steps: r.steps, resumedFrom: r.resumedFrom, last: r.last, seconds: r.seconds, validation: r.val };
  },
  async trainClassifier(o: Plain<TrainClassifierOptions>, ctx: TaskContext) {
    const r = await trainClassifier({ ...o, ...ctx });
    r.model.dispose();
    return { meta: r.meta, testAccuracy: r.testAccuracy, trainAccuracy: r.trainAccuracy, steps: r.steps, seconds: r.seconds };
  },
  async cluster(o: ClusterTokenizerOptions) {
    const { path, clusters, seconds } = await clusterTokenizer(o);
    const { idxToCluster: _i, centroids: _c, ...about } = clusters;
    return { path, seconds, ...about };
  },
  async encodeDataset(o: { tokenizer: string; data: string; out: string; flip?: boolean }, ctx: TaskContext) {
    const tok = await openTokenizer(o.tokenizer);
    try {
      const cache = encodeDataset(tok, o.data, { flip: o.flip, onProgress: ctx.onProgress });
      await saveTokenCache(o.out, cache);
      return { out: o.out, images: cache.n, variants: cache.variants, grid: [cache.gridH, cache.gridW] };
    } finally {
      tok.model.dispose();
    }
  },
  async evaluate(o: Plain<EvalRunOptions>, ctx: TaskContext) {
    return evaluateRun({ ...o, signal: ctx.signal, onProgress: (p) => ctx.onProgress({ phase: p.stage, done: p.done, total: p.total }) });
  },
  async analyzeRedundancy(o: RedundancyAnalysisOptions) {
    const r = await analyzeRedundancy(o);
    return { images: r.images, results: r.results.map((x) => ({ k: x.k, errors: x.errors })) };
  },
  /** Runs (or resumes) a reproduction study by name and rewrites its report; each step is a ctfgen process. */
  study: (o: { name: string }) => runNamedStudy(o.name),
};

export type TaskName = keyof typeof TASKS;
export type TaskOptions<N extends TaskName> = Parameters<(typeof TASKS)[N]>[0];
export type TaskResult<N extends TaskName> = Awaited<ReturnType<(typeof TASKS)[N]>>;
