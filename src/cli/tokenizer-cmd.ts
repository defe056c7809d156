// `ctfgen tokenizer train | eval | encode`.
import { batches } from '../data/loader.js';
import { openDataset } from '../data/open.js';
import { saveTokenCache } from '../data/token-cache.js';
import { writeJsonAtomic } from '../io/index.js';
import { encodeDataset } from '../tokenizer/encode-dataset.js';
import { encodeImageFolder } from '../tokenizer/encode-folder.js';
import { reconstructionGrid, reconstructionStats } from '../tokenizer/evaluate.js';
import { openTokenizer } from '../tokenizer/tokenizer-file.js';
import * as T from '../torch/index.js';
import { trainTokenizer, type TokenizerTrainOptions } from '../train/train-tokenizer.js';
import { isMainProcess } from '../dist/env.js';
import { withCompute, type ComputeFlags } from './compute-flags.js';
import { progressReporter, warn } from './progress.js';

export type TokenizerTrainCmdOptions = Omit<TokenizerTrainOptions, 'onProgress' | 'signal' | 'onWarning' | 'group'> & ComputeFlags;

export async function tokenizerTrainCommand(o: TokenizerTrainCmdOptions): Promise<void> {
  const bar = progressReporter();
  try {
    const r = await withCompute(o, (group) => trainTokenizer({ ...o, onProgress: bar, onWarning: warn, group }));
    bar.stop();
    if (!isMainProcess()) return r.model.dispose();
    console.log(
      `tokenizer: ${r.steps} steps in ${r.seconds.toFixed(0)} s; test PSNR ${r.val.psnr.toFixed(2)} dB (MSE ${r.val.mse.toFixed(5)}), ` +
        `codebook usage ${(100 * r.val.usage).toFixed(1)}%, perplexity ${r.val.perplexity.toFixed(0)} on ${r.val.n} test images → ${o.out}`,
    );
    r.model.dispose();
  } finally {
    bar.stop();
  }
}

export interface TokenizerEncodeCmdOptions {
  tokenizer: string;
  data: string;
  out: string;
  flip: boolean;
  centerCrop?: boolean;
  tenCrop?: boolean;
  cropRange?: number;
  classMap?: string;
  shardSize?: number;
  resume?: boolean;
}

export async function tokenizerEncodeCommand(o: TokenizerEncodeCmdOptions): Promise<void> {
  if (o.centerCrop && o.tenCrop) throw new Error('give --center-crop or --ten-crop, not both');
  const folderCrop = o.centerCrop || o.tenCrop;
  if (!folderCrop && (o.classMap || o.shardSize || o.resume || o.cropRange))
    throw new Error('--class-map, --shard-size, --resume and --crop-range apply to image folders encoded with --center-crop or --ten-crop');
  const tok = await openTokenizer(o.tokenizer);
  const bar = progressReporter();
  try {
    const t0 = Date.now();
    if (folderCrop) {
      const folder = o.data.startsWith('folder:') ? o.data.slice('folder:'.length) : o.data;
      const index = await encodeImageFolder(tok, {
        folder,
        out: o.out,
        crop: o.tenCrop ? 'ten' : 'center',
        cropRange: o.cropRange,
        classMap: o.classMap,
        shardSize: o.shardSize,
        resume: o.resume,
        onProgress: bar,
      });
      bar.stop();
      const secs = (Date.now() - t0) / 1000;
      console.log(
        `${o.out}: ${index.n} images × ${index.variants} crops (${index.preprocess}) × ${index.gridH}x${index.gridW} tokens in ` +
          `${index.shards.length} shards, ${secs.toFixed(1)} s (${(index.n / secs).toFixed(1)} images/s)`,
      );
      return;
    }
    const cache = encodeDataset(tok, o.data, { flip: o.flip, onProgress: bar });
    bar.stop();
    await saveTokenCache(o.out, cache);
    console.log(
      `${o.out}: ${cache.n} images × ${cache.variants} (original${cache.variants > 1 ? ' + flipped' : ''}) × ${cache.gridH}x${cache.gridW} tokens in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  } finally {
    bar.stop();
    tok.model.dispose();
  }
}

export interface TokenizerEvalOptions {
  tokenizer: string;
  data: string;
  limit?: number;
  grid?: string;
  /** JSON file for the statistics */
  out?: string;
}

export async function tokenizerEvalCommand(o: TokenizerEvalOptions): Promise<void> {
  const tok = await openTokenizer(o.tokenizer);
  const ds = openDataset(o.data, o.limit ? { limit: o.limit } : {});
  const b = batches(ds, { batchSize: ds.length, shuffle: false, transform: tok.transform }).next().value!;
  const images = T.keep(T.fromArray(b.images, [b.n, b.c, b.h, b.w]));
  try {
    const s = reconstructionStats(tok.model, images);
    console.log(
      `${o.tokenizer} on ${o.data} (${s.n} images): MSE ${s.mse.toFixed(5)}, PSNR ${s.psnr.toFixed(2)} dB, ` +
        `codebook usage ${(100 * s.usage).toFixed(1)}% of ${tok.model.config.codebookSize}, perplexity ${s.perplexity.toFixed(0)}`,
    );
    if (o.out) await writeJsonAtomic(o.out, { tokenizer: o.tokenizer, data: o.data, codebookSize: tok.model.config.codebookSize, ...s });
    if (o.grid) await reconstructionGrid(tok.model, images, o.grid);
  } finally {
    images.dispose();
    tok.model.dispose();
  }
}
