// `ctfgen launch`: starts the worker processes of one machine with torchrun's environment (RANK,
// WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT), hands each of their output
// lines to the caller with the rank, forwards SIGINT/SIGTERM/SIGHUP to them, and ends as soon as
// one fails, stopping the others (SIGTERM, then SIGKILL after a grace period), like torchrun.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { createInterface } from 'node:readline';

export interface LaunchOptions {
  /** program and arguments every worker runs */
  command: string[];
  nprocPerNode: number;
  nnodes?: number;
  /** this machine's place among the nodes (0 hosts rank 0) */
  nodeRank?: number;
  /** address of node 0, reachable from every node (default 127.0.0.1: one machine) */
  masterAddr?: string;
  /** port of the rendezvous store on node 0 (default 29500, torchrun's) */
  masterPort?: number;
  /** more environment for the workers */
  env?: Record<string, string>;
  /** each output line of a worker (rank is the global rank) */
  onLine?: (rank: number, stream: 'stdout' | 'stderr', line: string) => void;
  /** the launcher's own messages (a worker failed, stopping the others) */
  onEvent?: (message: string) => void;
  /** seconds a stopped worker gets before SIGKILL (default 10) */
  graceSeconds?: number;
}

export interface LaunchResult {
  /** 0 when every worker succeeded, else the first failure's exit code (128 + signal number for a signal) */
  exitCode: number;
  /** the first worker that failed */
  failed?: { rank: number; code: number | null; signal: NodeJS.Signals | null };
}

export const DEFAULT_MASTER_PORT = 29500;
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** The torchrun variables of local worker `local`. */
export function workerEnv(o: LaunchOptions, local: number): Record<string, string> {
  const nnodes = o.nnodes ?? 1;
  const nodeRank = o.nodeRank ?? 0;
  return {
    RANK: String(nodeRank * o.nprocPerNode + local),
    WORLD_SIZE: String(nnodes * o.nprocPerNode),
    LOCAL_RANK: String(local),
    LOCAL_WORLD_SIZE: String(o.nprocPerNode),
    GROUP_RANK: String(nodeRank),
    MASTER_ADDR: o.masterAddr ?? '127.0.0.1',
    MASTER_PORT: String(o.masterPort ?? DEFAULT_MASTER_PORT),
  };
}

function check(o: LaunchOptions): void {
  const nnodes = o.nnodes ?? 1;
  const nodeRank = o.nodeRank ?? 0;
  if (o.command.length === 0) throw new Error('launch: give the command the workers run after --');
  if (!Number.isInteger(o.nprocPerNode) || o.nprocPerNode < 1)
    throw new Error(`launch: --nproc-per-node must be a positive integer, got ${o.nprocPerNode}`);
  if (!Number.isInteger(nnodes) || nnodes < 1) throw new Error(`launch: --nnodes must be a positive integer, got ${nnodes}`);
  if (!Number.isInteger(nodeRank) || nodeRank < 0 || nodeRank >= nnodes)
    throw new Error(`launch: --node-rank ${nodeRank} is outside 0..${nnodes - 1} (--nnodes ${nnodes})`);
  if (nnodes > 1 && !o.masterAddr)
    throw new Error('launch: with --nnodes > 1 give --master-addr, the address of node 0 that every node can reach');
}

export function launch(o: LaunchOptions): Promise<LaunchResult> {
  check(o);
  const base = { ...process.env, ...o.env };
  // workers of ours host their own store (rank 0); an agent store is torchrun's business
  delete base.TORCHELASTIC_USE_AGENT_STORE;
  const [program, ...args] = o.command;
  return new Promise((resolve) => {
    const workers: (ChildProcess | null)[] = [];
    let running = o.nprocPerNode;
    let result: LaunchResult | null = null;
    let killTimer: NodeJS.Timeout | null = null;
    const stopAll = (signal: NodeJS.Signals) => {
      for (const w of workers) if (w && w.exitCode === null && w.signalCode === null) w.kill(signal);
    };
    const fail = (r: LaunchResult, signal: NodeJS.Signals = 'SIGTERM') => {
      if (result) return;
      result = r;
      stopAll(signal);
      killTimer = setTimeout(() => stopAll('SIGKILL'), (o.graceSeconds ?? 10) * 1000);
      killTimer.unref();
    };
    const forward = (signal: NodeJS.Signals) => {
      o.onEvent?.(`received ${signal}; passing it to the workers`);
      fail({ exitCode: 128 + (constants.signals[signal] ?? 1) }, signal);
    };
    for (const s of FORWARDED) process.on(s, forward);
    for (let local = 0; local < o.nprocPerNode; local++) {
      const env = { ...base, ...workerEnv(o, local) };
      const rank = Number(env.RANK);
      const child = spawn(program!, args, { env, stdio: ['inherit', 'pipe', 'pipe'] });
      workers.push(child);
      for (const stream of ['stdout', 'stderr'] as const)
        createInterface({ input: child[stream]!, crlfDelay: Infinity }).on('line', (line) => o.onLine?.(rank, stream, line));
      child.on('error', (e) => o.onEvent?.(`rank ${rank}: cannot start ${program}: ${e.message}`));
      child.on('close', (code, signal) => {
        running--;
        if ((code !== 0 || signal) && !result) {
          o.onEvent?.(`rank ${rank} ${signal ? `was killed by ${signal}` : `exited with code ${code}`}; stopping the other workers`);
          fail({ exitCode: signal ? 128 + (constants.signals[signal] ?? 1) : (code ?? 1), failed: { rank, code, signal } });
        }
        if (running === 0) {
          for (const s of FORWARDED) process.off(s, forward);
          if (killTimer) clearTimeout(killTimer);
          resolve(result ?? { exitCode: 0 });
        }
      });
    }
  });
}
