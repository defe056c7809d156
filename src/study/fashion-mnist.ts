// The Fashion-MNIST reproduction study (docs/results.md): K ∈ {32, 128, 512} against a 4096-code
// codebook, k-means vs random clusters, CTF vs the baseline at equal stage-1 size and budget. Its
// tokenizer is the one shipped in models/fashion-mnist; the models beside it come from study v2
// part B (fashion-mnist-v2.ts), chosen there on a validation range.
import type { StudyConfig } from './config.js';

export const FASHION_MNIST_STUDY: StudyConfig = {
  name: 'fashion-mnist',
  title: 'Fashion-MNIST',
  root: 'runs/fmnist',
  fig: 'docs/figures',
  report: 'docs/results.md',
  log: 'docs/study-log.json',
  discussion: 'docs/study-discussion.md',
  tokenizer: {
    preset: 'fashion-mnist',
    steps: 1100,
    description:
      'LlamaGen VQ architecture scaled down (32x32 grey, downsample 4 → 8x8 = 64 tokens, codebook 4096 x 8, l2-normalised codes, dead-code restarts)',
  },
  trainPreset: 'fashion-mnist',
  data: {
    train: 'fashion-mnist:train',
    test: 'fashion-mnist:test',
    reference: 'fashion-mnist:test',
    referenceDescription: 'the 10,000 Fashion-MNIST test images',
  },
  classifier: { preset: 'fashion-mnist', path: 'models/fashion-mnist-classifier.safetensors' },
  mainK: 128,
  clusterKs: [32, 128, 512],
  ablations: true,
  confirmKs: [32],
  budget: {
    model: ['--dim', '128', '--layers', '4', '--heads', '4'],
    main: ['--steps', '1600', '--batch-size', '32', '--lr', '1e-3', '--validate-every', '400', '--save-every', '400'],
    ablation: ['--steps', '600', '--batch-size', '32', '--lr', '1e-3', '--validate-every', '300', '--save-every', '300'],
  },
  evalN: '1000',
  seeds: [1, 2],
  cfgSweep: '1,1.5,2,3,4',
  tau2: '0.5,0.8,1.1',
};
