// `ctfgen serve`'s HTTP API on loopback: every endpoint, every kind of validation error, the queue
// (429 with Retry-After when full, a client that disconnects cancels its job), region edits that
// keep every token outside the region, and health answering fast while a job runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { shippedRun } from '../../src/api/shipped.js';
import { loadClusters } from '../../src/cluster/cluster-file.js';
import { startServer, type Server } from '../../src/serve/server.js';

let server: Server;
/** coarse labels of the shipped CTF model */
const K = (await loadClusters(join(shippedRun('ctf'), 'clusters.safetensors'))).k;
test.before(async () => {
  server = await startServer({ port: 0, maxQueue: 3, threads: 1 });
});
test.after(async () => {
  await server.close();
});

const post = async (path: string, body: unknown, init: RequestInit = {}) => {
  const res = await fetch(server.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(init.headers ?? {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: init.signal,
  });
  return {
    status: res.status,
    headers: res.headers,
    json: (await res.json().catch(() => null)) as Record<string, unknown> & { error?: string },
  };
};
const CTF = 'fashion-mnist/ctf';
const BASE = 'fashion-mnist/baseline';
type Img = { png: string; class: number; className: string; tokens: number[][]; coarse?: number[][] };

test('health, models, label pictures, the page and its script', async () => {
  const health = await (await fetch(`${server.url}/api/health`)).json();
  assert.deepEqual(health, { ok: true, models: 2, queue: { running: 0, waiting: 0, maxPending: 3 } });
  const models = (await (await fetch(`${server.url}/api/models`)).json()) as {
    name: string;
    kind: string;
    classNames: string[];
    grid: number;
    palette: unknown[] | null;
  }[];
  assert.deepEqual(
    models.map((m) => [m.name, m.kind, m.grid]),
    [
      [CTF, 'ctf', 8],
      [BASE, 'baseline', 8],
    ],
  );
  assert.equal(models[0]!.classNames[7], 'Sneaker');
  assert.equal(models[0]!.palette!.length, K, 'a colour per coarse label');
  const label = await fetch(`${server.url}/api/models/${encodeURIComponent(CTF)}/labels/3.png`);
  assert.equal(label.headers.get('content-type'), 'image/png');
  assert.ok(PNG.sync.read(Buffer.from(await label.arrayBuffer())).width > 0);
  assert.equal((await fetch(`${server.url}/api/models/${encodeURIComponent(CTF)}/labels/${K}.png`)).status, 400);
  assert.equal((await fetch(`${server.url}/api/models/${encodeURIComponent(BASE)}/labels/1.png`)).status, 404);
  const page = await fetch(`${server.url}/`);
  assert.match(await page.text(), /<script type="module" src="\/app.js">/);
  assert.match(await (await fetch(`${server.url}/app.js`)).text(), /api\/generate/);
  assert.equal((await fetch(`${server.url}/nope`)).status, 404);
});

test('generate: images with class, tokens and coarse maps; classes by id or name; same seed, same images', async () => {
  const a = await post('/api/generate', { model: CTF, classes: ['Sneaker', 2], seed: 5, cfg: 1.5 });
  assert.equal(a.status, 200, a.json.error);
  const images = a.json.images as Img[];
  assert.deepEqual(
    images.map((i) => [i.class, i.className]),
    [
      [7, 'Sneaker'],
      [2, 'Pullover'],
    ],
  );
  for (const im of images) {
    const png = PNG.sync.read(Buffer.from(im.png, 'base64'));
    assert.deepEqual([png.width, png.height], [32, 32]);
    assert.equal(im.tokens.length, 8);
    assert.equal(im.coarse!.length, 8);
  }
  const b = await post('/api/generate', { model: CTF, class: 'sneaker', n: 1, seed: 5, cfg: 1.5 });
  assert.deepEqual((b.json.images as Img[])[0]!.tokens, images[0]!.tokens);
  const base = await post('/api/generate', { model: BASE, class: 0, n: 2 });
  assert.equal(base.status, 200);
  assert.equal((base.json.images as Img[])[0]!.coarse, undefined);
});

test('every bad request is a 4xx naming the field and what it may be', async () => {
  const cases: [unknown, number, RegExp][] = [
    [{ model: CTF, class: 0, cfg: 25 }, 400, /cfg must be a number in \[0, 20\], got 25/],
    [{ model: CTF, class: 0, temperature: -1 }, 400, /temperature must be a number in \[0, 10\]/],
    [{ model: CTF, class: 0, topP: 0 }, 400, /topP must be a number in \(0, 1\]/],
    [{ model: CTF, class: 0, topK: 1.5 }, 400, /topK must be an integer in \[0,/],
    [{ model: CTF, class: 0, n: 65 }, 400, /n must be an integer in \[1, 64\], got 65/],
    [{ model: CTF, classes: Array(65).fill(0) }, 400, /classes may hold at most 64 entries/],
    [{ model: CTF, class: 0, seed: -3 }, 400, /seed must be an integer in \[0,/],
    [{ model: CTF, class: 0, cfgSchedule: 'bogus' }, 400, /cfgSchedule must be one of constant, linear, got "bogus"/],
    [{ model: CTF, class: 0, stage2: { temperature: 99 } }, 400, /stage2.temperature must be a number in \[0, 10\]/],
    [{ model: CTF, class: 0, colour: 'red' }, 400, /unknown field 'colour'/],
    [{ model: CTF, class: 'Spaceship' }, 400, /class: unknown class 'Spaceship'/],
    [{ model: CTF, class: 10 }, 400, /class must be a class id in \[0, 9\]/],
    [{ model: CTF, classes: [0, 'nope'] }, 400, /classes\[1\]: unknown class 'nope'/],
    [{ model: CTF }, 400, /give classes/],
    [{ class: 0 }, 400, /needs 'model'/],
    [{ model: '../../etc/passwd', class: 0 }, 404, /unknown model '..\/..\/etc\/passwd'/],
  ];
  for (const [body, status, error] of cases) {
    const r = await post('/api/generate', body);
    assert.equal(r.status, status, `${JSON.stringify(body)} → ${r.status} ${r.json?.error}`);
    assert.match(r.json.error!, error, JSON.stringify(body));
  }
  assert.equal((await post('/api/generate', '{"model": ')).status, 400);
  const big = await post('/api/generate', { model: CTF, class: 0, pad: 'x'.repeat(1.1 * 2 ** 20) });
  assert.equal(big.status, 413);
  assert.match(big.json.error!, /larger than 1 MB/);
});

test('refine keeps the coarse map; edit re-generates only the region (also as another class)', async () => {
  const g = ((await post('/api/generate', { model: CTF, class: 'Coat', n: 1, seed: 2 })).json.images as Img[])[0]!;
  const r = await post('/api/refine', { model: CTF, class: 'Coat', coarse: g.coarse, seed: 7 });
  assert.equal(r.status, 200, r.json.error);
  const refined = (r.json.images as Img[])[0]!;
  assert.deepEqual(refined.coarse, g.coarse);
  assert.notDeepEqual(refined.tokens, g.tokens);

  const region = { x0: 1, y0: 2, x1: 5, y1: 6 };
  for (const cls of ['Coat', 'Bag']) {
    const e = await post('/api/edit', { model: CTF, class: cls, tokens: g.tokens, region, seed: 3 });
    assert.equal(e.status, 200, e.json.error);
    const out = (e.json.images as Img[])[0]!.tokens;
    let changed = 0;
    for (let y = 0; y < 8; y++)
      for (let x = 0; x < 8; x++) {
        const inside = x >= 1 && x < 5 && y >= 2 && y < 6;
        if (!inside) assert.equal(out[y]![x], g.tokens[y]![x], `cell (${x}, ${y}) outside the region changed`);
        else if (out[y]![x] !== g.tokens[y]![x]) changed++;
      }
    assert.ok(changed > 0, `${cls}: nothing changed inside the region`);
  }
  const b = ((await post('/api/generate', { model: BASE, class: 4, n: 1, seed: 2 })).json.images as Img[])[0]!;
  const eb = await post('/api/edit', { model: BASE, class: 4, tokens: b.tokens, region, seed: 1 });
  assert.equal(eb.status, 200, eb.json.error);

  const bad: [string, unknown, RegExp][] = [
    ['/api/refine', { model: BASE, class: 0, coarse: b.tokens }, /baseline model/],
    ['/api/refine', { model: CTF, class: 0, coarse: [[1, 2]] }, /coarse must be a 8×8 array/],
    ['/api/refine', { model: CTF, class: 0, coarse: g.tokens }, new RegExp(`coarse: cell \\d+ of map 0 is \\d+, outside 0..${K - 1}`)],
    ['/api/edit', { model: CTF, class: 0, tokens: g.tokens, region: { x0: 4, y0: 0, x1: 4, y1: 3 } }, /x0 < x1/],
    [
      '/api/edit',
      { model: CTF, class: 0, tokens: g.tokens, region: { x0: 0, y0: 0, x1: 9, y1: 3 } },
      /region.x1 must be an integer in 0..8/,
    ],
    ['/api/edit', { model: CTF, class: 0, region }, /give tokens/],
    ['/api/edit', { model: CTF, class: 0, tokens: g.tokens, region: { x0: 0, y0: 0, x1: 2 } }, /region needs 'y1'/],
  ];
  for (const [path, body, error] of bad) {
    const res = await post(path, body);
    assert.equal(res.status, 400, `${path} ${JSON.stringify(body).slice(0, 80)} → ${res.status}`);
    assert.match(res.json.error!, error);
  }
});

test('queue: full → 429 with Retry-After; disconnecting clients cancel their jobs; health stays fast meanwhile', async () => {
  const long = { model: CTF, classes: Array.from({ length: 64 }, (_, i) => i % 10), seed: 1 };
  const clients = [0, 1, 2].map(() => new AbortController());
  // three streaming requests fill the queue (maxQueue 3): one runs, two wait
  const started = clients.map((ac) =>
    fetch(`${server.url}/api/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify(long),
      signal: ac.signal,
    }),
  );
  const streams = await Promise.all(started);
  for (const s of streams) assert.equal(s.status, 200);
  const deadline = Date.now() + 10_000;
  while (server.queue.stats.running + server.queue.stats.waiting < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(server.queue.stats, { running: 1, waiting: 2, maxPending: 3 });
  const full = await post('/api/generate', { model: CTF, class: 0 });
  assert.equal(full.status, 429);
  assert.ok(Number(full.headers.get('retry-after')) >= 1);
  // health answers fast while a job runs
  const times: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    await (await fetch(`${server.url}/api/health`)).json();
    times.push(performance.now() - t0);
  }
  assert.ok(Math.max(...times) < 50, `health took up to ${Math.max(...times).toFixed(1)} ms`);
  // disconnecting cancels every job: the queue drains long before the jobs would have finished
  const t0 = Date.now();
  clients.forEach((ac) => ac.abort());
  while (server.queue.stats.running + server.queue.stats.waiting > 0 && Date.now() - t0 < 10_000)
    await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(server.queue.stats, { running: 0, waiting: 0, maxPending: 3 });
  assert.ok(Date.now() - t0 < 3000, `cancelling took ${Date.now() - t0} ms`);
  assert.equal((await post('/api/generate', { model: CTF, class: 1, n: 1 })).status, 200);
});
