// Token caches: the VQ codes of a whole dataset, for the original and the horizontally flipped
// image (as LlamaGen's code extraction does) or for LlamaGen's ten crops, plus labels, in one
// ctfgen safetensors file, or sharded: a folder of such files (each a contiguous range of images)
// with an index.json, written shard by shard so that encoding a large folder is resumable and its
// memory flat. Stage-1/stage-2/baseline training reads either instead of running the tokenizer.
import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { loadCheckpoint, readTextFileSync, saveCheckpoint, writeJsonAtomic, type RawTensor } from '../io/index.js';
import type { ImageDataset } from './dataset.js';
import { pipelineFor } from './loader.js';
import type { TransformSpec } from './transforms.js';

export interface TokenCache {
  /** [n, variants, gridH·gridW] codes; variant 0 = original, 1 = flipped (ten crops: tenCrop's order) */
  codes: Int32Array;
  labels: Int32Array;
  n: number;
  variants: number;
  gridH: number;
  gridW: number;
  numClasses: number;
  classNames: string[];
  dataset: string;
  tokenizerId: string;
  /** number of codes in the tokenizer's codebook (fine vocabulary) */
  codebookSize: number;
  /** image transform applied before encoding */
  transform: TransformSpec;
  /** image preparation before the transform, when not the dataset's own images (e.g. "center_crop_arr 256, flip") */
  preprocess?: string;
}

export const tokensPerImage = (c: TokenCache): number => c.gridH * c.gridW;

/** Encodes images [n, C, H, W] in [-1, 1] to codes [n, gridH·gridW]. */
export type Encoder = (images: Float32Array, n: number) => Int32Array;

export interface BuildTokenCacheOptions {
  encode: Encoder;
  gridH: number;
  gridW: number;
  tokenizerId: string;
  codebookSize: number;
  transform: TransformSpec;
  batchSize?: number;
  flip?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export function buildTokenCache(ds: ImageDataset, o: BuildTokenCacheOptions): TokenCache {
  const pipe = pipelineFor(ds, { ...o.transform, hflip: 0 });
  const size = pipe.outputSize;
  const variants = o.flip === false ? 1 : 2;
  const L = o.gridH * o.gridW;
  const bs = o.batchSize ?? 64;
  const codes = new Int32Array(ds.length * variants * L);
  const labels = new Int32Array(ds.length);
  for (let from = 0; from < ds.length; from += bs) {
    const n = Math.min(bs, ds.length - from);
    for (let v = 0; v < variants; v++) {
      const images = new Float32Array(n * size);
      for (let k = 0; k < n; k++) {
        const i = from + k;
        pipe.apply(ds.getU8 ? ds.getU8(i) : ds.get(i).image, images, k * size, v === 1);
        labels[i] = ds.labelAt(i);
      }
      const c = o.encode(images, n);
      if (c.length !== n * L) throw new Error(`token cache: encoder returned ${c.length} codes for ${n} images of ${L} tokens`);
      for (let k = 0; k < n; k++) codes.set(c.subarray(k * L, (k + 1) * L), ((from + k) * variants + v) * L);
    }
    o.onProgress?.(from + n, ds.length);
  }
  return {
    codes,
    labels,
    n: ds.length,
    variants,
    gridH: o.gridH,
    gridW: o.gridW,
    numClasses: ds.numClasses,
    classNames: [...ds.classNames],
    dataset: ds.name,
    tokenizerId: o.tokenizerId,
    codebookSize: o.codebookSize,
    transform: o.transform,
  };
}

const bytes = (a: Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export async function saveTokenCache(path: string, c: TokenCache): Promise<void> {
  const L = tokensPerImage(c);
  const tensors = new Map<string, RawTensor>([
    ['codes', { dtype: 'int32', shape: [c.n, c.variants, L], data: bytes(c.codes) }],
    ['labels', { dtype: 'int32', shape: [c.n], data: bytes(c.labels) }],
  ]);
  const { codes: _c, labels: _l, ...meta } = c;
  await saveCheckpoint(path, tensors, { kind: 'token-cache', ...meta });
}

/** A sharded cache's index.json: the common fields and the shard files, in image order. */
export interface TokenCacheIndex extends Omit<TokenCache, 'codes' | 'labels'> {
  kind: 'token-cache-index';
  shards: { file: string; start: number; n: number }[];
}

export const TOKEN_CACHE_INDEX = 'index.json';

export async function saveTokenCacheIndex(dir: string, index: TokenCacheIndex): Promise<void> {
  await writeJsonAtomic(join(dir, TOKEN_CACHE_INDEX), index);
}

const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 1;

/**
 * Reads one token cache file, checking it is one: the shapes of its tensors are the ones its
 * metadata declares, every label is a class and every code is in the codebook. Errors name the file.
 */
async function loadOne(path: string): Promise<TokenCache> {
  const { tensors, meta } = await loadCheckpoint(path);
  if (meta.kind !== 'token-cache')
    throw new Error(`${path}: not a token cache (kind '${String(meta.kind)}'); make one with \`ctfgen tokenizer encode\``);
  const bad = (what: string) => new Error(`${path}: corrupt token cache: ${what}; re-encode it with \`ctfgen tokenizer encode\``);
  const { n, variants, gridH, gridW, numClasses, codebookSize, classNames } = meta;
  for (const [k, v] of Object.entries({ n, variants, gridH, gridW, numClasses, codebookSize }))
    if (!isCount(v)) throw bad(`${k} is ${JSON.stringify(v)}, not a positive integer`);
  if (!Array.isArray(classNames) || classNames.length !== numClasses || !classNames.every((c) => typeof c === 'string'))
    throw bad(`classNames must be ${String(numClasses)} strings`);
  const c = meta as unknown as Omit<TokenCache, 'codes' | 'labels'>;
  const codes = tensors.get('codes');
  const labels = tensors.get('labels');
  const L = c.gridH * c.gridW;
  if (!codes || codes.dtype !== 'int32' || codes.shape.join() !== [c.n, c.variants, L].join())
    throw bad(
      `codes must be int32 [${c.n}, ${c.variants}, ${L}] as its metadata declares, found ${codes ? `${codes.dtype} [${codes.shape.join(', ')}]` : 'none'}`,
    );
  if (!labels || labels.dtype !== 'int32' || labels.shape.join() !== String(c.n))
    throw bad(`labels must be int32 [${c.n}], found ${labels ? `${labels.dtype} [${labels.shape.join(', ')}]` : 'none'}`);
  const codeArray = new Int32Array(codes.data.slice().buffer);
  const labelArray = new Int32Array(labels.data.slice().buffer);
  const outside = (a: Int32Array, hi: number) => a.findIndex((x) => x < 0 || x >= hi);
  const l = outside(labelArray, c.numClasses);
  if (l >= 0) throw bad(`label ${labelArray[l]} of image ${l} is not one of its ${c.numClasses} classes`);
  const k = outside(codeArray, c.codebookSize);
  if (k >= 0) throw bad(`code ${codeArray[k]} is outside its codebook of ${c.codebookSize}`);
  const { kind: _k, ...rest } = meta;
  return { ...(rest as Omit<TokenCache, 'codes' | 'labels'>), codes: codeArray, labels: labelArray };
}

/** A token cache file, or a sharded cache (its folder or index.json), as one cache. */
export async function loadTokenCache(path: string): Promise<TokenCache> {
  const indexPath = existsSync(path) && statSync(path).isDirectory() ? join(path, TOKEN_CACHE_INDEX) : path;
  if (!indexPath.endsWith('.json')) return loadOne(path);
  if (!existsSync(indexPath))
    throw new Error(
      indexPath === path
        ? `${path} does not exist`
        : `${path} is a directory, not a regular file, and no sharded token cache (no ${TOKEN_CACHE_INDEX}; an unfinished \`tokenizer encode\` is continued with --resume)`,
    );
  const index = JSON.parse(readTextFileSync(indexPath, { what: 'a token cache index', maxBytes: 64 << 20 })) as TokenCacheIndex;
  if (index.kind !== 'token-cache-index' || !Array.isArray(index.shards)) throw new Error(`${indexPath}: not a token cache index`);
  for (const s of index.shards)
    if (typeof s.file !== 'string' || basename(s.file) !== s.file || !s.file.endsWith('.safetensors'))
      throw new Error(
        `${indexPath}: shard '${String(s.file)}' is not a .safetensors file in the index's folder; re-encode with \`ctfgen tokenizer encode\``,
      );
  const dir = join(indexPath, '..');
  const { kind: _k, shards, ...common } = index;
  const L = index.gridH * index.gridW * index.variants;
  const codes = new Int32Array(index.n * L);
  const labels = new Int32Array(index.n);
  let filled = 0;
  for (const s of shards) {
    if (s.start !== filled || !Number.isSafeInteger(s.n) || s.n < 1 || s.start + s.n > index.n)
      throw new Error(`${indexPath}: shard ${s.file} covers images ${s.start}..+${s.n}, not the next ones of ${index.n} from ${filled}`);
    filled += s.n;
    const c = await loadOne(join(dir, s.file));
    if (c.n !== s.n || c.variants !== index.variants || c.tokenizerId !== index.tokenizerId)
      throw new Error(`${join(dir, s.file)} does not belong to ${indexPath} (size, variants or tokenizer differ)`);
    codes.set(c.codes, s.start * L);
    labels.set(c.labels, s.start);
  }
  if (filled !== index.n)
    throw new Error(`${indexPath}: its shards hold ${filled} of its ${index.n} images; continue the encode with --resume`);
  return { ...common, codes, labels };
}

/** Gathers rows: tokens [B, L] of the chosen samples/variants, and their labels [B]. */
export function tokenBatch(
  c: TokenCache,
  indices: ArrayLike<number>,
  variant: ArrayLike<number>,
): { tokens: Int32Array; labels: Int32Array } {
  const L = tokensPerImage(c);
  const B = indices.length;
  const tokens = new Int32Array(B * L);
  const labels = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const i = indices[b]!;
    const v = Math.min(variant[b]!, c.variants - 1);
    tokens.set(c.codes.subarray((i * c.variants + v) * L, (i * c.variants + v + 1) * L), b * L);
    labels[b] = c.labels[i]!;
  }
  return { tokens, labels };
}
