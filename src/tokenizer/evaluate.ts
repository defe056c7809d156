// Reconstruction quality and codebook use of a tokenizer on a set of images, and a picture of it.
import * as T from '../torch/index.js';
import { imageGrid } from '../viz/index.js';
import type { VQModel } from './vq-model.js';

export interface ReconstructionStats {
  /** mean squared error in the [-1, 1] pixel range */
  mse: number;
  /** 10·log10(range² / mse), range = 2 */
  psnr: number;
  /** fraction of the codebook used by these images */
  usage: number;
  /** exp(entropy) of the code histogram */
  perplexity: number;
  n: number;
}

/** images [N, C, H, W] in [-1, 1], processed in batches without gradients. */
export function reconstructionStats(model: VQModel, images: T.Tensor, batchSize = 128): ReconstructionStats {
  const V = model.config.codebookSize;
  const n = images.size(0);
  const counts = new Float64Array(V);
  let se = 0;
  T.noGrad(() => {
    for (let from = 0; from < n; from += batchSize)
      T.tidy(() => {
        const x = images.slice(0, from, Math.min(n, from + batchSize));
        const codes = model.encode(x);
        se += model.decodeCodes(codes).sub(x).square().sum().item();
        for (const c of codes.toInt32Array()) counts[c]!++;
      });
  });
  const mse = se / images.numel;
  const total = counts.reduce((a, b) => a + b, 0);
  const entropy = counts.reduce((h, c) => (c > 0 ? h - (c / total) * Math.log(c / total) : h), 0);
  return { mse, psnr: 10 * Math.log10(4 / mse), usage: counts.filter((c) => c > 0).length / V, perplexity: Math.exp(entropy), n };
}

/** Originals (top rows) above their reconstructions, as a PNG. */
export async function reconstructionGrid(model: VQModel, images: T.Tensor, path: string, count = 16): Promise<void> {
  const n = Math.min(count, images.size(0));
  const pics = T.noGrad(() =>
    T.tidy(() => {
      const x = images.slice(0, 0, n);
      return T.cat([x, model.decodeCodes(model.encode(x)).clamp(-1, 1)], 0).toFloat32Array();
    }),
  );
  const [c, h, w] = images.shape.slice(1) as [number, number, number];
  await imageGrid(pics, { n: 2 * n, c, h, w, cols: n, scale: 3, rowLabels: ['original', 'recon'] }).savePng(path);
}
