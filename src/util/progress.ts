// How long work reports progress and learns that it should stop, without knowing who listens:
// the CLI draws a bar from these events, the library API forwards them to the caller's callback.

/** One progress report: `done` of `total` units of the named phase (e.g. 'stage1', 'train stage2'). */
export interface ProgressEvent {
  phase: string;
  done: number;
  total: number;
  /** numbers worth showing beside the bar (loss, accuracy, …) */
  info?: Record<string, number | string>;
  /** units already done before this process started (a resumed run), excluded from rates */
  startAt?: number;
}

export type OnProgress = (e: ProgressEvent) => void;

/** What long work reads to learn it should stop: an AbortSignal, or anything with `aborted`. */
export interface StopSignal {
  readonly aborted: boolean;
}

/** The error work rejects with when its signal is aborted (name 'AbortError', like fetch's). */
export function abortError(what: string): DOMException {
  return new DOMException(`${what} was aborted`, 'AbortError');
}

export function throwIfAborted(signal: StopSignal | undefined, what: string): void {
  if (signal?.aborted) throw abortError(what);
}

export function isAbortError(e: unknown): boolean {
  return e instanceof Error && e.name === 'AbortError';
}

/** Told about something the user should know that does not stop the work (a capped setting, dropped data). */
export type OnWarning = (message: string) => void;

/** The default for work given no OnWarning: Node's process warning (printed to stderr once per message). */
export const warnProcess: OnWarning = (message) => process.emitWarning(message, { code: 'CTFGEN' });
