// One bounded queue in front of the models: jobs run `concurrency` at a time in arrival order; a
// job beyond `maxPending` (running + waiting) is refused at once with a retry estimate; an aborted
// job leaves the queue (waiting) or stops (running, through its signal).

export class QueueFullError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`the queue is full; retry in about ${retryAfterSeconds} s`);
    this.name = 'QueueFullError';
  }
}

interface Waiting {
  start(): void;
  onPosition?: (ahead: number) => void;
}

export class JobQueue {
  #running = 0;
  #waiting: Waiting[] = [];
  /** recent job durations (s), for Retry-After */
  #recent: number[] = [];

  constructor(
    readonly maxPending: number,
    readonly concurrency = 1,
  ) {
    if (!Number.isInteger(maxPending) || maxPending < 1) throw new Error(`max queue must be a positive integer, got ${maxPending}`);
  }

  get stats(): { running: number; waiting: number; maxPending: number } {
    return { running: this.#running, waiting: this.#waiting.length, maxPending: this.maxPending };
  }

  /** Seconds until a place is likely free: the mean recent job time × jobs ahead / concurrency (at least 1). */
  retryAfter(): number {
    const mean = this.#recent.length ? this.#recent.reduce((a, b) => a + b, 0) / this.#recent.length : 1;
    return Math.max(1, Math.ceil((mean * (this.#waiting.length + 1)) / this.concurrency));
  }

  /** Runs `job` when its turn comes; `onPosition` hears how many jobs are ahead while it waits. */
  async submit<T>(job: (signal: AbortSignal) => Promise<T>, signal: AbortSignal, onPosition?: (ahead: number) => void): Promise<T> {
    if (this.#running + this.#waiting.length >= this.maxPending) throw new QueueFullError(this.retryAfter());
    if (this.#running >= this.concurrency) {
      await new Promise<void>((resolve, reject) => {
        const entry: Waiting = {
          onPosition,
          start: () => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        const onAbort = () => {
          this.#waiting = this.#waiting.filter((w) => w !== entry);
          this.#announce();
          reject(new DOMException('the request was cancelled while it waited', 'AbortError'));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        this.#waiting.push(entry);
        onPosition?.(this.#waiting.length - 1 + this.#running);
      });
    }
    this.#running++;
    const t0 = performance.now();
    try {
      return await job(signal);
    } finally {
      this.#running--;
      this.#recent = [...this.#recent.slice(-19), (performance.now() - t0) / 1000];
      this.#waiting.shift()?.start();
      this.#announce();
    }
  }

  /** Tells every waiting job how many jobs are now ahead of it. */
  #announce(): void {
    this.#waiting.forEach((w, i) => w.onPosition?.(i + this.#running));
  }
}
