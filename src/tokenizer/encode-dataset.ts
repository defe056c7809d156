// `ctfgen tokenizer encode`: the token cache of a dataset split under a tokenizer.
import { canonicalDatasetSpec, openDataset } from '../data/open.js';
import { buildTokenCache, saveTokenCache, type TokenCache } from '../data/token-cache.js';
import { progress } from '../cli/progress.js';
import * as T from '../torch/index.js';
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

export async function encodeCommand(o: { tokenizer: string; data: string; out: string; noFlip?: boolean }, tok: Tokenizer): Promise<void> {
  const t0 = Date.now();
  const cache = encodeDataset(tok, o.data, { flip: !o.noFlip });
  await saveTokenCache(o.out, cache);
  console.log(
    `${o.out}: ${cache.n} images × ${cache.variants} (original${cache.variants > 1 ? ' + flipped' : ''}) × ${cache.gridH}x${cache.gridW} tokens in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
}
