// `ctfgen tokenizer encode --data <image folder> --center-crop | --ten-crop`: LlamaGen's
// extract_codes_c2i.py on an ImageNet-style folder, streamed into a sharded token cache.
//   --center-crop  ADM's center_crop_arr to the tokenizer's input size; variants: the crop and its
//                  mirror image (extract_codes without --ten-crop)
//   --ten-crop     center_crop_arr to int(size × crop range) (default 1.1, LlamaGen's --crop-range),
//                  then torchvision's TenCrop(size): ten variants (extract_codes --ten-crop)
// Pixels are scaled to [-1, 1] as ToTensor + Normalize(0.5, 0.5) do. Labels follow the
// ImageFolder rule or a --class-map (data/image-files.ts). Images are decoded with sharp ahead of
// the encoder (data/image-stream.ts) and written shard by shard (data/token-cache.ts): memory is
// flat in the folder's size and `--resume` continues after the last finished shard.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { centerCropArr, cropRgb, tenCrop, type RgbImage } from '../data/center-crop.js';
import { listImageFiles } from '../data/image-files.js';
import { decodedImages } from '../data/image-stream.js';
import { canonicalDatasetSpec } from '../data/open.js';
import { loadTokenCache, saveTokenCache, saveTokenCacheIndex, type TokenCache, type TokenCacheIndex } from '../data/token-cache.js';
import * as T from '../torch/index.js';
import type { OnProgress } from '../util/progress.js';
import type { Tokenizer } from './tokenizer-file.js';

export type FolderCrop = 'center' | 'ten';

export interface EncodeFolderOptions {
  /** image folder (a class tree) */
  folder: string;
  /** output folder: shard files and index.json */
  out: string;
  crop: FolderCrop;
  /** --ten-crop: centre-crop to int(size × cropRange) before the ten crops (default 1.1) */
  cropRange?: number;
  classMap?: string;
  /** images per shard (default 10000) */
  shardSize?: number;
  /** crops per encoder call (default 64) */
  batchSize?: number;
  resume?: boolean;
  onProgress?: OnProgress;
}

const shardFile = (start: number) => `shard-${String(start).padStart(9, '0')}.safetensors`;

/** The crops of one image, in variant order, each size × size. */
export function folderCrops(img: RgbImage, size: number, crop: FolderCrop, cropRange = 1.1): RgbImage[] {
  if (crop === 'ten') return tenCrop(centerCropArr(img, Math.trunc(size * cropRange)), size);
  const c = centerCropArr(img, size);
  return [c, cropRgb(c, 0, 0, size, true)];
}

/** Encodes the folder into `out` (see the module comment) and returns the index. */
export async function encodeImageFolder(tok: Tokenizer, o: EncodeFolderOptions): Promise<TokenCacheIndex> {
  const target = tok.transform.resize ?? tok.transform.pad;
  const size = target?.height;
  if (!size || target!.width !== size || tok.model.config.inChannels !== 3)
    throw new Error(
      `${tok.path}: --center-crop / --ten-crop need a tokenizer of square RGB images (it takes ${JSON.stringify(tok.transform)})`,
    );
  const f = tok.model.downsampleFactor;
  if (size % f !== 0) throw new Error(`${tok.path}: input size ${size} is not a multiple of its downsampling factor ${f}`);
  const cropRange = o.cropRange ?? 1.1;
  if (o.crop === 'ten' && !(Math.trunc(size * cropRange) >= size)) throw new Error(`--crop-range must be ≥ 1, got ${cropRange}`);
  const list = listImageFiles(o.folder, { classMap: o.classMap });
  if (!list.labels || !list.classNames)
    throw new Error(`${list.root} holds images but no class folders; token caches need labels (<folder>/<class>/*.jpg)`);
  const variants = o.crop === 'ten' ? 10 : 2;
  const grid = size / f;
  const L = grid * grid;
  const n = list.files.length;
  const shardSize = o.shardSize ?? 10000;
  const perCall = Math.max(1, Math.floor((o.batchSize ?? 64) / variants));
  const preprocess =
    o.crop === 'ten' ? `ten_crop ${size} of center_crop_arr ${Math.trunc(size * cropRange)}` : `center_crop_arr ${size}, mirrored`;
  const common = {
    n,
    variants,
    gridH: grid,
    gridW: grid,
    numClasses: list.classNames.length,
    classNames: list.classNames,
    dataset: canonicalDatasetSpec(`folder:${list.root}`),
    tokenizerId: tok.id,
    codebookSize: tok.model.config.codebookSize,
    transform: tok.transform,
    preprocess,
  };
  mkdirSync(o.out, { recursive: true });
  const shards: TokenCacheIndex['shards'] = [];
  for (let start = 0; start < n; start += shardSize) {
    const end = Math.min(n, start + shardSize);
    const file = shardFile(start);
    shards.push({ file, start, n: end - start });
    const path = join(o.out, file);
    if (existsSync(path)) {
      if (!o.resume) throw new Error(`${o.out} already holds ${file}; pass --resume to continue that encode, or choose another --out`);
      const old = await loadTokenCache(path);
      if (old.tokenizerId !== tok.id || old.preprocess !== preprocess || old.n !== end - start)
        throw new Error(`${path} was written with another tokenizer, crop or shard size; choose another --out`);
      o.onProgress?.({ phase: `encode ${o.folder}`, done: end, total: n, startAt: end });
      continue;
    }
    const m = end - start;
    const codes = new Int32Array(m * variants * L);
    const plane = size * size;
    let pending: { image: number; crops: RgbImage[] }[] = [];
    const flush = () => {
      const count = pending.length * variants;
      const x = new Float32Array(count * 3 * plane);
      pending.forEach(({ crops }, i) =>
        crops.forEach((c, v) => {
          const o0 = (i * variants + v) * 3 * plane;
          for (let p = 0; p < plane; p++) for (let ch = 0; ch < 3; ch++) x[o0 + ch * plane + p] = c.data[p * 3 + ch]! / 127.5 - 1;
        }),
      );
      const c = T.tidy(() => tok.model.encode(T.fromArray(x, [count, 3, size, size])).toInt32Array());
      // the crops of image i are rows i·variants … i·variants + variants − 1, as the cache stores them
      codes.set(c, (pending[0]!.image - start) * variants * L);
      pending = [];
    };
    for await (const { index, image } of decodedImages(list.files.slice(start, end), (img) => folderCrops(img, size, o.crop, cropRange))) {
      pending.push({ image: start + index, crops: image });
      if (pending.length === perCall) flush();
      o.onProgress?.({ phase: `encode ${o.folder}`, done: start + index + 1, total: n });
    }
    if (pending.length > 0) flush();
    const cache: TokenCache = { ...common, n: m, codes, labels: list.labels.slice(start, end) };
    await saveTokenCache(path, cache);
  }
  const index: TokenCacheIndex = { kind: 'token-cache-index', ...common, shards };
  await saveTokenCacheIndex(o.out, index);
  return index;
}
