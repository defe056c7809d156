// A process group over c10d (PyTorch's distributed engine, bound in native/src/dist_ops.cc):
// rendezvous through a TCPStore (several machines) or a FileStore (one machine), Gloo for CPU
// tensors, NCCL for CUDA tensors. Collectives block until done or until the timeout; a failure is
// an Error naming the operation, this rank and the lost peers.
import { N, type DistBackend, type GroupHandle, type ReduceOp } from '../torch/native.js';
import * as T from '../torch/index.js';
import { distEnv, type DistEnv } from './env.js';

export type { ReduceOp, DistBackend };

export type StoreSpec =
  /** rank `serverRank` (default 0) hosts the store at host:port; the others connect to it */
  | { kind: 'tcp'; host: string; port: number; serverRank?: number; prefix?: string }
  /** a TCPStore hosted by someone else (torchrun's agent) */
  | { kind: 'tcp-client'; host: string; port: number; prefix?: string; hostedBy: string }
  /** a file every process of one machine can open */
  | { kind: 'file'; path: string };

export interface GroupOptions {
  rank: number;
  size: number;
  store: StoreSpec;
  /** gloo (CPU tensors, default) or nccl (CUDA tensors; CUDA builds only) */
  backend?: DistBackend;
  /** default time a collective may wait for its peers */
  timeoutMs: number;
  /** address Gloo binds to (default: this machine's hostname's; 127.0.0.1 keeps a test on loopback) */
  glooHostname?: string;
  /** network interface Gloo binds to (GLOO_SOCKET_IFNAME) */
  glooInterface?: string;
}

const live = new Set<ProcessGroup>();
let exitHook = false;

export class ProcessGroup {
  #handle: GroupHandle | null;

  private constructor(
    handle: GroupHandle,
    readonly rank: number,
    readonly size: number,
    readonly backend: DistBackend,
  ) {
    this.#handle = handle;
  }

  /** Joins the group (blocks until every rank has joined, or the timeout). */
  static init(o: GroupOptions): ProcessGroup {
    const backend = o.backend ?? 'gloo';
    if (!N.distBackends().includes(backend))
      throw new Error(`backend ${backend} is not in this build of the addon (it has ${N.distBackends().join(', ')})`);
    const s = o.store;
    const store =
      s.kind === 'file'
        ? { store: 'file' as const, path: s.path }
        : s.kind === 'tcp'
          ? {
              store: 'tcp' as const,
              host: s.host,
              port: s.port,
              storeServer: o.rank === (s.serverRank ?? 0),
              prefix: s.prefix,
              storeHost: `rank ${s.serverRank ?? 0}`,
            }
          : { store: 'tcp' as const, host: s.host, port: s.port, storeServer: false, prefix: s.prefix, storeHost: s.hostedBy };
    const handle = N.distInit({
      ...store,
      rank: o.rank,
      size: o.size,
      backend,
      timeoutMs: o.timeoutMs,
      glooHostname: o.glooHostname,
      glooInterface: o.glooInterface,
    });
    const g = new ProcessGroup(handle, o.rank, o.size, backend);
    live.add(g);
    if (!exitHook) {
      // stop the heartbeat threads before the process tears libtorch down
      process.once('exit', () => {
        for (const x of live) x.destroy();
      });
      exitHook = true;
    }
    return g;
  }

  get handle(): GroupHandle {
    if (this.#handle === null) throw new Error('process group used after destroy()');
    return this.#handle;
  }

  /** In place on every rank: the reduction of the tensors over the ranks (one collective for the list). */
  allReduce(tensors: T.Tensor[], op: ReduceOp = 'sum', timeoutMs?: number): void {
    N.distAllReduce(
      this.handle,
      tensors.map((t) => t.handle),
      op,
      timeoutMs,
    );
  }

  /** In place: every rank's tensors become root's (one collective for the list). */
  broadcast(tensors: T.Tensor[], root = 0, timeoutMs?: number): void {
    N.distBroadcast(
      this.handle,
      tensors.map((t) => t.handle),
      root,
      timeoutMs,
    );
  }

  /** Every rank's tensor (all of one shape), in rank order. */
  allGather(t: T.Tensor, timeoutMs?: number): T.Tensor[] {
    return N.distAllGather(this.handle, t.handle, timeoutMs).map((h) => new T.Tensor(h));
  }

  barrier(timeoutMs?: number): void {
    N.distBarrier(this.handle, timeoutMs);
  }

  /** Leaves the group (idempotent). */
  destroy(): void {
    if (this.#handle === null) return;
    N.distDestroy(this.#handle);
    this.#handle = null;
    live.delete(this);
  }
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1)$/;

/** The group options a torchrun-style environment describes. */
export function groupOptionsFromEnv(e: DistEnv, backend: DistBackend = 'gloo', env = process.env): GroupOptions {
  const store: StoreSpec = e.agentStore
    ? {
        kind: 'tcp-client',
        host: e.masterAddr,
        port: e.masterPort,
        prefix: `/worker/attempt_${e.restartCount}`,
        hostedBy: 'the torchrun agent of node 0',
      }
    : { kind: 'tcp', host: e.masterAddr, port: e.masterPort };
  return {
    rank: e.rank,
    size: e.worldSize,
    store,
    backend,
    timeoutMs: e.timeoutMs,
    glooInterface: env.GLOO_SOCKET_IFNAME || undefined,
    // a run whose master is on loopback stays on loopback
    glooHostname: LOOPBACK.test(e.masterAddr) ? '127.0.0.1' : undefined,
  };
}

/**
 * Puts this process on `device` ('cuda' meaning cuda:LOCAL_RANK when launched with several
 * processes) and joins the group the environment describes, over NCCL on CUDA and Gloo on the CPU;
 * null when the process runs alone (no group at all then).
 */
export function startProcess(device = 'cpu', env = process.env): ProcessGroup | null {
  const e = distEnv(env);
  const name = device === 'cuda' && e ? `cuda:${e.localRank}` : device;
  T.setDevice(name);
  if (!e) return null;
  return ProcessGroup.init(groupOptionsFromEnv(e, name.startsWith('cuda') ? 'nccl' : 'gloo', env));
}
