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

/**
 * `startAt`: work already done before this process (resumed runs), excluded from the rate; `since`:
 * when the work began (default now), the rate's and the ETA's origin. `stop` ends the bar's line,
 * and a later update draws it again with the same rate (work that alternates between phases).
 */
export function progress(label: string, total: number, startAt = 0, since = Date.now()): Progress {
  const start = since;
  const rateAt = (done: number, now: number) => (done - startAt) / Math.max((now - start) / 1000, 1e-3);
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {value}/{total} {percentage}% | {rate} | ETA {eta} {info}`,
        stream: process.stderr,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    let drawn = false;
    return {
      update(done, fields = {}) {
        const rate = rateAt(done, Date.now());
        const payload = { rate: rateText(rate), eta: etaText(rate, total - done), info: formatFields(fields) };
        if (!drawn) bar.start(total, done, payload);
        else bar.update(done, payload);
        drawn = true;
      },
      stop() {
        if (drawn) bar.stop();
        drawn = false;
      },
    };
  }
  let lastPrint = 0;
  return {
    update(done, fields = {}) {
      const now = Date.now();
      if (now - lastPrint < 5000 && done < total) return;
      lastPrint = now;
      const rate = rateAt(done, now);
      process.stderr.write(`${label} ${done}/${total} | ${rateText(rate)} | ETA ${etaText(rate, total - done)} ${formatFields(fields)}\n`);
    },
    stop() {},
  };
}

/** Time left at this rate: 42s, 5m10s, 1h02m. */
function etaText(perSecond: number, left: number): string {
  if (!(perSecond > 0)) return '-';
  const t = Math.round(left / perSecond);
  const two = (n: number) => String(n).padStart(2, '0');
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${two(t % 60)}s`;
  return `${Math.floor(t / 3600)}h${two(Math.floor((t % 3600) / 60))}m`;
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
 * An OnProgress that draws one bar per phase (another bar when the phase changes, e.g. from
 * 'stage1' to 'decode'). A phase's work began when the previous event came (the first phase's,
 * when the reporter was made), and a phase that comes back continues its bar: work alternating
 * between phases batch by batch shows each phase's progress at the rate the whole work makes it.
 * Call `stop` when the work ends. Only rank 0 of a launch draws.
 */
export function progressReporter(): OnProgress & { stop(): void } {
  if (!isMainProcess()) return Object.assign(() => {}, { stop() {} });
  const bars = new Map<string, { bar: Progress; total: number; done: number }>();
  let current: Progress | null = null;
  let lastEvent = Date.now();
  const report = ((e) => {
    let phase = bars.get(e.phase);
    // a phase that starts over (another job of the same kind) gets a new bar
    if (!phase || phase.total !== e.total || e.done < phase.done) {
      phase = { bar: progress(e.phase, e.total, e.startAt ?? 0, lastEvent), total: e.total, done: e.done };
      bars.set(e.phase, phase);
      if (e.startAt) process.stderr.write(`${e.phase}: resumed at ${e.startAt}/${e.total}\n`);
    }
    if (phase.bar !== current) current?.stop();
    current = phase.bar;
    phase.done = e.done;
    phase.bar.update(e.done, e.info);
    lastEvent = Date.now();
  }) as OnProgress & { stop(): void };
  report.stop = () => {
    current?.stop();
    current = null;
    bars.clear();
  };
  return report;
}
