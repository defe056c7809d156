import { loadRun } from '../dist/src/sample/load-run.js';
import { sampleImages } from '../dist/src/sample/images.js';
import { writeNpzSamples } from '../dist/src/sample/npz-samples.js';
import * as T from '../dist/src/torch/index.js';
const mode = process.argv[2]; const n = Number(process.argv[3]);
const run = await loadRun('models/fashion-mnist/ctf');
const mb = (x) => (x / 2 ** 20).toFixed(0);
const log = (done) => { const m = process.memoryUsage(); console.log(`${done}: rss ${mb(m.rss)} heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)}`); };
const sample = (classes) => sampleImages(run, classes, { batchSize: 64 });
if (mode === 'sampler') {
  T.manualSeed(0);
  for (let from = 0; from < n; from += 64) { sample(Int32Array.from({ length: 64 }, (_, i) => (from + i) % 10)); if (from % 1024 === 0) log(from); }
} else {
  await writeNpzSamples({ out: '/tmp/diag.npz', n, numClasses: 10, labels: 'balanced', seed: 0, sample, size: [32, 32], batchSize: 64, shardSize: 1000, meta: {}, onProgress: (d) => { if (d % 2048 < 64) log(d); } });
  log('done');
}
