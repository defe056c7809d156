// Entry point of a ctfgen worker thread: opens one session object (a generator, a tokenizer or the
// task runner), then serves calls one at a time, forwarding progress and reading the caller's
// abort flag between tokens / steps.
import { parentPort, workerData } from 'node:worker_threads';
import * as T from '../torch/index.js';
import type { StopSignal } from '../util/progress.js';
import { openGenerator } from './generator-session.js';
import { toWire, type FromWorker, type ToWorker, type WorkerArgs } from './protocol.js';
import { TASKS } from './tasks.js';
import { openTokenizerSession } from './tokenizer-session.js';

interface SessionObject {
  info: unknown;
  methods: Record<string, (args: never, ctx: { onProgress: (p: unknown) => void; signal: StopSignal }) => unknown>;
  dispose(): void;
}

const OPEN: Record<WorkerArgs['kind'], (args: never) => Promise<SessionObject>> = {
  generator: openGenerator as never,
  tokenizer: openTokenizerSession as never,
  task: async () => ({ info: {}, methods: TASKS as never, dispose: () => {} }),
};

/** The ArrayBuffers behind typed arrays in a result, moved to the caller instead of copied. */
function transferables(value: unknown, out = new Set<ArrayBuffer>(), depth = 0): ArrayBuffer[] {
  if (ArrayBuffer.isView(value) && value.buffer instanceof ArrayBuffer) out.add(value.buffer);
  else if (value && typeof value === 'object' && depth < 4)
    for (const v of Array.isArray(value) ? value : Object.values(value)) transferables(v, out, depth + 1);
  return [...out];
}

const port = parentPort!;
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

async function main(): Promise<void> {
  const { kind, args, threads } = workerData as WorkerArgs;
  if (threads !== undefined) T.setNumThreads(threads);
  let session: SessionObject;
  try {
    session = await OPEN[kind](args as never);
  } catch (e) {
    post({ type: 'fatal', error: toWire(e) });
    return;
  }
  post({ type: 'ready', info: session.info });
  // calls run one after another: an async one must not interleave with the next (one RNG, one grad mode)
  let queue = Promise.resolve();
  port.on('message', (m: ToWorker) => {
    queue = queue.then(() => serve(session, m));
  });
}

async function serve(session: SessionObject, m: ToWorker): Promise<void> {
  if (m.type === 'close') {
    session.dispose();
    port.close();
    return;
  }
  const signal = {
    get aborted() {
      return Atomics.load(m.abort, 0) === 1;
    },
  };
  try {
    const method = session.methods[m.method];
    if (!method) throw new Error(`unknown method '${m.method}'`);
    if (signal.aborted) throw new DOMException(`${m.method} was aborted`, 'AbortError');
    const onProgress = m.progress ? (p: unknown) => post({ type: 'progress', id: m.id, progress: p }) : () => {};
    const value = await method(m.args as never, { onProgress, signal });
    post({ type: 'result', id: m.id, value }, transferables(value));
  } catch (e) {
    post({ type: 'error', id: m.id, error: toWire(e) });
  }
}

void main();
