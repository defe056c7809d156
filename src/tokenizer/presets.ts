// Tokenizer presets sized for 2 CPU cores: the LlamaGen VQ architecture scaled down, with a large
// (redundant) codebook so clustering has something to find.
import type { TransformSpec } from '../data/transforms.js';
import type { VQConfig } from './vq-config.js';

export interface TokenizerPreset {
  /** dataset specs for training and evaluation */
  data: string;
  testData: string;
  vq: VQConfig;
  /** image preparation before the tokenizer (pad/resize, channels) */
  transform: TransformSpec;
  steps: number;
  batchSize: number;
  lr: number;
  /** steps between dead-code restarts (codes unused in the window are re-seeded) */
  restartEvery: number;
  reportEvery: number;
}

export const TOKENIZER_PRESETS: Record<string, TokenizerPreset> = {
  // 32x32 grey (28 padded to 32), downsample 4 → 8x8 tokens, codebook 4096 x 8
  'fashion-mnist': {
    data: 'fashion-mnist:train',
    testData: 'fashion-mnist:test',
    vq: { codebookSize: 4096, codebookDim: 8, ch: 32, chMult: [1, 2, 2], zChannels: 64, numResBlocks: 1, inChannels: 1, imageSize: 32 },
    transform: { pad: { height: 32, width: 32 }, channels: 1 },
    steps: 3000,
    batchSize: 32,
    lr: 4e-4,
    restartEvery: 100,
    reportEvery: 500,
  },
  // 32x32 colour emoji (64 px area-downsampled), downsample 4 → 8x8 tokens; every 5th Google
  // emoji is held out (the emoji study's validation set and FID reference)
  emoji: {
    data: 'emoji-google@not-every:5',
    testData: 'emoji-twitter',
    vq: { codebookSize: 4096, codebookDim: 8, ch: 32, chMult: [1, 2, 2], zChannels: 64, numResBlocks: 1, inChannels: 3, imageSize: 32 },
    transform: { resize: { height: 32, width: 32, method: 'area' }, channels: 3 },
    steps: 3000,
    batchSize: 32,
    lr: 4e-4,
    restartEvery: 100,
    reportEvery: 500,
  },
  // tests: the committed fixture, a few steps
  tiny: {
    data: 'fixture',
    testData: 'fixture',
    vq: { codebookSize: 256, codebookDim: 8, ch: 32, chMult: [1, 2], zChannels: 32, numResBlocks: 1, inChannels: 1, imageSize: 32 },
    transform: { pad: { height: 32, width: 32 }, channels: 1 },
    steps: 20,
    batchSize: 16,
    lr: 1e-3,
    restartEvery: 5,
    reportEvery: 10,
  },
};

export function tokenizerPreset(name: string): TokenizerPreset {
  const p = Object.hasOwn(TOKENIZER_PRESETS, name) ? TOKENIZER_PRESETS[name] : undefined;
  if (!p) throw new Error(`unknown tokenizer preset '${name}' (use ${Object.keys(TOKENIZER_PRESETS).join(', ')})`);
  return p;
}
