// Training metrics as JSON lines (one object per event), appended as training goes and trimmed to
// the resumed step so a resumed run's log reads like an uninterrupted one.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../io/index.js';

export type MetricRecord = { step: number } & Record<string, number | string>;

export class MetricsLog {
  constructor(readonly path: string) {}

  append(r: MetricRecord): void {
    appendFileSync(this.path, JSON.stringify(r) + '\n');
  }

  read(): MetricRecord[] {
    if (!existsSync(this.path)) return [];
    return readFileSync(this.path, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as MetricRecord);
  }

  /** Drops records after `step` (work a resumed run will redo). */
  truncateAfter(step: number): void {
    const keep = this.read().filter((r) => r.step <= step);
    writeFileAtomicSync(this.path, keep.map((r) => JSON.stringify(r) + '\n').join(''));
  }
}
