// Sample-quality evaluation with a per-dataset feature network: FID, sFID, KID, inception score,
// improved precision/recall and class accuracy (public API of src/eval).
export * from './classifier.js';
export * from './linalg.js';
export * from './fid.js';
export * from './kid.js';
export * from './inception-score.js';
export * from './precision-recall.js';
export * from './metrics.js';
export * from './train-classifier.js';
