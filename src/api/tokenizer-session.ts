// The worker side of a Tokenizer: a VQ tokenizer loaded once; images ⇄ token maps.
import { compose } from '../data/transforms.js';
import { decodeImages } from '../tokenizer/decode-images.js';
import { openTokenizer } from '../tokenizer/tokenizer-file.js';
import * as T from '../torch/index.js';
import { packHWC } from './images.js';

export interface TokenizerInfo {
  path: string;
  /** content id of the codebook (cluster files and token caches name it) */
  id: string;
  codebookSize: number;
  /** token cells per side of an encoded image */
  grid: number;
  /** the image size the tokenizer reads and writes */
  imageSize: { width: number; height: number };
  channels: number;
}

export async function openTokenizerSession(args: { path: string }) {
  const tok = await openTokenizer(args.path);
  const f = tok.model.downsampleFactor;
  const size = tok.transform.pad ?? tok.transform.resize;
  const channels = tok.model.config.inChannels ?? 3;
  const info: TokenizerInfo = {
    path: args.path,
    id: tok.id,
    codebookSize: tok.model.config.codebookSize,
    grid: size ? size.height / f : NaN,
    imageSize: size ? { width: size.width, height: size.height } : { width: NaN, height: NaN },
    channels,
  };
  return {
    info,
    methods: {
      /** images (HWC 8-bit, any size: resized/padded as the tokenizer was trained) → codes [n, grid²] */
      encode(a: { images: { width: number; height: number; channels: number; data: Uint8Array }[] }): { tokens: Int32Array; grid: number } {
        if (!Array.isArray(a.images) || a.images.length === 0) throw new Error('encode: give at least one image');
        return T.tidy(() => {
          const inputs = a.images.map((im, i) => {
            const c = im.channels === 4 ? 3 : im.channels;
            if (c !== 1 && c !== 3) throw new Error(`image ${i}: channels must be 1, 3 or 4, got ${im.channels}`);
            if (im.data.length !== im.width * im.height * im.channels)
              throw new Error(`image ${i}: ${im.data.length} bytes for ${im.width}x${im.height}x${im.channels}`);
            const chw = new Uint8Array(c * im.width * im.height);
            for (let p = 0; p < im.width * im.height; p++)
              for (let ch = 0; ch < c; ch++) chw[ch * im.width * im.height + p] = im.data[p * im.channels + ch]!;
            const pipe = compose({ ...tok.transform, hflip: 0 }, { channels: c, height: im.height, width: im.width });
            const out = new Float32Array(pipe.outputSize);
            pipe.apply(chw, out, 0, false);
            return { out, shape: pipe.output };
          });
          const s = inputs[0]!.shape;
          const all = new Float32Array(inputs.length * inputs[0]!.out.length);
          inputs.forEach((x, i) => all.set(x.out, i * x.out.length));
          const codes = tok.model.encode(T.fromArray(all, [inputs.length, s.channels, s.height, s.width]));
          return { tokens: codes.toInt32Array(), grid: codes.size(-1) };
        });
      },
      /** codes [n, grid²] → images */
      decode(a: { tokens: Int32Array; n: number }) {
        const L = a.tokens.length / a.n;
        const grid = Math.round(Math.sqrt(L));
        if (!Number.isInteger(L) || grid * grid !== L) throw new Error(`decode: ${a.tokens.length} tokens are not ${a.n} square maps`);
        for (const t of a.tokens)
          if (!(t >= 0 && t < info.codebookSize)) throw new Error(`decode: token ${t} is outside 0..${info.codebookSize - 1}`);
        return T.tidy(() => {
          const img = decodeImages(tok.model, T.fromArray(a.tokens, [a.n, grid, grid], 'int64'));
          const shape = img.shape as [number, number, number, number];
          return { pixels: packHWC(img.toFloat32Array(), shape), n: a.n, channels: shape[1], height: shape[2], width: shape[3] };
        });
      },
    },
    dispose: () => tok.model.dispose(),
  };
}
