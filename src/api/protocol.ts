// Messages between a WorkerSession (main thread) and its worker host.
export type SessionKind = 'generator' | 'tokenizer' | 'task';

export interface WorkerArgs {
  kind: SessionKind;
  args: unknown;
  /** intra-op threads of the worker's libtorch (default: CTFGEN_THREADS or every core) */
  threads?: number;
}

export interface WireError {
  name: string;
  message: string;
  stack?: string;
}

export type ToWorker =
  { type: 'call'; id: number; method: string; args: unknown; abort: Int32Array; progress: boolean } | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; info: unknown }
  | { type: 'fatal'; error: WireError }
  | { type: 'progress'; id: number; progress: unknown }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; error: WireError };

export const toWire = (e: unknown): WireError =>
  e instanceof Error ? { name: e.name, message: e.message, stack: e.stack } : { name: 'Error', message: String(e) };
