// torchrun's launch contract: a worker learns its place from RANK, WORLD_SIZE, LOCAL_RANK,
// LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT (`ctfgen launch` sets the same variables), so
// `torchrun --no-python --nproc-per-node 2 npx ctfgen train ...` works too. Without WORLD_SIZE (or
// with WORLD_SIZE=1) the process is alone and no process group is made at all.

/** The place of this process in a distributed run. */
export interface DistEnv {
  rank: number;
  worldSize: number;
  /** rank among the processes of this machine (picks cuda:LOCAL_RANK) */
  localRank: number;
  localWorldSize: number;
  masterAddr: string;
  masterPort: number;
  /**
   * torchrun with its default static rendezvous hosts the store in its agent
   * (TORCHELASTIC_USE_AGENT_STORE=True): workers then join it as clients, under a prefix per restart.
   */
  agentStore: boolean;
  restartCount: number;
  /** how long a collective may wait for its peers (CTFGEN_DIST_TIMEOUT seconds, default 600) */
  timeoutMs: number;
}

export const DEFAULT_DIST_TIMEOUT_S = 600;

type Env = Record<string, string | undefined>;

function intVar(env: Env, name: string, min: number, fallback?: number): number {
  const v = env[name];
  if (v === undefined || v === '') {
    if (fallback !== undefined) return fallback;
    throw new Error(
      `${name} is not set: a distributed worker needs RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT (start it with \`ctfgen launch\` or torchrun)`,
    );
  }
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got '${v}'`);
  return n;
}

/** Seconds from CTFGEN_DIST_TIMEOUT (positive number), else the default. */
export function distTimeoutMs(env: Env = process.env): number {
  const v = env.CTFGEN_DIST_TIMEOUT;
  if (v === undefined || v === '') return DEFAULT_DIST_TIMEOUT_S * 1000;
  const s = Number(v);
  if (!(s > 0) || !Number.isFinite(s)) throw new Error(`CTFGEN_DIST_TIMEOUT must be a positive number of seconds, got '${v}'`);
  return Math.round(s * 1000);
}

/** This process's place in a distributed run, or null when it runs alone. */
export function distEnv(env: Env = process.env): DistEnv | null {
  const worldSize = intVar(env, 'WORLD_SIZE', 1, 1);
  if (worldSize === 1) return null;
  const rank = intVar(env, 'RANK', 0);
  if (rank >= worldSize) throw new Error(`RANK ${rank} is outside WORLD_SIZE ${worldSize}`);
  const localWorldSize = intVar(env, 'LOCAL_WORLD_SIZE', 1, worldSize);
  const localRank = intVar(env, 'LOCAL_RANK', 0, rank % localWorldSize);
  if (localRank >= localWorldSize) throw new Error(`LOCAL_RANK ${localRank} is outside LOCAL_WORLD_SIZE ${localWorldSize}`);
  const masterAddr = env.MASTER_ADDR;
  if (!masterAddr)
    throw new Error('MASTER_ADDR is not set: give the address of the machine of rank 0 (start workers with `ctfgen launch` or torchrun)');
  const masterPort = intVar(env, 'MASTER_PORT', 1);
  if (masterPort > 65535) throw new Error(`MASTER_PORT must be a TCP port (1-65535), got ${masterPort}`);
  return {
    rank,
    worldSize,
    localRank,
    localWorldSize,
    masterAddr,
    masterPort,
    agentStore: env.TORCHELASTIC_USE_AGENT_STORE === 'True',
    restartCount: intVar(env, 'TORCHELASTIC_RESTART_COUNT', 0, 0),
    timeoutMs: distTimeoutMs(env),
  };
}

/** Whether this process is rank 0 (or alone): the one that writes files and draws progress. */
export function isMainProcess(env: Env = process.env): boolean {
  const r = env.RANK;
  return r === undefined || r === '' || Number(r) === 0;
}
