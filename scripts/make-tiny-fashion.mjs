#!/usr/bin/env node
// Regenerates test/fixtures/tiny-fashion/<class>/t10k-<index>.png: the first 30
// images of each class of the Fashion-MNIST *test* split (10 x 30 = 300 grey
// 28x28 PNGs). Fashion-MNIST: (c) 2017 Zalando SE, MIT licence (docs/datasets.md).
//
//   node scripts/make-tiny-fashion.mjs [--data-dir /usr/share/datasets/fashion-mnist] [--per-class 30]
//
// Standalone (node:zlib + pngjs) so it runs without building the TypeScript.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import pngjs from 'pngjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : def;
};
const dataDir = opt('--data-dir', '/usr/share/datasets/fashion-mnist');
const perClass = Number(opt('--per-class', '30'));
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'test', 'fixtures', 'tiny-fashion');
// Folder names: Fashion-MNIST class names with "/" (not allowed in a folder name) -> "-".
const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

function readIdx(base) {
  const p = [join(dataDir, `${base}.gz`), join(dataDir, base)].find(existsSync);
  if (!p) throw new Error(`${base}[.gz] not found in ${dataDir} (apt-get install dataset-fashion-mnist, or --data-dir)`);
  let buf = readFileSync(p);
  if (buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
  if (buf[0] !== 0 || buf[1] !== 0 || buf[2] !== 0x08) throw new Error(`${p}: not an IDX ubyte file`);
  const nd = buf[3];
  const dims = Array.from({ length: nd }, (_, i) => buf.readUInt32BE(4 + 4 * i));
  return { dims, data: buf.subarray(4 + 4 * nd) };
}

const images = readIdx('t10k-images-idx3-ubyte');
const labels = readIdx('t10k-labels-idx1-ubyte');
const [n, h, w] = images.dims;
if (labels.dims[0] !== n) throw new Error('label/image count mismatch');

rmSync(outDir, { recursive: true, force: true });
const counts = new Array(CLASSES.length).fill(0);
let total = 0;
let bytes = 0;
for (let i = 0; i < n && total < perClass * CLASSES.length; i++) {
  const l = labels.data[i];
  if (counts[l] >= perClass) continue;
  counts[l]++;
  total++;
  const dir = join(outDir, CLASSES[l].replace(/\//g, '-'));
  mkdirSync(dir, { recursive: true });
  const png = new pngjs.PNG({ width: w, height: h, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  png.data = Buffer.from(images.data.subarray(i * h * w, (i + 1) * h * w));
  const file = pngjs.PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false, deflateLevel: 9 });
  writeFileSync(join(dir, `t10k-${String(i).padStart(5, '0')}.png`), file);
  bytes += file.length;
}
console.log(`wrote ${total} images (${counts.join('/')} per class), ${bytes} bytes of PNG, to ${outDir}`);
