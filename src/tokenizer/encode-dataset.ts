// `ctfgen tokenizer encode`: the token cache of a dataset split under a tokenizer.
import { canonicalDatasetSpec, openDataset } from '../data/open.js';
import { buildTokenCache, saveTokenCache, type TokenCache } from '../data/token-cache.js';
import { progress } from '../cli/progress.js';
import * as T from '../torch/index.js';
import { encodeImageFolder } from './encode-folder.js';
import type { Tokenizer } from './tokenizer-file.js';

export function encodeDataset(
  tok: Tokenizer,
  spec: string,
  opts: { flip?: boolean; batchSize?: number; quiet?: boolean } = {},
): TokenCache {
  const ds = openDataset(spec);
  const f = tok.model.downsampleFactor;
  const size = tok.transform.pad ?? tok.transform.resize ?? { height: ds.height, width: ds.width };
  if (size.height % f !== 0 || size.width % f !== 0)
    throw new Error(`${spec}: images of ${size.height}x${size.width} are not divisible by the tokenizer's downsampling factor ${f}`);
  const c = tok.transform.channels ?? ds.channels;
  const bar = opts.quiet ? null : progress(`encode ${spec}`, ds.length);
  try {
    const cache = buildTokenCache(ds, {
      encode: (images, n) => T.tidy(() => tok.model.encode(T.fromArray(images, [n, c, size.height, size.width])).toInt32Array()),
      gridH: size.height / f,
      gridW: size.width / f,
      tokenizerId: tok.id,
      codebookSize: tok.model.config.codebookSize,
      transform: tok.transform,
      flip: opts.flip,
      batchSize: opts.batchSize ?? 128,
      onProgress: (d) => bar?.update(d),
    });
    // the spec, not the display name, so that evaluation can find the dataset again (eval-defaults)
    return { ...cache, dataset: canonicalDatasetSpec(spec) };
  } finally {
    bar?.stop();
  }
}

export interface EncodeCmdOptions {
  tokenizer: string;
  data: string;
  out: string;
  noFlip?: boolean;
  centerCrop?: boolean;
  tenCrop?: boolean;
  cropRange?: number;
  classMap?: string;
  shardSize?: number;
  resume?: boolean;
}

export async function encodeCommand(o: EncodeCmdOptions, tok: Tokenizer): Promise<void> {
  const t0 = Date.now();
  if (o.centerCrop || o.tenCrop) {
    if (o.centerCrop && o.tenCrop) throw new Error('give --center-crop or --ten-crop, not both');
    const folder = o.data.startsWith('folder:') ? o.data.slice('folder:'.length) : o.data;
    let bar: ReturnType<typeof progress> | null = null;
    const index = await encodeImageFolder(tok, {
      folder,
      out: o.out,
      crop: o.tenCrop ? 'ten' : 'center',
      cropRange: o.cropRange,
      classMap: o.classMap,
      shardSize: o.shardSize,
      resume: o.resume,
      onProgress: (done, total) => (bar ??= progress(`encode ${folder}`, total, done)).update(done),
    }).finally(() => bar?.stop());
    const secs = (Date.now() - t0) / 1000;
    console.log(
      `${o.out}: ${index.n} images × ${index.variants} crops (${index.preprocess}) × ${index.gridH}x${index.gridW} tokens in ` +
        `${index.shards.length} shards, ${secs.toFixed(1)} s (${(index.n / secs).toFixed(1)} images/s)`,
    );
    return;
  }
  if (o.classMap || o.shardSize || o.resume || o.cropRange)
    throw new Error('--class-map, --shard-size, --resume and --crop-range apply to image folders encoded with --center-crop or --ten-crop');
  const cache = encodeDataset(tok, o.data, { flip: !o.noFlip });
  await saveTokenCache(o.out, cache);
  console.log(
    `${o.out}: ${cache.n} images × ${cache.variants} (original${cache.variants > 1 ? ' + flipped' : ''}) × ${cache.gridH}x${cache.gridW} tokens in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
}
