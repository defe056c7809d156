// `ctfgen tokenizer eval`: reconstruction and codebook statistics of a tokenizer on a dataset.
import { batches } from '../data/loader.js';
import { writeJsonAtomic } from '../io/index.js';
import { openDataset } from '../data/open.js';
import * as T from '../torch/index.js';
import { reconstructionStats } from './evaluate.js';
import { openTokenizer } from './tokenizer-file.js';
import { reconstructionGrid } from './train-tokenizer.js';

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
