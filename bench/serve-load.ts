// Load on `ctfgen serve`, on loopback only: R generate requests from C concurrent clients (bounded:
// a fixed number of requests, then it stops), against the same requests made to the library
// directly, one after another. Prints errors (429s counted apart: the queue refuses by design),
// p50 / p95 latency, images/s for both and the server's overhead ratio.
//   run: npx tsc -p tsconfig.json && node dist/bench/serve-load.js [--requests 200] [--clients 8] [--n 2]
import { loadGenerator, shippedRun } from '../src/index.js';
import { startServer } from '../src/serve/server.js';
import { argValue, printTable } from './shared-tensors.js';

const requests = Number(argValue('--requests') ?? 200);
const clients = Number(argValue('--clients') ?? 8);
const n = Number(argValue('--n') ?? 2);
const body = (i: number) =>
  JSON.stringify({ model: 'fashion-mnist/ctf', classes: Array.from({ length: n }, (_, j) => (i + j) % 10), seed: i });
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

const server = await startServer({ port: 0, runs: [shippedRun('ctf')], maxQueue: 16 });
const latencies: number[] = [];
let next = 0;
let errors = 0;
let refused = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: clients }, async () => {
    for (let i = next++; i < requests; i = next++) {
      const t = performance.now();
      const res = await fetch(`${server.url}/api/generate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: body(i),
      });
      await res.arrayBuffer();
      if (res.status === 429) refused++;
      else if (res.status !== 200) errors++;
      else latencies.push(performance.now() - t);
    }
  }),
);
const serverSeconds = (performance.now() - t0) / 1000;
await server.close();

const gen = await loadGenerator(shippedRun('ctf'));
const t1 = performance.now();
for (let i = 0; i < requests; i++) await gen.generate(JSON.parse(body(i)));
const directSeconds = (performance.now() - t1) / 1000;
await gen.dispose();

const images = latencies.length * n;
console.log(
  `serve load: ${requests} requests × ${n} images from ${clients} clients on loopback; then the same ${requests} requests to the library directly`,
);
printTable([
  ['', 'requests ok', 'errors', '429', 'p50 ms', 'p95 ms', 'images/s'],
  [
    'server',
    String(latencies.length),
    String(errors),
    String(refused),
    pct(latencies, 0.5).toFixed(0),
    pct(latencies, 0.95).toFixed(0),
    (images / serverSeconds).toFixed(2),
  ],
  ['library', String(requests), '0', '0', '-', '-', ((requests * n) / directSeconds).toFixed(2)],
]);
console.log(
  `server images/s ÷ library images/s: ${(images / serverSeconds / ((requests * n) / directSeconds)).toFixed(3)} (overhead ${(100 * (1 - images / serverSeconds / ((requests * n) / directSeconds))).toFixed(1)}%)`,
);
