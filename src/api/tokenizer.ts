// The library's tokenizer: images ⇄ token maps with a VQ tokenizer checkpoint, off the caller's thread.
import { unpackImages, type Image } from './images.js';
import { concatInt32 } from '../util/typed-arrays.js';
import { SessionHandle, WorkerSession } from './session.js';
import type { TokenizerInfo } from './tokenizer-session.js';

export type { TokenizerInfo };

export class Tokenizer extends SessionHandle<TokenizerInfo> {
  readonly info: TokenizerInfo;

  /** @internal use loadTokenizer */
  constructor(session: WorkerSession<TokenizerInfo>) {
    super(session);
    this.info = session.info;
  }

  /** Images (8-bit HWC, resized / padded as the tokenizer was trained) → one token map (grid × grid) each. */
  async encode(images: Image[]): Promise<Int32Array[]> {
    this.check('encode');
    const r = await this.session.call<{ tokens: Int32Array; grid: number }>('encode', { images });
    const L = r.grid * r.grid;
    return images.map((_, i) => r.tokens.subarray(i * L, (i + 1) * L));
  }

  /** Token maps → images. */
  async decode(tokens: Int32Array[]): Promise<Image[]> {
    this.check('decode');
    const all = concatInt32(tokens);
    const r = await this.session.call<{ pixels: Uint8Array; n: number; width: number; height: number; channels: number }>('decode', {
      tokens: all,
      n: tokens.length,
    });
    return unpackImages(r.pixels, r.n, r.width, r.height, r.channels);
  }
}

/** Loads a VQ tokenizer (ctfgen's safetensors, or LlamaGen's vq_ds16_c2i.pt) into a worker thread. */
export async function loadTokenizer(path: string, o: { threads?: number } = {}): Promise<Tokenizer> {
  return new Tokenizer(await WorkerSession.open<TokenizerInfo>('tokenizer', { path }, o.threads));
}
