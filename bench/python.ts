// Runs a PyTorch reference script with Debian's python3-torch (same libtorch 1.13 engine) and
// parses the JSON line it prints, so benchmarks can report ours/PyTorch ratios from one run.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../src/util/package-root.js';

export const PYTHON = process.env.CTFGEN_PYTHON ?? '/usr/bin/python3';

/** null when PyTorch is not installed (apt-get install python3-torch). */
export function runPythonBench<R>(script: string, args: string[] = []): R | null {
  if (!existsSync(PYTHON)) return null;
  try {
    execFileSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
  } catch {
    console.log(`(PyTorch reference skipped: ${PYTHON} cannot import torch; apt-get install python3-torch)`);
    return null;
  }
  // the same allocator policy as our addon (freed memory kept for reuse), so the comparison is
  // libtorch against libtorch, not page faults against none
  const env = { ...process.env, MALLOC_MMAP_MAX_: '0', MALLOC_TRIM_THRESHOLD_: String(1 << 30) };
  const out = execFileSync(PYTHON, [join(packageRoot, 'bench', script), ...args], { encoding: 'utf8', env });
  const line = out.trim().split('\n').pop()!;
  return JSON.parse(line) as R;
}

/** Median of `reps` timings of fn in milliseconds, after `warmup` untimed calls. */
export function timeMs(fn: () => void, reps: number, warmup = 2): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export const ratio = (ours: number, theirs: number | undefined): string =>
  theirs === undefined ? 'n/a' : `${(ours / theirs).toFixed(2)}x`;
