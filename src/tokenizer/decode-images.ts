// Token maps → images, the same for an image whatever else is decoded with it. The decoder's
// convolutions pick their algorithm by batch size, and different algorithms round differently
// (1e-6, enough to move a pixel by one level now and then); within one batch size every image is
// computed alone. So codes go through the decoder in chunks of exactly DECODE_CHUNK images, the
// last chunk padded with copies of its last image. Measured on the Fashion-MNIST tokenizer: chunks
// of 4 decode as fast as one batch of 32 (smaller working set), single images 1.5x slower.
import * as T from '../torch/index.js';
import type { VQModel } from './vq-model.js';

export const DECODE_CHUNK = 4;

/** codes int64 [N, gh, gw] → images [N, C, H, W] in [-1, 1], no gradients. */
export function decodeImages(model: VQModel, codes: T.Tensor): T.Tensor {
  const n = codes.size(0);
  return T.noGrad(() =>
    T.tidy(() => {
      const parts: T.Tensor[] = [];
      for (let from = 0; from < n; from += DECODE_CHUNK) {
        let chunk = codes.slice(0, from, Math.min(n, from + DECODE_CHUNK));
        const real = chunk.size(0);
        if (real < DECODE_CHUNK)
          chunk = T.cat([chunk, chunk.slice(0, real - 1, real).expand(DECODE_CHUNK - real, ...chunk.shape.slice(1))]);
        parts.push(model.decodeCodes(chunk).clamp(-1, 1).slice(0, 0, real));
      }
      return T.cat(parts);
    }),
  );
}
