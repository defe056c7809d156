// Coarse-to-fine token prediction (arXiv 2503.16194), in one place: the coarse labels of a codebook
// (code-clusters), what each stage reads, predicts and is trained on (stages), how the two stages
// sample (sampling), and the method's defaults.
export * from './code-clusters.js';
export * from './defaults.js';
export * from './stages.js';
export * from './sampling.js';
