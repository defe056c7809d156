// The sampling flags `sample` and `eval` share, generated from the method's one table of settings
// (ctf/defaults.ts), so names, parsing and the defaults shown in --help have one source.
import { InvalidArgumentError, type Command } from 'commander';
import { SAMPLING_DEFAULTS, SAMPLING_KNOBS, samplingDefault, withSampling, type SamplingOverrides } from '../ctf/index.js';
import { CFG_SCHEDULES, type CfgSchedule } from '../models/generate.js';
import type { PackedWeights } from '../models/gpt-packed.js';
import { SYSTEMS, type SystemKind } from '../run/load-run.js';
import { nonNegInt, oneOf, positiveInt } from './parse.js';

/** Commander's option values of the flags below (camel-cased flag names). */
export interface SamplingFlags {
  system?: SystemKind;
  cfgSchedule?: CfgSchedule;
  stage2Restrict: boolean;
  seed: number;
  batchSize?: number;
  /** precision of the packed sampling weights (--weights) */
  weights?: PackedWeights;
  /** the weights kept at this training step (--step) */
  step?: number;
  [knob: string]: unknown;
}

const camel = (flag: string) => flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

const number = (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected a number ≥ 0, got '${v}'`);
  return n;
};

export function addSamplingFlags(cmd: Command): Command {
  cmd.option('--system <kind>', `${SYSTEMS.join(' | ')} (when a run holds both)`, oneOf(SYSTEMS));
  cmd.option('--step <n>', 'the weights kept at this training step (`train --keep-every`) instead of the final ones', positiveInt);
  for (const k of SAMPLING_KNOBS) cmd.option(`--${k.name} <v>`, `${k.help} (default ${samplingDefault(k.name)})`, number);
  return cmd
    .option('--cfg-schedule <s>', `${CFG_SCHEDULES.join(' | ')} (default ${SAMPLING_DEFAULTS.cfgSchedule})`, oneOf(CFG_SCHEDULES))
    .option('--no-stage2-restrict', "let stage 2 draw codes outside the position's coarse label")
    .option('--seed <s>', 'random seed (image i is drawn from seed and i alone)', nonNegInt, 0)
    .option('--batch-size <n>', 'images per sampling batch', positiveInt);
}

/** The sampling settings the flags name (unset flags keep the defaults). */
export function samplingFromFlags(f: SamplingFlags): SamplingOverrides {
  let o: SamplingOverrides = { cfgSchedule: f.cfgSchedule, stage2: { restrict: f.stage2Restrict } };
  for (const k of SAMPLING_KNOBS) {
    const v = f[camel(k.name)];
    if (typeof v === 'number') o = withSampling(o, k.name, v);
  }
  return o;
}
