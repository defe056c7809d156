/**
 * ctfgen: class-conditional image generation with coarse-to-fine token prediction (CTF, arXiv
 * 2503.16194) on a LlamaGen-compatible model family, computed by libtorch.
 *
 * ```ts
 * import { loadGenerator, encodePNG } from 'ctfgen';
 * const gen = await loadGenerator('models/fashion-mnist/ctf');
 * const { images, coarse } = await gen.generate({ classes: ['Sneaker', 'Bag'], seed: 1 });
 * writeFileSync('sneaker.png', encodePNG(images[0]));
 * await gen.dispose();
 * ```
 *
 * Everything that computes runs in a worker thread of its own (one per Generator / Tokenizer /
 * long call), so the caller's event loop stays free; progress arrives through `onProgress`,
 * cancellation through an AbortSignal.
 * @packageDocumentation
 */
export { loadGenerator, Generator } from './api/generator.js';
export type {
  EditOptions,
  GenerateOptions,
  GenerateResult,
  GenerationProgress,
  LoadGeneratorOptions,
  RefineOptions,
  Region,
  SamplingOptions,
} from './api/generator.js';
export { shippedRun } from './api/shipped.js';
export { loadTokenizer, Tokenizer, type TokenizerInfo } from './api/tokenizer.js';
export { encodePNG, imageGrid, coarseMapImage, type Image, type GridOptions } from './api/images.js';
export {
  analyzeRedundancy,
  clusterCodebook,
  encodeDataset,
  evaluateRun,
  runStudy,
  trainClassifier,
  trainStage,
  trainTokenizer,
  type TaskCallOptions,
} from './api/tasks-api.js';
export type { TaskOptions, TaskResult } from './api/tasks.js';
export { loadClusters, clusterMembers, type Clusters, type ClusterStats } from './cluster/cluster-file.js';
export { SAMPLING_DEFAULTS, TRAINING_DEFAULTS, type SamplingSettings, type Stage2Sampling } from './ctf/defaults.js';
export type { Stage } from './ctf/stages.js';
export type { ProgressEvent } from './util/progress.js';
