// `ctfgen serve`: a local web app and JSON API over the library's generators.
// Why fastify: maintained, fast, validates request bodies against JSON schemas (Ajv) before a
// handler runs, enforces a body limit, and needs no build step; node:http would mean hand-written
// routing, parsing and validation.
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { loadGenerator, type GenerateResult, type Generator } from '../api/generator.js';
import { encodePNG, imageGrid } from '../api/images.js';
import { shippedRun } from '../api/shipped.js';
import type { SamplingOptions } from '../api/generator.js';
import { labelMapColors } from '../viz/label-map.js';
import { PAGE_HTML } from './page.js';
import { JobQueue, QueueFullError } from './queue.js';
import { MAX_IMAGES, describeValidationError, editBody, generateBody, refineBody } from './schemas.js';

export interface ServeOptions {
  /** run or export folders to serve (default: the shipped Fashion-MNIST CTF and baseline models) */
  runs?: string[];
  host?: string;
  port?: number;
  /** jobs running + waiting before requests are refused with 429 */
  maxQueue?: number;
  /** libtorch threads per model */
  threads?: number;
}

export interface Server {
  url: string;
  app: FastifyInstance;
  models: Map<string, Generator>;
  queue: JobQueue;
  close(): Promise<void>;
}

export const SERVE_DEFAULTS = { host: '127.0.0.1', port: 7860, maxQueue: 16 } as const;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type ClassRef = number | string;
interface GenerateBody extends SamplingOptions {
  model: string;
  classes?: ClassRef[];
  class?: ClassRef;
  n?: number;
  seed?: number;
}
interface RefineBody {
  model: string;
  class: ClassRef;
  coarse: number[][];
  seed?: number;
  stage2?: SamplingOptions['stage2'];
}
interface EditBody extends SamplingOptions {
  model: string;
  class: ClassRef;
  tokens?: number[][];
  coarse?: number[][];
  region: { x0: number; y0: number; x1: number; y1: number };
  seed?: number;
}

/** A served model's name: `<parent folder>/<folder>` (e.g. fashion-mnist/ctf), made unique. */
function modelNames(runs: string[]): string[] {
  const names: string[] = [];
  for (const r of runs) {
    const abs = resolve(r);
    const base = `${basename(dirname(abs))}/${basename(abs)}`;
    let name = base;
    for (let i = 2; names.includes(name); i++) name = `${base}-${i}`;
    names.push(name);
  }
  return names;
}

const rows = (map: Int32Array, grid: number): number[][] =>
  Array.from({ length: grid }, (_, y) => Array.from(map.subarray(y * grid, (y + 1) * grid)));

function flatten(what: string, m: number[][] | undefined, grid: number): Int32Array | undefined {
  if (!m) return undefined;
  if (m.length !== grid || m.some((r) => r.length !== grid))
    throw new HttpError(400, `${what} must be a ${grid}×${grid} array of integers`);
  return Int32Array.from(m.flat());
}

function resolveClassRef(g: Generator, field: string, c: ClassRef): number {
  if (typeof c === 'number') {
    if (c >= g.classNames.length)
      throw new HttpError(400, `${field} must be a class id in [0, ${g.classNames.length - 1}] or a name, got ${c}`);
    return c;
  }
  const i = g.classNames.findIndex((n) => n.toLowerCase() === c.trim().toLowerCase());
  if (i < 0) throw new HttpError(400, `${field}: unknown class '${c}' (classes: ${g.classNames.join(', ')})`);
  return i;
}

function toResponse(g: Generator, r: GenerateResult, seconds: number) {
  return {
    images: r.images.map((im, i) => ({
      png: Buffer.from(encodePNG(im)).toString('base64'),
      class: r.classes[i]!,
      className: g.classNames[r.classes[i]!]!,
      tokens: rows(r.tokens[i]!, g.grid),
      ...(r.coarse ? { coarse: rows(r.coarse[i]!, g.grid) } : {}),
    })),
    seconds,
  };
}

export async function startServer(o: ServeOptions = {}): Promise<Server> {
  const runs = o.runs?.length ? o.runs : [shippedRun('ctf'), shippedRun('baseline')];
  const names = modelNames(runs);
  const models = new Map<string, Generator>();
  try {
    for (let i = 0; i < runs.length; i++) models.set(names[i]!, await loadGenerator(runs[i], { threads: o.threads }));
  } catch (e) {
    await Promise.all([...models.values()].map((g) => g.dispose()));
    throw e;
  }
  const queue = new JobQueue(o.maxQueue ?? SERVE_DEFAULTS.maxQueue);
  const app = Fastify({
    bodyLimit: 1 << 20,
    ajv: { customOptions: { verbose: true, allErrors: false, coerceTypes: false, removeAdditional: false } },
  });
  const clientScript = readFileSync(new URL('./client/app.js', import.meta.url), 'utf8');

  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown[]; validationContext?: string }, _req, reply) => {
    if (err.validation)
      return reply.code(400).send({ error: describeValidationError(err.validationContext ?? 'body', err.validation[0] as never) });
    if (err instanceof HttpError) return reply.code(err.status).send({ error: err.message });
    if (err instanceof QueueFullError)
      return reply.code(429).header('Retry-After', String(err.retryAfterSeconds)).send({ error: err.message });
    if (err.statusCode === 413) return reply.code(413).send({ error: 'request body larger than 1 MB' });
    if (err.statusCode && err.statusCode < 500) return reply.code(err.statusCode).send({ error: err.message });
    if (err.name === 'AbortError') return reply.code(499).send({ error: 'cancelled' });
    // errors of the library on user input (bad region, token out of range) name the problem
    return reply.code(400).send({ error: err.message });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no route ${req.method} ${req.url}` }));

  const lookup = (name: string): Generator => {
    const g = models.get(name);
    if (!g) throw new HttpError(404, `unknown model '${name}' (served: ${[...models.keys()].join(', ')})`);
    return g;
  };

  /**
   * Runs a job through the queue. A client that goes away cancels it. With `Accept:
   * text/event-stream` the response streams `queued`, `progress` and finally `result` (or `error`)
   * events; otherwise it is the result's JSON.
   */
  async function viaQueue(
    req: FastifyRequest,
    reply: FastifyReply,
    job: (signal: AbortSignal, progress: (e: object) => void) => Promise<object>,
  ) {
    const ac = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) ac.abort();
    });
    const sse = (req.headers.accept ?? '').includes('text/event-stream');
    const send = (event: string, data: object) => reply.raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    if (!sse) return queue.submit((signal) => job(signal, () => {}), ac.signal);
    if (queue.stats.running + queue.stats.waiting >= queue.maxPending) throw new QueueFullError(queue.retryAfter());
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    try {
      const result = await queue.submit(
        (signal) => job(signal, (p) => send('progress', p)),
        ac.signal,
        (ahead) => send('queued', { ahead }),
      );
      send('result', result);
    } catch (e) {
      if (!ac.signal.aborted) send('error', { error: (e as Error).message });
    }
    reply.raw.end();
  }

  app.get('/', (_req, reply) => reply.type('text/html; charset=utf-8').send(PAGE_HTML));
  app.get('/favicon.ico', (_req, reply) => reply.code(204).send());
  app.get('/app.js', (_req, reply) => reply.type('text/javascript; charset=utf-8').send(clientScript));
  app.get('/api/health', () => ({ ok: true, models: models.size, queue: queue.stats }));
  app.get('/api/models', () =>
    [...models].map(([name, g]) => ({
      name,
      kind: g.kind,
      classNames: g.classNames,
      imageSize: g.imageSize,
      channels: g.channels,
      grid: g.grid,
      clusters: g.clusters ?? null,
      palette: g.clusters ? labelMapColors(g.clusters) : null,
      codebookSize: g.codebookSize,
      defaults: g.defaults,
      maxImages: MAX_IMAGES,
    })),
  );
  app.get('/api/models/:model/labels/:label.png', async (req, reply) => {
    const { model, label } = req.params as { model: string; label: string };
    const g = lookup(decodeURIComponent(model));
    if (g.kind !== 'ctf') throw new HttpError(404, `${model} is a baseline model: it has no coarse labels`);
    const l = Number(label);
    if (!Number.isInteger(l) || l < 0 || l >= g.clusters!)
      throw new HttpError(400, `label must be an integer in [0, ${g.clusters! - 1}], got ${label}`);
    const { images } = await g.labelMembers(l, { max: 12 });
    return reply.type('image/png').send(Buffer.from(encodePNG(imageGrid(images, { cols: Math.min(6, images.length), scale: 2 }))));
  });

  app.post('/api/generate', { schema: { body: generateBody } }, async (req, reply) => {
    const b = req.body as GenerateBody;
    const g = lookup(b.model);
    if (b.classes && b.class !== undefined) throw new HttpError(400, 'give either classes or class (with n), not both');
    const wanted = b.classes ?? (b.class !== undefined ? Array<ClassRef>(b.n ?? 1).fill(b.class) : null);
    if (!wanted) throw new HttpError(400, 'give classes: [id or name, …] or class with n');
    const classes = wanted.map((c, i) => resolveClassRef(g, b.classes ? `classes[${i}]` : 'class', c));
    return viaQueue(req, reply, async (signal, progress) => {
      const t0 = performance.now();
      const r = await g.generate({ ...b, classes, signal, onProgress: progress });
      return toResponse(g, r, (performance.now() - t0) / 1000);
    });
  });

  app.post('/api/refine', { schema: { body: refineBody } }, async (req, reply) => {
    const b = req.body as RefineBody;
    const g = lookup(b.model);
    if (g.kind !== 'ctf') throw new HttpError(400, `${b.model} is a baseline model: refining re-draws fine tokens from a coarse map (CTF)`);
    const cls = resolveClassRef(g, 'class', b.class);
    const coarse = flatten('coarse', b.coarse, g.grid)!;
    return viaQueue(req, reply, async (signal) => {
      const t0 = performance.now();
      const r = await g.refine({ classes: [cls], coarse: [coarse], seed: b.seed, stage2: b.stage2, signal });
      return toResponse(g, r, (performance.now() - t0) / 1000);
    });
  });

  app.post('/api/edit', { schema: { body: editBody } }, async (req, reply) => {
    const b = req.body as EditBody;
    const g = lookup(b.model);
    const cls = resolveClassRef(g, 'class', b.class);
    const tokens = flatten('tokens', b.tokens, g.grid);
    const coarse = flatten('coarse', b.coarse, g.grid);
    if (!tokens && !coarse) throw new HttpError(400, 'give tokens (or, for CTF, coarse) of the image to edit');
    return viaQueue(req, reply, async (signal) => {
      const t0 = performance.now();
      const { model: _m, class: _c, tokens: _t, coarse: _k, region, ...sampling } = b;
      const r = await g.edit({ ...sampling, classes: [cls], tokens: tokens && [tokens], coarse: coarse && [coarse], region, signal });
      return toResponse(g, r, (performance.now() - t0) / 1000);
    });
  });

  let address: string;
  try {
    address = await app.listen({ host: o.host ?? SERVE_DEFAULTS.host, port: o.port ?? SERVE_DEFAULTS.port });
  } catch (e) {
    await Promise.all([...models.values()].map((g) => g.dispose()));
    throw e;
  }
  return {
    url: address.replace('[::1]', 'localhost'),
    app,
    models,
    queue,
    async close() {
      await app.close();
      await Promise.all([...models.values()].map((g) => g.dispose()));
    },
  };
}
