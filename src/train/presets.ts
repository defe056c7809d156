// Training presets sized for 2 CPU cores. Sizes and step counts were chosen by measured speed
// (see docs/results.md); every field can be overridden on the command line.
import type { LrSchedule } from './schedule.js';
import type { ModelSize } from './train-tokens.js';

export interface TokenPreset {
  model: ModelSize;
  /** stage-2 model size (the paper uses a larger auxiliary model than stage 1) */
  auxModel: ModelSize;
  steps: number;
  batchSize: number;
  schedule: LrSchedule;
  validateEvery: number;
  saveEvery: number;
}

export const TOKEN_PRESETS: Record<string, TokenPreset> = {
  'fashion-mnist': {
    model: { dim: 192, nLayer: 6, nHead: 6 },
    auxModel: { dim: 192, nLayer: 6, nHead: 6 },
    steps: 1500,
    batchSize: 64,
    schedule: { lr: 5e-4, warmupSteps: 100, decay: 'cosine', minLr: 5e-5 },
    validateEvery: 250,
    saveEvery: 250,
  },
  emoji: {
    model: { dim: 192, nLayer: 6, nHead: 6 },
    auxModel: { dim: 192, nLayer: 6, nHead: 6 },
    steps: 1500,
    batchSize: 32,
    schedule: { lr: 5e-4, warmupSteps: 100, decay: 'cosine', minLr: 5e-5 },
    validateEvery: 250,
    saveEvery: 250,
  },
  tiny: {
    model: { dim: 32, nLayer: 2, nHead: 2 },
    auxModel: { dim: 32, nLayer: 2, nHead: 2 },
    steps: 40,
    batchSize: 16,
    schedule: { lr: 3e-3 },
    validateEvery: 20,
    saveEvery: 20,
  },
};

export function tokenPreset(name: string): TokenPreset {
  const p = TOKEN_PRESETS[name];
  if (!p) throw new Error(`unknown preset '${name}' (use ${Object.keys(TOKEN_PRESETS).join(', ')})`);
  return p;
}
