// The main-thread side of a worker session: long computations run in a worker thread (its own
// libtorch generator and tensors; the event loop of the caller stays free), requests go in as
// messages, progress and results come back. Cancellation crosses threads through a shared flag the
// worker reads between tokens / steps, since a busy worker cannot receive messages.
//
// Why a worker and not N-API async work: the computations are TypeScript driving many small native
// ops; only a thread of their own lets them run without blocking, and the whole pipeline moves over
// unchanged. Measured overhead: see the closing note / README (one postMessage each way per call).
import { Worker } from 'node:worker_threads';
import type { ProgressEvent } from '../util/progress.js';
import type { FromWorker, SessionKind, ToWorker, WorkerArgs } from './protocol.js';

export interface CallOptions<P = ProgressEvent> {
  onProgress?: (p: P) => void;
  signal?: AbortSignal;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  onProgress?: (p: never) => void;
  /** the shared flag the worker polls */
  abort: Int32Array;
  cleanup(): void;
}

/** The error a worker reported, as an Error of the same name on this side. */
function revive(e: { name: string; message: string }): Error {
  if (e.name === 'AbortError') return new DOMException(e.message, 'AbortError');
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

export class WorkerSession<Info> {
  #worker: Worker;
  #pending = new Map<number, Pending>();
  #next = 1;
  #closed = false;
  #failure: Error | null = null;

  private constructor(
    worker: Worker,
    readonly info: Info,
  ) {
    this.#worker = worker;
    worker.on('message', (m: FromWorker) => this.#onMessage(m));
    worker.on('error', (e) => this.#fail(e instanceof Error ? e : new Error(String(e))));
    worker.on('exit', (code) => {
      if (!this.#closed) this.#fail(new Error(`the ctfgen worker thread exited (code ${code})`));
    });
  }

  /** Starts a worker holding one session object (a loaded generator, a tokenizer, a task runner). */
  static open<Info>(kind: SessionKind, args: unknown, threads?: number): Promise<WorkerSession<Info>> {
    const workerData: WorkerArgs = { kind, args, threads };
    const worker = new Worker(new URL('./worker-host.js', import.meta.url), { workerData });
    return new Promise((resolve, reject) => {
      const early = (m: FromWorker) => {
        worker.off('message', early);
        worker.off('error', failed);
        if (m.type === 'ready') resolve(new WorkerSession<Info>(worker, m.info as Info));
        else {
          void worker.terminate();
          reject(m.type === 'fatal' ? revive(m.error) : new Error(`unexpected first message ${m.type} from the worker`));
        }
      };
      const failed = (e: unknown) => {
        worker.off('message', early);
        reject(e);
      };
      worker.on('message', early);
      worker.once('error', failed);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs a method of the session object in the worker. */
  call<R, P = ProgressEvent>(method: string, args: unknown, o: CallOptions<P> = {}): Promise<R> {
    if (this.#closed) return Promise.reject(new Error(`${method}: this session was disposed; load it again`));
    if (this.#failure) return Promise.reject(this.#failure);
    if (o.signal?.aborted) return Promise.reject(new DOMException(`${method} was aborted`, 'AbortError'));
    const id = this.#next++;
    const abort = new Int32Array(new SharedArrayBuffer(4));
    const onAbort = () => Atomics.store(abort, 0, 1);
    o.signal?.addEventListener('abort', onAbort, { once: true });
    return new Promise<R>((resolve, reject) => {
      this.#pending.set(id, {
        resolve: resolve as (v: unknown) => void,
        reject,
        onProgress: o.onProgress as ((p: never) => void) | undefined,
        abort,
        cleanup: () => o.signal?.removeEventListener('abort', onAbort),
      });
      const msg: ToWorker = { type: 'call', id, method, args, abort, progress: o.onProgress !== undefined };
      this.#worker.postMessage(msg);
    });
  }

  #onMessage(m: FromWorker): void {
    if (m.type === 'ready' || m.type === 'fatal') return;
    const p = this.#pending.get(m.id);
    if (!p) return;
    if (m.type === 'progress') {
      p.onProgress?.(m.progress as never);
      return;
    }
    this.#pending.delete(m.id);
    p.cleanup();
    if (m.type === 'result') p.resolve(m.value);
    else p.reject(revive(m.error));
  }

  #fail(e: Error): void {
    this.#failure = e;
    for (const p of this.#pending.values()) {
      p.cleanup();
      p.reject(e);
    }
    this.#pending.clear();
  }

  /** Frees the worker's models and ends the thread; pending calls reject. Harmless when repeated. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const ended = new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()));
    this.#worker.postMessage({ type: 'close' } satisfies ToWorker);
    for (const p of this.#pending.values()) {
      Atomics.store(p.abort, 0, 1); // stop the running call at its next token or step
      p.cleanup();
      p.reject(new Error('the session was disposed while this call was pending'));
    }
    this.#pending.clear();
    await ended;
  }
}

/** What a library object backed by a worker session shares: disposal (also by `using`), and a clear error after it. */
export abstract class SessionHandle<Info> implements Disposable, AsyncDisposable {
  protected readonly session: WorkerSession<Info>;
  constructor(session: WorkerSession<Info>) {
    this.session = session;
  }

  get disposed(): boolean {
    return this.session.closed;
  }

  /** Throws when used after dispose(). */
  protected check(method: string): void {
    if (this.session.closed)
      throw new Error(`${this.constructor.name}.${method}: this ${this.constructor.name.toLowerCase()} was disposed; load it again`);
  }

  /** Frees the models and the worker thread. A second call does nothing. */
  dispose(): Promise<void> {
    return this.session.close();
  }
  [Symbol.dispose](): void {
    void this.dispose();
  }
  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}
