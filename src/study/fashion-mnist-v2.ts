// Study v2 part B on Fashion-MNIST (docs/results-v2.md): the shipped tokenizer (4096 codes), K = 128
// (the paper's 32 codes per cluster), stage 1 and the baseline at the study's size (dim 128, 4
// layers), stage 2 at 1x and ≈ 4x stage 1's transformer parameters (widths 128 and 288: LlamaGen's
// FFN width rounds up to a multiple of 256, so width 288 holds 3.8x the block parameters of 128);
// each run 1,600 steps of 32 images on the first 55,000 training images; settings chosen on the
// last 5,000.
import type { TrainedStudyConfig } from './trained-study.js';

export const FASHION_MNIST_V2: TrainedStudyConfig = {
  root: 'runs/fmnist-v2',
  tokenizer: 'models/fashion-mnist/tokenizer.safetensors',
  data: {
    train: 'fashion-mnist:train@0:55000',
    validation: 'fashion-mnist:train@55000:60000',
    report: 'fashion-mnist:test@5000:10000',
  },
  classifier: 'models/fashion-mnist-classifier.safetensors',
  k: 128,
  model: { dim: 128, layers: 4, heads: 4 },
  // width 192 is the 2x point of the size curve (1.7x: head dims must be multiples of 4); the
  // design variants are at 1x, so they compare with aux1x
  stage2: [
    { name: 'aux4x', width: 288 },
    { name: 'aux1x', width: 128 },
    { name: 'aux2x', width: 192 },
    { name: 'causal1x', width: 128, flags: ['--stage2-causal'] },
    { name: 'masked1x', width: 128, flags: ['--stage2-mask'] },
  ],
  // the paper's "too few clusters" (128 codes per cluster, as its K = 128 of 16384), its "more
  // clusters" (16 per cluster, as its K = 1024) and random clusters at the main K
  coarse: [
    { name: 'k32', k: 32, method: 'kmeans' },
    { name: 'random-k128', k: 128, method: 'random' },
    { name: 'k256', k: 256, method: 'kmeans' },
  ],
  // the shipped tokenizer's recipe with 128 codes
  smallCodebook: { codes: 128, train: ['--preset', 'fashion-mnist', '--steps', '1100'] },
  // another seed and half the epochs of models/fashion-mnist-classifier.safetensors
  secondNetwork: ['--data', 'fashion-mnist', '--seed', '1', '--epochs', '2'],
  steps: 1600,
  batchSize: 32,
  // the fashion-mnist preset's schedule: 100 warm-up steps, cosine decay to 5e-5
  budget: ['--preset', 'fashion-mnist', '--lr', '1e-3', '--validate-every', '400', '--save-every', '400'],
  provenance:
    'The report set is the report half of part A ([results-points.md](results-points.md)), so the two parts compare. The tokenizer is the shipped one, trained on the whole training split: it has seen the validation images, the generators have not.',
  keepEvery: 400,
  // the headline systems once more (about 50 min of CPU); the ablations stay at seed 0
  trainingSeeds: [1],
  // the package's models (`shippedRun`, `npm run demo`, `ctfgen serve`, part A)
  shipped: 'models/fashion-mnist',
};
