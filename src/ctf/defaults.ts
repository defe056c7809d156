// Every default of the method in one place: sampling (the paper's final settings), stage dropout and
// optimisation (LlamaGen's). Help texts, the library API and reports read them from here.

/** How stage 1 (or the baseline) and stage 2 draw their tokens. */
export interface SamplingSettings {
  /** classifier-free guidance scale of stage 1 / the baseline (1 = off) */
  cfg: number;
  /** 'constant' (LlamaGen) or 'linear' (ramps from 1 to cfg over the tokens) */
  cfgSchedule: 'constant' | 'linear';
  /** stage-1 temperature τ1 */
  temperature: number;
  /** stage-1 top-k (0 = all) */
  topK: number;
  /** stage-1 top-p (1 = all) */
  topP: number;
  stage2: Stage2Sampling;
}

export interface Stage2Sampling {
  /** τ2 */
  temperature: number;
  /** 0 = all, 1 = argmax */
  topK: number;
  topP: number;
  /** draw only codes of the position's sampled coarse label */
  restrict: boolean;
  /** stage-2 guidance scale (1 = off) */
  cfg: number;
}

/** The paper's final choice: CFG 2.0 here (1.75 in its best row), τ1 = τ2 = 1.1, no top-k / top-p. */
export const SAMPLING_DEFAULTS: Readonly<SamplingSettings> = Object.freeze({
  cfg: 2.0,
  cfgSchedule: 'constant',
  temperature: 1.1,
  topK: 0,
  topP: 1,
  stage2: Object.freeze({ temperature: 1.1, topK: 0, topP: 1, restrict: true, cfg: 1 }),
});

/** Partial settings as callers give them (stage 2's fields one level down). */
export type SamplingOverrides = Partial<Omit<SamplingSettings, 'stage2'>> & { stage2?: Partial<Stage2Sampling> };

export function resolveSampling(o: SamplingOverrides = {}): SamplingSettings {
  const defined = <T extends object>(x: T | undefined): Partial<T> =>
    Object.fromEntries(Object.entries(x ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
  const { stage2, ...stage1 } = o;
  return { ...SAMPLING_DEFAULTS, ...defined(stage1), stage2: { ...SAMPLING_DEFAULTS.stage2, ...defined(stage2) } };
}

/**
 * The numeric sampling settings by the one name each has everywhere outside code: CLI flags
 * (`--stage2-top-k`), sweep keys (`--sweep stage2-top-k=0,32`) and reports.
 */
export const SAMPLING_KNOBS = [
  { name: 'cfg', field: 'cfg', help: 'classifier-free guidance scale of stage 1 / the baseline (1 = off)' },
  { name: 'temperature', field: 'temperature', help: 'stage-1 (or baseline) temperature τ1' },
  { name: 'top-k', field: 'topK', integer: true, help: 'stage-1 top-k (0 = all, 1 = argmax)' },
  { name: 'top-p', field: 'topP', help: 'stage-1 top-p (1 = all)' },
  { name: 'stage2-temperature', stage2: true, field: 'temperature', help: 'stage-2 temperature τ2' },
  { name: 'stage2-top-k', stage2: true, field: 'topK', integer: true, help: 'stage-2 top-k (0 = all, 1 = argmax)' },
  { name: 'stage2-top-p', stage2: true, field: 'topP', help: 'stage-2 top-p (1 = all)' },
  { name: 'stage2-cfg', stage2: true, field: 'cfg', help: 'stage-2 guidance scale (1 = off)' },
] as const satisfies readonly { name: string; field: string; stage2?: boolean; integer?: boolean; help: string }[];

export type SamplingKnob = (typeof SAMPLING_KNOBS)[number]['name'];

export function samplingKnob(name: string): (typeof SAMPLING_KNOBS)[number] {
  const k = SAMPLING_KNOBS.find((x) => x.name === name);
  if (!k) throw new Error(`unknown sampling setting '${name}' (use ${SAMPLING_KNOBS.map((x) => x.name).join(', ')})`);
  return k;
}

/** The default of a knob, as help texts print it. */
export function samplingDefault(name: SamplingKnob): number {
  const k = samplingKnob(name);
  return 'stage2' in k ? SAMPLING_DEFAULTS.stage2[k.field] : SAMPLING_DEFAULTS[k.field];
}

/** `o` with one knob set. */
export function withSampling(o: SamplingOverrides, name: string, value: number): SamplingOverrides {
  const k = samplingKnob(name);
  if (!Number.isFinite(value) || ('integer' in k && !Number.isInteger(value)))
    throw new Error(`${name} must be ${'integer' in k ? 'an integer' : 'a number'}, got ${value}`);
  return 'stage2' in k ? { ...o, stage2: { ...o.stage2, [k.field]: value } } : { ...o, [k.field]: value };
}

/** LlamaGen's training defaults, used by every stage unless a preset or flag says otherwise. */
export const TRAINING_DEFAULTS = Object.freeze({
  lr: 1e-4,
  weightDecay: 0.05,
  betas: [0.9, 0.95] as const,
  gradClip: 1,
  dropout: Object.freeze({ token: 0.1, resid: 0.1, ffn: 0.1, class: 0.1 }),
});
