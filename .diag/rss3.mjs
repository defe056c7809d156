import { loadRun } from '../dist/src/sample/load-run.js';
import { sampleImages } from '../dist/src/sample/images.js';
import * as T from '../dist/src/torch/index.js';
const n = Number(process.argv[2]); const yieldEach = process.argv[3] === 'yield';
const run = await loadRun('models/fashion-mnist/ctf');
const mb = (x) => (x / 2 ** 20).toFixed(0);
T.manualSeed(0);
for (let from = 0; from < n; from += 64) {
  sampleImages(run, Int32Array.from({ length: 64 }, (_, i) => (from + i) % 10), { batchSize: 64 });
  if (yieldEach) await new Promise((r) => setImmediate(r));
  if (from % 640 === 0) console.log(from, 'rss', mb(process.memoryUsage().rss));
}
