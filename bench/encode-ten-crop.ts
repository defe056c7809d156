// `ctfgen tokenizer encode --ten-crop` throughput: LlamaGen's VQ-16 architecture (random weights;
// the cost does not depend on them) at 256 px encoding the ten crops of generated 500x375 JPEGs in
// two class folders, end to end (decode, center_crop_arr to 281, TenCrop, encode, sharded cache),
// beside the preparation alone (decode + crops), so the share of the encoder is visible.
// Run: npx tsc -p tsconfig.json && node dist/bench/encode-ten-crop.js [images=6]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { listImageFiles } from '../src/data/image-files.js';
import { decodedImages } from '../src/data/image-stream.js';
import { saveCheckpoint } from '../src/io/index.js';
import * as T from '../src/torch/index.js';
import { encodeImageFolder, folderCrops } from '../src/tokenizer/encode-folder.js';
import { openTokenizer } from '../src/tokenizer/tokenizer-file.js';
import { VQ_16 } from '../src/tokenizer/vq-config.js';
import { VQModel } from '../src/tokenizer/vq-model.js';

const count = Number(process.argv[2] ?? 6);
const dir = mkdtempSync(join(tmpdir(), 'ctfgen-tencrop-'));
try {
  for (let i = 0; i < count; i++) {
    const cls = join(dir, 'images', `class${i % 2}`);
    mkdirSync(cls, { recursive: true });
    const px = Uint8Array.from({ length: 500 * 375 * 3 }, (_, j) => (j * 7919 + i * 31) % 251);
    await sharp(px, { raw: { width: 500, height: 375, channels: 3 } })
      .jpeg({ quality: 90 })
      .toFile(join(cls, `${i}.jpg`));
  }
  T.manualSeed(0);
  const vq = new VQModel(VQ_16);
  const tokPath = join(dir, 'vq16.safetensors');
  await saveCheckpoint(tokPath, T.tensorsToRaw(vq.stateDict()), {
    kind: 'vq-tokenizer',
    config: VQ_16,
    transform: { resize: { height: 256, width: 256 }, channels: 3 },
  });
  vq.dispose();
  const tok = await openTokenizer(tokPath);
  const files = listImageFiles(join(dir, 'images')).files;
  let t0 = performance.now();
  for await (const _ of decodedImages(files, (img) => folderCrops(img, 256, 'ten'))) void _;
  const prep = (performance.now() - t0) / 1000;
  t0 = performance.now();
  await encodeImageFolder(tok, { folder: join(dir, 'images'), out: join(dir, 'codes'), crop: 'ten', batchSize: 10 });
  const all = (performance.now() - t0) / 1000;
  console.log(
    `decode + center_crop_arr 281 + TenCrop 256: ${(count / prep).toFixed(1)} images/s (${((10 * count) / prep).toFixed(0)} crops/s)`,
  );
  console.log(
    `tokenizer encode --ten-crop, VQ-16 at 256 on ${T.getNumThreads()} threads: ${(count / all).toFixed(3)} images/s ` +
      `(${((10 * count) / all).toFixed(2)} crops/s; preparation ${((100 * prep) / all).toFixed(1)}% of the time)`,
  );
  tok.model.dispose();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
