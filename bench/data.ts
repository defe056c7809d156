/**
 * Data pipeline benchmark: load Fashion-MNIST train (60k) and run epochs of
 * batches with flip (p = 0.5) + pad 28 -> 32 + scale to [-1, 1].
 *
 *   npx tsc -p tsconfig.json && node dist/bench/data.js [--data-dir DIR] [--batch-size 256] [--epochs 3]
 *
 * Target: < 2 s per epoch (load excluded; reported separately).
 */

import { fashionMnist } from '../src/data/fashion-mnist.js';
import { batches } from '../src/data/loader.js';
import { compose } from '../src/data/transforms.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}

const dataDir = process.argv.includes('--data-dir') ? arg('--data-dir', '') : undefined;
const batchSize = Number(arg('--batch-size', '256'));
const epochs = Number(arg('--epochs', '3'));

let t0 = performance.now();
const ds = fashionMnist({ split: 'train', dataDir });
const loadMs = performance.now() - t0;
console.log(`load ${ds.name}: ${ds.length} images in ${(loadMs / 1000).toFixed(3)} s (gunzip + IDX parse)`);

const pipe = compose({ hflip: 0.5, pad: { height: 32, width: 32 } }, ds);
for (const reuseBuffers of [false, true]) {
  for (let epoch = 0; epoch < epochs; epoch++) {
    t0 = performance.now();
    let n = 0;
    let check = 0;
    for (const b of batches(ds, { batchSize, seed: 0, epoch, transform: pipe, reuseBuffers })) {
      n += b.n;
      check += b.images[b.images.length - 1];
    }
    const s = (performance.now() - t0) / 1000;
    console.log(
      `epoch ${epoch} (batch ${batchSize}, flip+pad32+[-1,1], ${reuseBuffers ? 'reused buffer' : 'new buffer per batch'}): ` +
        `${n} images in ${s.toFixed(3)} s = ${Math.round(n / s).toLocaleString('en-US')} images/s` +
        (Number.isNaN(check) ? ' (NaN!)' : ''),
    );
  }
}
