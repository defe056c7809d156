// Training presets sized for 2 CPU cores: what the studies ran and measured; every field can be
// overridden on the command line.
import type { LrSchedule } from './schedule.js';
import type { ModelSize } from '../ctf/index.js';

export interface TokenPreset {
  /** stage 1, stage 2 and the baseline share one size (as in the studies) */
  model: ModelSize;
  steps: number;
  batchSize: number;
  schedule: LrSchedule;
  validateEvery: number;
  saveEvery: number;
}

// the settings of the Fashion-MNIST study's main runs (docs/results.md): 1,600 steps of a
// dim-128, 4-layer GPT take 6-12 min per stage on 2 cores
const FASHION_MNIST: TokenPreset = {
  model: { dim: 128, nLayer: 4, nHead: 4 },
  steps: 1600,
  batchSize: 32,
  schedule: { lr: 1e-3, warmupSteps: 100, decay: 'cosine', minLr: 5e-5 },
  validateEvery: 400,
  saveEvery: 400,
};

export const TOKEN_PRESETS: Record<string, TokenPreset> = {
  'fashion-mnist': FASHION_MNIST,
  // the emoji study's: the same model, fewer steps for its 1,906 images (docs/results-emoji.md)
  emoji: { ...FASHION_MNIST, steps: 1200 },
  tiny: {
    model: { dim: 32, nLayer: 2, nHead: 2 },
    steps: 40,
    batchSize: 16,
    schedule: { lr: 3e-3 },
    validateEvery: 20,
    saveEvery: 20,
  },
};

export function tokenPreset(name: string): TokenPreset {
  const p = Object.hasOwn(TOKEN_PRESETS, name) ? TOKEN_PRESETS[name] : undefined;
  if (!p) throw new Error(`unknown preset '${name}' (use ${Object.keys(TOKEN_PRESETS).join(', ')})`);
  return p;
}
