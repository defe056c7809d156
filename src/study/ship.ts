// Study v2 part B's shipped models: the CTF configuration with the lowest FID on the validation
// range (the main run at its chosen setting, and each coarse labelling's run at its own) and the
// baseline over the same tokenizer, exported (run/export.ts) into one folder with one shared
// tokenizer. The choice is made on the validation range only, never on the report set.
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { exportRun } from '../run/export.js';
import type { Measurement } from './operating-points.js';
import type { TrainedStudyResult } from './trained-measurements.js';
import { baselineRun, stage2Run } from './trained-study.js';

export interface ShippedCandidate {
  /** the run folder */
  dir: string;
  /** its best setting on the validation range */
  validation: Measurement;
}

export interface ShippedChoice {
  /** the CTF candidates, lowest validation FID first: the first is shipped */
  ctf: ShippedCandidate[];
  baseline: ShippedCandidate;
}

export function shippedChoice(r: TrainedStudyResult): ShippedChoice {
  const c = r.config;
  const ctf: ShippedCandidate[] = [
    { dir: stage2Run(c, c.stage2[0]!.name), validation: r.points.best.ctf.validation },
    ...r.coarse.map((x) => ({ dir: x.dir, validation: x.chosen.validation })),
  ];
  return {
    ctf: ctf.sort((a, b) => a.validation.fid - b.validation.fid),
    baseline: { dir: baselineRun(c), validation: r.points.best.baseline.validation },
  };
}

/**
 * Exports the chosen runs into `folder/ctf` and `folder/baseline`, beside one `folder/tokenizer.safetensors`;
 * returns the files written. Each export is made in a folder of its own and then swapped in, so the
 * models it replaces (which may have been trained on other data) stay whole until it is complete.
 */
export async function shipModels(choice: ShippedChoice, folder: string): Promise<string[]> {
  // exportRun names the files it writes by absolute path
  const dir = resolve(folder);
  const tokenizer = join(dir, 'tokenizer.safetensors');
  const written: string[] = [];
  for (const [system, from] of [
    ['ctf', choice.ctf[0]!.dir],
    ['baseline', choice.baseline.dir],
  ] as const) {
    const [to, staged, old] = [join(dir, system), join(dir, `.${system}.new`), join(dir, `.${system}.old`)];
    rmSync(staged, { recursive: true, force: true });
    const files = await exportRun(from, staged, tokenizer);
    rmSync(old, { recursive: true, force: true });
    if (existsSync(to)) renameSync(to, old);
    renameSync(staged, to);
    rmSync(old, { recursive: true, force: true });
    written.push(...files.map((f) => (f.startsWith(staged) ? to + f.slice(staged.length) : f)));
  }
  // both exports write the one shared tokenizer
  return [...new Set(written)];
}
