// The token cache of a dataset split under a tokenizer (`ctfgen tokenizer encode`).
import { canonicalDatasetSpec, openDataset } from '../data/open.js';
import { buildTokenCache, type TokenCache } from '../data/token-cache.js';
import * as T from '../torch/index.js';
import type { OnProgress } from '../util/progress.js';
import type { Tokenizer } from './tokenizer-file.js';

export interface EncodeOptions {
  /** also encode every image's mirror image (default true) */
  flip?: boolean;
  batchSize?: number;
  onProgress?: OnProgress;
}

export function encodeDataset(tok: Tokenizer, spec: string, opts: EncodeOptions = {}): TokenCache {
  const ds = openDataset(spec);
  const f = tok.model.downsampleFactor;
  const size = tok.transform.pad ?? tok.transform.resize ?? { height: ds.height, width: ds.width };
  if (size.height % f !== 0 || size.width % f !== 0)
    throw new Error(`${spec}: images of ${size.height}x${size.width} are not divisible by the tokenizer's downsampling factor ${f}`);
  const c = tok.transform.channels ?? ds.channels;
  const cache = buildTokenCache(ds, {
    encode: (images, n) => T.tidy(() => tok.model.encode(T.fromArray(images, [n, c, size.height, size.width])).toInt32Array()),
    gridH: size.height / f,
    gridW: size.width / f,
    tokenizerId: tok.id,
    codebookSize: tok.model.config.codebookSize,
    transform: tok.transform,
    flip: opts.flip,
    batchSize: opts.batchSize ?? 128,
    onProgress: (done) => opts.onProgress?.({ phase: `encode ${spec}`, done, total: ds.length }),
  });
  // the spec, not the display name, so that evaluation can find the dataset again (eval-defaults)
  return { ...cache, dataset: canonicalDatasetSpec(spec) };
}
