// The long library calls (training, clustering, encoding, evaluation), each in a worker thread of its
// own so the caller's event loop stays free; progress and cancellation as for generation.
import type { ProgressEvent } from '../util/progress.js';
import { WorkerSession } from './session.js';
import type { TaskName, TaskOptions, TaskResult } from './tasks.js';

export interface TaskCallOptions {
  onProgress?: (p: ProgressEvent) => void;
  signal?: AbortSignal;
  /** libtorch intra-op threads of the worker */
  threads?: number;
}

async function runTask<N extends TaskName>(task: N, options: TaskOptions<N>, o: TaskCallOptions = {}): Promise<TaskResult<N>> {
  const session = await WorkerSession.open<unknown>('task', {}, o.threads);
  try {
    return await session.call<TaskResult<N>>(task, options, o);
  } finally {
    await session.close();
  }
}

/** Trains stage 1, stage 2 or the baseline into a run folder (`ctfgen train`). */
export const trainStage = (o: TaskOptions<'trainStage'>, c?: TaskCallOptions) => runTask('trainStage', o, c);
/** Trains a VQ tokenizer (`ctfgen tokenizer train`). */
export const trainTokenizer = (o: TaskOptions<'trainTokenizer'>, c?: TaskCallOptions) => runTask('trainTokenizer', o, c);
/** Trains the feature classifier behind FID / IS / precision / recall (`ctfgen eval classifier train`). */
export const trainClassifier = (o: TaskOptions<'trainClassifier'>, c?: TaskCallOptions) => runTask('trainClassifier', o, c);
/** Clusters a tokenizer's codebook into coarse labels and writes the cluster file (`ctfgen cluster`). */
export const clusterCodebook = (o: TaskOptions<'cluster'>, c?: TaskCallOptions) => runTask('cluster', o, c);
/** Writes the token cache of a dataset (`ctfgen tokenizer encode`). */
export const encodeDataset = (o: TaskOptions<'encodeDataset'>, c?: TaskCallOptions) => runTask('encodeDataset', o, c);
/** FID / IS / precision / recall / class accuracy of a run's samples (`ctfgen eval`). */
export const evaluateRun = (o: TaskOptions<'evaluate'>, c?: TaskCallOptions) => runTask('evaluate', o, c);
/** The paper's token-redundancy experiment (`ctfgen analyze redundancy`). */
export const analyzeRedundancy = (o: TaskOptions<'analyzeRedundancy'>, c?: TaskCallOptions) => runTask('analyzeRedundancy', o, c);
/** Runs (or resumes) a reproduction study (`npm run study`) and rewrites its report. */
export const runStudy = (o: TaskOptions<'study'>, c?: TaskCallOptions) => runTask('study', o, c);
