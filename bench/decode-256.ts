// The 256-px data path: images/s of decode + ADM's center_crop_arr to 256 on generated JPEGs
// (500x375, ImageNet's typical size, and 256x256), by
//   sharp decode + Pillow-exact resize in JS   what ctfgen uses (data/decode-rgb.ts, center-crop.ts)
//   jpeg-js decode + the same resize            the pure-JS path
//   sharp decode + libvips resize (cubic)       all in libvips: not Pillow's pixels (difference shown)
// and, for small images, the decode alone of the fixture's 28x28 PNGs by pngjs and by sharp.
// Run: npx tsc -p tsconfig.json && node dist/bench/decode-256.js [images=48]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import sharp from 'sharp';
import { centerCropArr, roundHalfEven, type RgbImage } from '../src/data/center-crop.js';
import { decodeImage } from '../src/data/decode.js';
import { decodeRgb } from '../src/data/decode-rgb.js';
import { decodedImages } from '../src/data/image-stream.js';
import { Rng } from '../src/data/rng.js';
import { packageRoot } from '../src/util/package-root.js';

const count = Number(process.argv[2] ?? 48);
const SIZE = 256;
const rng = new Rng(0);
const dir = mkdtempSync(join(tmpdir(), 'ctfgen-decode-'));

/** A JPEG of smooth colour gradients with noise (compresses like a photograph, ~q90). */
async function makeJpeg(path: string, w: number, h: number): Promise<void> {
  const px = new Uint8Array(w * h * 3);
  const [a, b, c] = [rng.uniform(0.5, 2), rng.uniform(0.5, 2), rng.uniform(0, 6)];
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let ch = 0; ch < 3; ch++)
        px[(y * w + x) * 3 + ch] = Math.max(0, Math.min(255, 128 + 90 * Math.sin((a * x + b * y) / 40 + c + ch) + rng.normal(0, 12)));
  await sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 90 })
    .toFile(path);
}

/** ADM's target size before the crop: halvings while min side ≥ 2·size, then round(side · scale). */
function admSize(w: number, h: number): [number, number] {
  while (Math.min(w, h) >= 2 * SIZE) [w, h] = [Math.floor(w / 2), Math.floor(h / 2)];
  const s = SIZE / Math.min(w, h);
  return [roundHalfEven(w * s), roundHalfEven(h * s)];
}

async function time(label: string, files: string[], fn: (files: string[]) => Promise<RgbImage[]>): Promise<RgbImage[]> {
  await fn(files.slice(0, 4)); // warm-up
  const t0 = performance.now();
  const out = await fn(files);
  const secs = (performance.now() - t0) / 1000;
  console.log(`  ${label.padEnd(46)} ${(files.length / secs).toFixed(1).padStart(7)} images/s`);
  return out;
}

try {
  for (const [w, h] of [
    [500, 375],
    [256, 256],
  ] as const) {
    const files = Array.from({ length: count }, (_, i) => join(dir, `${w}x${h}-${i}.jpg`));
    for (const f of files) await makeJpeg(f, w, h);
    console.log(`${count} JPEGs of ${w}x${h} → center_crop_arr ${SIZE} (2 cores):`);
    const exact = await time('sharp decode + Pillow-exact resize (ctfgen)', files, async (fs) => {
      const out: RgbImage[] = [];
      for await (const { image } of decodedImages(fs, (img) => centerCropArr(img, SIZE))) out.push(image);
      return out;
    });
    await time('jpeg-js decode + Pillow-exact resize (pure JS)', files, async (fs) =>
      fs.map((f) => {
        const j = jpeg.decode(readFileSync(f), { useTArray: true, formatAsRGBA: false });
        return centerCropArr({ width: j.width, height: j.height, data: j.data }, SIZE);
      }),
    );
    const vips = await time('sharp decode + libvips cubic resize', files, (fs) =>
      Promise.all(
        fs.map(async (f) => {
          const [rw, rh] = admSize(w, h);
          const { data } = await sharp(f)
            .resize(rw, rh, { kernel: 'cubic', fit: 'fill', fastShrinkOnLoad: false })
            .extract({ left: Math.floor((rw - SIZE) / 2), top: Math.floor((rh - SIZE) / 2), width: SIZE, height: SIZE })
            .raw()
            .toBuffer({ resolveWithObject: true });
          return { width: SIZE, height: SIZE, data: new Uint8Array(data) };
        }),
      ),
    );
    let max = 0;
    let sum = 0;
    exact.forEach((e, i) =>
      e.data.forEach((v, j) => {
        const d = Math.abs(v - vips[i]!.data[j]!);
        max = Math.max(max, d);
        sum += d;
      }),
    );
    console.log(`  libvips vs Pillow's pixels: mean |Δ| ${(sum / (exact.length * SIZE * SIZE * 3)).toFixed(2)}, max |Δ| ${max}`);
  }
  const pngs = readdirSync(join(packageRoot, 'test', 'fixtures', 'tiny-fashion'), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.png'))
    .map((f) => join(packageRoot, 'test', 'fixtures', 'tiny-fashion', f));
  console.log(`${pngs.length} PNGs of 28x28 (the fixture), decode only:`);
  await time('pngjs (ctfgen for small in-memory datasets)', pngs, async (fs) =>
    fs.map((f) => ({ width: 28, height: 28, data: decodeImage(readFileSync(f), f).rgb })),
  );
  await time('sharp', pngs, (fs) => Promise.all(fs.map((f) => decodeRgb(f))));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
