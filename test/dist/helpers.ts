// Shared pieces of the multi-process tests: free loopback ports, the CLI, real worker processes.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { loadCheckpoint } from '../../src/io/index.js';
import { MetricsLog } from '../../src/train/metrics-log.js';
import { packageRoot } from '../../src/util/package-root.js';
import type { RawTensor } from '../../src/util/tensor-types.js';
import { assertClose } from '../helpers.js';

export const cli = join(packageRoot, 'dist', 'src', 'cli', 'main.js');

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Runs ctfgen to completion; throws with its output unless it exits 0. */
export function ctfgen(args: string[], env: Record<string, string> = {}, cwd?: string): SpawnSyncReturns<string> {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, cwd });
  assert.equal(r.status, 0, `ctfgen ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** ms from start to exit */
  ms: number;
}

/** Starts a process; `done` resolves when it exits. */
export function start(
  argv: string[],
  env: Record<string, string> = {},
): { pid: number; kill: (s?: NodeJS.Signals) => void; stdout: () => string; done: Promise<Finished> } {
  const t0 = Date.now();
  const child = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Finished>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 })),
  );
  return { pid: child.pid!, kill: (s = 'SIGKILL') => child.kill(s), stdout: () => stdout, done };
}

/** torchrun's variables for rank `rank` of a one-machine world. */
export function rankEnv(rank: number, size: number, port: number, timeoutS = 30): Record<string, string> {
  return {
    RANK: String(rank),
    WORLD_SIZE: String(size),
    LOCAL_RANK: String(rank),
    LOCAL_WORLD_SIZE: String(size),
    MASTER_ADDR: '127.0.0.1',
    MASTER_PORT: String(port),
    CTFGEN_DIST_TIMEOUT: String(timeoutS),
  };
}

/** Per-step training losses of a metrics log (validation lines left out). */
export function stepLosses(metricsPath: string): number[] {
  return new MetricsLog(metricsPath)
    .read()
    .filter((r) => typeof r.loss === 'number')
    .map((r) => r.loss as number);
}

/**
 * Two training runs did the same: per-step losses agree within `tol` (relative), and so do the
 * final weights — element by element, or (`wholeModel`) as the relative l2 distance of all weights,
 * for models with parameters whose exact gradient is zero (a conv bias feeding a GroupNorm): Adam
 * moves those by about the learning rate on rounding noise alone, so any change in summation order
 * (even one process's thread count) moves them by ~1e-3 while the model as a whole agrees to ~1e-7.
 * `skip` names tensors compared by the caller.
 */
export async function assertSameTraining(
  a: { metrics: string; checkpoint: string },
  b: typeof a,
  steps: number,
  { tol = 1e-4, wholeModel = false, skip = [] as string[] } = {},
): Promise<void> {
  const la = stepLosses(a.metrics);
  const lb = stepLosses(b.metrics);
  assert.equal(la.length, steps, `${a.metrics}: ${la.length} steps logged`);
  assertClose(lb, la, tol, `losses of ${b.metrics} against ${a.metrics}`);
  const [wa, wb] = await Promise.all([loadCheckpoint(a.checkpoint), loadCheckpoint(b.checkpoint)]);
  assert.deepEqual([...wb.tensors.keys()], [...wa.tensors.keys()]);
  const f = (x: RawTensor) => new Float32Array(x.data.buffer.slice(x.data.byteOffset, x.data.byteOffset + x.data.byteLength));
  let diff = 0;
  let norm = 0;
  for (const [name, t] of wa.tensors) {
    if (skip.includes(name)) continue;
    assert.equal(t.dtype, 'float32', name);
    const [x, y] = [f(t), f(wb.tensors.get(name)!)];
    if (!wholeModel) assertClose(y, x, tol, `${name} of ${b.checkpoint}`);
    for (let i = 0; i < x.length; i++) {
      diff += (x[i]! - y[i]!) ** 2;
      norm += x[i]! ** 2;
    }
  }
  const rel = Math.sqrt(diff / norm);
  assert.ok(rel <= tol, `weights of ${b.checkpoint}: relative l2 distance ${rel} to ${a.checkpoint} (tolerance ${tol})`);
}
