// The colour emoji study (docs/results-emoji.md): harder than Fashion-MNIST (colour, 1,906 images,
// 9 broad categories). Every 5th of Google's emoji (382, every category) is held out: the
// tokenizer, the feature classifier and the token models train on the other 1,524; the held-out
// ones are the token models' validation set, the classifier's test set and the FID reference.
// Main comparison only: no ablations.
import type { StudyConfig } from './config.js';

export const EMOJI_STUDY: StudyConfig = {
  name: 'emoji',
  title: 'colour emoji',
  root: 'runs/emoji-heldout',
  fig: 'docs/figures/emoji',
  report: 'docs/results-emoji.md',
  log: 'docs/study-log-emoji.json',
  discussion: 'docs/study-discussion-emoji.md',
  tokenizer: {
    preset: 'emoji',
    steps: 1000,
    description:
      'LlamaGen VQ architecture scaled down (32x32 RGB, area-downsampled from 64, downsample 4 → 8x8 = 64 tokens, codebook 4096 x 8, l2-normalised codes, dead-code restarts)',
  },
  trainPreset: 'emoji',
  data: {
    train: 'emoji-google@not-every:5',
    test: 'emoji-google@every:5',
    reference: 'emoji-google@every:5',
    referenceDescription: 'the 382 Google emoji held out of every training (every 5th)',
  },
  classifier: { preset: 'emoji', path: 'models/emoji-classifier.safetensors' },
  mainK: 128,
  clusterKs: [32, 128, 512],
  ablations: false,
  confirmKs: [],
  budget: {
    model: ['--dim', '128', '--layers', '4', '--heads', '4'],
    main: ['--steps', '1200', '--batch-size', '32', '--lr', '1e-3', '--validate-every', '400', '--save-every', '400'],
    ablation: [],
  },
  evalN: '900',
  seeds: [1, 2],
  cfgSweep: '1,2,4',
  tau2: '0.5,1.1',
};
