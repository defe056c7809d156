// Progress bars for long work (cli-progress: maintained, handles TTY redraw, rate and ETA).
// Off a terminal (CI, logs) it prints a plain line every few seconds instead of redrawing.
import cliProgress from 'cli-progress';
import { isMainProcess } from '../dist/env.js';
import type { OnProgress, OnWarning } from '../util/progress.js';

/** Warnings of the work a command runs, on stderr. */
export const warn: OnWarning = (message) => process.stderr.write(`ctfgen: warning: ${message}\n`);

export interface Progress {
  update(done: number, fields?: Record<string, string | number>): void;
  stop(): void;
}

/** `startAt`: work already done before this process (resumed runs), excluded from the rate. */
export function progress(label: string, total: number, startAt = 0): Progress {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {value}/{total} {percentage}% | {rate} | ETA {eta_formatted} {info}`,
        stream: process.stderr,
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    const start = Date.now();
    bar.start(total, startAt, { rate: '-', info: '' });
    return {
      update(done, fields = {}) {
        const rate = rateText((done - startAt) / Math.max((Date.now() - start) / 1000, 1e-3));
        bar.update(done, { rate, info: formatFields(fields) });
      },
      stop: () => bar.stop(),
    };
  }
  const start = Date.now();
  let lastPrint = 0;
  return {
    update(done, fields = {}) {
      const now = Date.now();
      if (now - lastPrint < 5000 && done < total) return;
      lastPrint = now;
      const secs = (now - start) / 1000;
      const rate = (done - startAt) / Math.max(secs, 1e-3);
      const eta = rate > 0 ? (total - done) / rate : 0;
      process.stderr.write(`${label} ${done}/${total} | ${rateText(rate)} | ETA ${eta.toFixed(0)}s ${formatFields(fields)}\n`);
    },
    stop() {},
  };
}

/** Items per second, or seconds per item when items are slower than one a second. */
function rateText(perSecond: number): string {
  if (!(perSecond > 0)) return '-';
  return perSecond >= 1 ? `${perSecond.toFixed(1)}/s` : `${(1 / perSecond).toFixed(1)} s each`;
}

function formatFields(fields: Record<string, string | number>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toFixed(4)) : v}`)
    .join(' | ');
}

/**
 * An OnProgress that draws one bar per phase (a new bar when the phase changes, e.g. from
 * 'stage1' to 'decode'); call `stop` when the work ends. Only rank 0 of a launch draws.
 */
export function progressReporter(): OnProgress & { stop(): void } {
  if (!isMainProcess()) return Object.assign(() => {}, { stop() {} });
  let current: { phase: string; bar: Progress } | null = null;
  const report = ((e) => {
    if (current?.phase !== e.phase) {
      current?.bar.stop();
      current = { phase: e.phase, bar: progress(e.phase, e.total, e.startAt ?? 0) };
      if (e.startAt) process.stderr.write(`${e.phase}: resumed at ${e.startAt}/${e.total}\n`);
    }
    current.bar.update(e.done, e.info);
  }) as OnProgress & { stop(): void };
  report.stop = () => {
    current?.bar.stop();
    current = null;
  };
  return report;
}
