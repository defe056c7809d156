// Training metrics as JSON lines (one object per event), appended as training goes and trimmed to
// the resumed step so a resumed run's log reads like an uninterrupted one. A process killed in the
// middle of an append (or a full disk) leaves a torn last line without its newline: reading drops
// it and says so, and the next trim rewrites the file without it. Any other bad line is an error
// naming the file and the line.
import { appendFileSync, existsSync } from 'node:fs';
import { readRegularFileSync, writeFileAtomicSync } from '../io/index.js';
import type { OnWarning } from '../util/progress.js';

export type MetricRecord = { step: number } & Record<string, number | string>;

export class MetricsLog {
  constructor(
    readonly path: string,
    /** told when a torn last line is dropped */
    private readonly onWarning?: OnWarning,
  ) {}

  append(r: MetricRecord): void {
    appendFileSync(this.path, JSON.stringify(r) + '\n');
  }

  read(): MetricRecord[] {
    if (!existsSync(this.path)) return [];
    const text = Buffer.from(readRegularFileSync(this.path, { what: 'a metrics log' })).toString('utf8');
    const lines = text.split('\n');
    const out: MetricRecord[] = [];
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      const last = i === lines.length - 1; // no newline after it: the append did not finish
      let r: unknown;
      try {
        r = JSON.parse(line);
      } catch (e) {
        if (last) {
          this.onWarning?.(
            `${this.path}: dropped a torn last line (${JSON.stringify(line.slice(0, 40))}…), left by an interrupted write; the ${out.length} records before it are kept`,
          );
          return;
        }
        throw new Error(`${this.path}, line ${i + 1}: not a JSON record (${(e as Error).message}); fix or delete that line`);
      }
      if (r === null || typeof r !== 'object' || typeof (r as MetricRecord).step !== 'number')
        throw new Error(`${this.path}, line ${i + 1}: not a metrics record (no numeric "step"); fix or delete that line`);
      out.push(r as MetricRecord);
    });
    return out;
  }

  /** Drops records after `step` (work a resumed run will redo), and any torn last line. */
  truncateAfter(step: number): void {
    const keep = this.read().filter((r) => r.step <= step);
    writeFileAtomicSync(this.path, keep.map((r) => JSON.stringify(r) + '\n').join(''));
  }
}
