// A resumable study: an ordered list of ctfgen commands, each skipped when its outputs exist
// (training commands resume from their last checkpoint instead). Every command that ran is logged
// with its wall time, so the report can cite exactly how each figure was made.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomicSync } from '../io/index.js';
import { packageRoot } from '../util/package-root.js';
import { writeReport } from './report.js';
import { studySteps } from './steps.js';
import { studyConfig } from './studies.js';

export interface StudyStep {
  /** arguments after `ctfgen` (none for a step done in-process by `action`) */
  args: string[];
  /** the step's work, in this process, instead of a ctfgen command */
  action?: () => void;
  /** files whose existence means the step is done */
  outputs: string[];
  /** a short name for logs and the report */
  name: string;
}

export interface StepRecord {
  name: string;
  command: string;
  seconds: number;
  finishedAt: string;
  /** how the record was made when not by the runner (e.g. a step run by hand, timed from its own log) */
  note?: string;
}

export class StudyLog {
  readonly records: Record<string, StepRecord>;
  constructor(readonly path: string) {
    this.records = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, StepRecord>) : {};
  }
  add(r: StepRecord): void {
    this.records[r.name] = r;
    writeJsonAtomicSync(this.path, this.records);
  }
}

export const commandLine = (args: string[]): string =>
  ['npx ctfgen', ...args.map((a) => (/[\s,]/.test(a) && !a.includes(',') ? JSON.stringify(a) : a))].join(' ');

/** Runs the steps in order; returns false if one failed. */
export function runStudy(steps: StudyStep[], log: StudyLog): boolean {
  const cli = join(packageRoot, 'dist', 'src', 'cli', 'main.js');
  for (const s of steps) {
    if (s.outputs.length > 0 && s.outputs.every((o) => existsSync(o))) {
      console.log(`✓ ${s.name} (done)`);
      continue;
    }
    const t0 = Date.now();
    if (s.action) {
      console.log(`▶ ${s.name}`);
      s.action();
      log.add({ name: s.name, command: '(in-process)', seconds: (Date.now() - t0) / 1000, finishedAt: new Date().toISOString() });
      continue;
    }
    const cmd = commandLine(s.args);
    console.log(`▶ ${s.name}: ${cmd}`);
    const r = spawnSync(process.execPath, [cli, ...s.args], { stdio: 'inherit', cwd: packageRoot });
    if (r.status !== 0) {
      console.error(`✗ ${s.name} failed (exit ${r.status}); fix and rerun — finished steps are kept`);
      return false;
    }
    log.add({ name: s.name, command: cmd, seconds: (Date.now() - t0) / 1000, finishedAt: new Date().toISOString() });
  }
  return true;
}

/** Runs (or resumes) the named study, then rewrites its report from the files it wrote. */
export async function runNamedStudy(name: string, o: { reportOnly?: boolean } = {}): Promise<{ ok: boolean; report: string }> {
  const c = studyConfig(name);
  mkdirSync(c.root, { recursive: true });
  mkdirSync(c.fig, { recursive: true });
  const log = new StudyLog(c.log);
  const ok = o.reportOnly || runStudy(studySteps(c), log);
  await writeReport(c, log);
  return { ok, report: c.report };
}
