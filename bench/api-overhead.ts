// What running generation in a worker thread costs per call: the library's Generator.generate
// (worker, postMessage both ways, images transferred) against sampleImages called in-process, on the
// shipped CTF model, one thread each, one image per call and a batch of 32. Medians; ours only.
//   run: npx tsc -p tsconfig.json && node dist/bench/api-overhead.js [--reps 20]
import { loadGenerator, shippedRun } from '../src/index.js';
import { loadRun } from '../src/run/load-run.js';
import { sampleImages } from '../src/sample/images.js';
import * as T from '../src/torch/index.js';
import { argValue, median, printTable } from './shared-tensors.js';

const reps = Number(argValue('--reps') ?? 20);
T.setNumThreads(1);
const run = await loadRun(shippedRun('ctf'));
const gen = await loadGenerator(shippedRun('ctf'), { threads: 1 });
const rows: string[][] = [];
for (const n of [1, 32]) {
  const classes = Array.from({ length: n }, (_, i) => i % 10);
  const direct: number[] = [];
  const viaWorker: number[] = [];
  for (let r = 0; r < reps + 2; r++) {
    let t0 = performance.now();
    sampleImages(run, { classes, seed: r });
    if (r >= 2) direct.push(performance.now() - t0);
    t0 = performance.now();
    await gen.generate({ classes, seed: r });
    if (r >= 2) viaWorker.push(performance.now() - t0);
  }
  const [d, w] = [median(direct), median(viaWorker)];
  rows.push([String(n), d.toFixed(1), w.toFixed(1), (w - d).toFixed(2), (w / d).toFixed(3)]);
}
console.log(`Generator.generate (worker) vs sampleImages in-process, shipped CTF model, 1 thread, median of ${reps}`);
printTable([['images', 'in-process ms', 'worker ms', 'overhead ms', 'ratio'], ...rows]);
await gen.dispose();
run.dispose();
