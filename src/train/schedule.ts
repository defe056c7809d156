// Learning-rate schedules: constant (LlamaGen's default) or linear warm-up then cosine decay.
export interface LrSchedule {
  lr: number;
  warmupSteps?: number;
  /** 'constant' or 'cosine' (decays to minLr at the last step). */
  decay?: 'constant' | 'cosine';
  minLr?: number;
}

export function lrAt(s: LrSchedule, step: number, totalSteps: number): number {
  const warm = s.warmupSteps ?? 0;
  if (step < warm) return (s.lr * (step + 1)) / warm;
  if ((s.decay ?? 'constant') === 'constant') return s.lr;
  const minLr = s.minLr ?? 0;
  const progress = Math.min(1, (step - warm) / Math.max(1, totalSteps - warm));
  return minLr + 0.5 * (s.lr - minLr) * (1 + Math.cos(Math.PI * progress));
}
