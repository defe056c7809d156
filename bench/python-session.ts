// A PyTorch reference process that loads its model once and then answers one JSON line per command
// line, so a benchmark can interleave its own runs with PyTorch's and background load on the
// shared machine hits both sides alike. Protocol (the *_ref.py side): after loading and warming up
// it prints one JSON object (its "ready" line); then each command line on stdin gets one JSON line
// back; closing stdin (after an optional last command) ends it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { packageRoot } from '../src/util/package-root.js';
import { PYTHON } from './python.js';

export interface PythonSession {
  /** The ready line: torch version, threads, ... */
  ready: Record<string, unknown>;
  /** Sends one command line and waits for its JSON answer. */
  request(command: string): Promise<Record<string, unknown>>;
  /** Sends `last` (if given), closes stdin and waits for the process to exit. */
  close(last?: string): Promise<void>;
}

/**
 * Starts bench/<script> with args; null when no Python is installed. `allocator: 'ours'` gives it
 * our addon's glibc policy (freed memory kept for reuse, see native/src/addon.cc), so the
 * comparison is libtorch against libtorch, not page faults against none.
 */
export async function startPythonSession(
  script: string,
  args: string[],
  allocator: 'ours' | 'stock' = 'ours',
): Promise<PythonSession | null> {
  if (!existsSync(PYTHON)) {
    console.log(`(PyTorch reference skipped: ${PYTHON} not found; apt-get install python3-torch)`);
    return null;
  }
  const env = allocator === 'ours' ? { ...process.env, MALLOC_MMAP_MAX_: '0', MALLOC_TRIM_THRESHOLD_: String(1 << 30) } : process.env;
  const py = spawn(PYTHON, [join(packageRoot, 'bench', script), ...args], { stdio: ['pipe', 'pipe', 'inherit'], env });
  const lines = createInterface({ input: py.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const r = await lines.next();
    if (r.done) throw new Error(`${PYTHON} ${script} ended early (is torch installed?)`);
    return JSON.parse(r.value) as Record<string, unknown>;
  };
  const ready = await next();
  return {
    ready,
    request: (command) => {
      py.stdin.write(`${command}\n`);
      return next();
    },
    close: async (last) => {
      py.stdin.end(last === undefined ? undefined : `${last}\n`);
      await new Promise((res) => py.on('close', res));
    },
  };
}
