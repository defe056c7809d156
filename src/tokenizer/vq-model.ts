// LlamaGen's VQ tokenizer (tokenizer/tokenizer_image/vq_model.py): a convolutional encoder, an
// l2-normalised nearest-codeword quantizer and a convolutional decoder. Module names follow
// LlamaGen's module tree, so its state dicts (vq_ds16_c2i.pt) load by name.
//
// Memory: every block runs in its own tidy() scope and each intermediate is released as soon as
// the next block has used it, so a 256x256 decode keeps a few activations alive, not all of them.
// Gradients follow the caller's mode: wrap inference in noGrad (encode() does so itself).
import { cat, dropout, embedding, noGrad, pad, sdpa, tidy, upsampleNearest2d, zeros, type Tensor } from '../torch/index.js';
import { Conv2d, Embedding, GroupNorm, Module } from '../nn/index.js';
import { CODEBOOK_USED_LENGTH, VQ_NORM_EPS, VQ_NORM_GROUPS, resolveVQConfig, type ResolvedVQConfig, type VQConfig } from './vq-config.js';

const norm = (channels: number) => new GroupNorm(VQ_NORM_GROUPS, channels, VQ_NORM_EPS);

/** F.normalize(x, p=2, dim): x / max(‖x‖₂, 1e-12); the clamp sits under the sqrt so zero vectors get finite gradients. */
export function l2Normalize(x: Tensor, dim = -1): Tensor {
  return tidy(() => x.div(x.square().sum(dim, true).clamp(1e-24).sqrt()));
}

/**
 * Applies the stages in order, each in its own scope, releasing every intermediate as soon as
 * the next stage has consumed it (the input x itself is left alone).
 */
function chain(x: Tensor, stages: Array<(h: Tensor) => Tensor>): Tensor {
  let h = x;
  for (const stage of stages) {
    const next = tidy(() => stage(h));
    if (h !== x && h !== next) h.dispose();
    h = next;
  }
  return h;
}

/** GN, swish, conv3x3, GN, swish, dropout, conv3x3, plus a 1x1 nin_shortcut when the width changes. */
class ResnetBlock extends Module {
  readonly norm1: GroupNorm;
  readonly conv1: Conv2d;
  readonly norm2: GroupNorm;
  readonly conv2: Conv2d;
  readonly ninShortcut: Conv2d | null;
  constructor(
    inCh: number,
    outCh: number,
    readonly dropoutP: number,
  ) {
    super();
    this.norm1 = this.child('norm1', norm(inCh));
    this.conv1 = this.child('conv1', new Conv2d(inCh, outCh, 3, { padding: 1 }));
    this.norm2 = this.child('norm2', norm(outCh));
    this.conv2 = this.child('conv2', new Conv2d(outCh, outCh, 3, { padding: 1 }));
    this.ninShortcut = inCh === outCh ? null : this.child('nin_shortcut', new Conv2d(inCh, outCh, 1));
  }
  forward(x: Tensor): Tensor {
    return chain(x, [
      (h) => this.norm1.forward(h),
      (h) => h.silu(),
      (h) => this.conv1.forward(h),
      (h) => this.norm2.forward(h),
      (h) => h.silu(),
      (h) => (this.dropoutP > 0 ? dropout(h, this.dropoutP, this.training) : h),
      (h) => this.conv2.forward(h),
      (h) => (this.ninShortcut ? this.ninShortcut.forward(x) : x).add(h),
    ]);
  }
}

/** Single-head self-attention over the h·w positions: 1x1 q/k/v/proj_out, scale c^-1/2, residual. */
class AttnBlock extends Module {
  readonly norm: GroupNorm;
  readonly q: Conv2d;
  readonly k: Conv2d;
  readonly v: Conv2d;
  readonly projOut: Conv2d;
  constructor(ch: number) {
    super();
    this.norm = this.child('norm', norm(ch));
    this.q = this.child('q', new Conv2d(ch, ch, 1));
    this.k = this.child('k', new Conv2d(ch, ch, 1));
    this.v = this.child('v', new Conv2d(ch, ch, 1));
    this.projOut = this.child('proj_out', new Conv2d(ch, ch, 1));
  }
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const [b, c, hh, ww] = x.shape as [number, number, number, number];
      const h = this.norm.forward(x);
      const seq = (t: Tensor) => t.reshape(b, c, hh * ww).transpose(1, 2); // [b, hw, c]
      const o = sdpa(seq(this.q.forward(h)), seq(this.k.forward(h)), seq(this.v.forward(h)), { scale: 1 / Math.sqrt(c) });
      return x.add(this.projOut.forward(o.transpose(1, 2).reshape(b, c, hh, ww)));
    });
  }
}

/** Pad right/bottom by one, then a 3x3 stride-2 convolution without padding. */
class Downsample extends Module {
  readonly conv: Conv2d;
  constructor(ch: number) {
    super();
    this.conv = this.child('conv', new Conv2d(ch, ch, 3, { stride: 2, padding: 0 }));
  }
  forward(x: Tensor): Tensor {
    return tidy(() => this.conv.forward(pad(x, [0, 1, 0, 1])));
  }
}

/** Nearest-neighbour x2, then a 3x3 convolution. */
class Upsample extends Module {
  readonly conv: Conv2d;
  constructor(ch: number) {
    super();
    this.conv = this.child('conv', new Conv2d(ch, ch, 3, { padding: 1 }));
  }
  forward(x: Tensor): Tensor {
    return tidy(() => this.conv.forward(upsampleNearest2d(x, 2)));
  }
}

/** One resolution level: `res.{j}`, `attn.{j}` (deepest level only) and `downsample` or `upsample`. */
class ConvBlock extends Module {
  readonly res: ResnetBlock[];
  readonly attn: AttnBlock[];
  readonly resample: Downsample | Upsample | null;
  constructor(inCh: number, outCh: number, blocks: number, withAttn: boolean, resample: 'downsample' | 'upsample' | null, p: number) {
    super();
    this.res = this.children(
      'res',
      Array.from({ length: blocks }, (_, j) => new ResnetBlock(j === 0 ? inCh : outCh, outCh, p)),
    );
    this.attn = this.children('attn', withAttn ? Array.from({ length: blocks }, () => new AttnBlock(outCh)) : []);
    this.resample =
      resample === 'downsample'
        ? this.child('downsample', new Downsample(outCh))
        : resample === 'upsample'
          ? this.child('upsample', new Upsample(outCh))
          : null;
  }
  stages(): Array<(h: Tensor) => Tensor> {
    const out: Array<(h: Tensor) => Tensor> = [];
    this.res.forEach((r, j) => {
      out.push((h) => r.forward(h));
      const a = this.attn[j];
      if (a) out.push((h) => a.forward(h));
    });
    const rs = this.resample;
    if (rs) out.push((h) => rs.forward(h));
    return out;
  }
}

/** mid = [ResnetBlock, AttnBlock, ResnetBlock] as modules `mid.0`, `mid.1`, `mid.2`. */
function midBlocks(ch: number, p: number): [ResnetBlock, AttnBlock, ResnetBlock] {
  return [new ResnetBlock(ch, ch, p), new AttnBlock(ch), new ResnetBlock(ch, ch, p)];
}

class Encoder extends Module {
  readonly convIn: Conv2d;
  readonly convBlocks: ConvBlock[];
  readonly mid: [ResnetBlock, AttnBlock, ResnetBlock];
  readonly normOut: GroupNorm;
  readonly convOut: Conv2d;
  constructor(c: ResolvedVQConfig) {
    super();
    const levels = c.chMult.length;
    this.convIn = this.child('conv_in', new Conv2d(c.inChannels, c.ch, 3, { padding: 1 }));
    const blocks: ConvBlock[] = [];
    let blockIn = c.ch;
    for (let i = 0; i < levels; i++) {
      const out = c.ch * c.chMult[i]!;
      const last = i === levels - 1;
      blocks.push(new ConvBlock(blockIn, out, c.numResBlocks, last, last ? null : 'downsample', c.dropout));
      blockIn = out;
    }
    this.convBlocks = this.children('conv_blocks', blocks);
    this.mid = this.children('mid', midBlocks(blockIn, c.dropout)) as [ResnetBlock, AttnBlock, ResnetBlock];
    this.normOut = this.child('norm_out', norm(blockIn));
    this.convOut = this.child('conv_out', new Conv2d(blockIn, c.zChannels, 3, { padding: 1 }));
  }
  forward(x: Tensor): Tensor {
    return chain(x, [
      (h) => this.convIn.forward(h),
      ...this.convBlocks.flatMap((b) => b.stages()),
      ...this.mid.map((m) => (h: Tensor) => m.forward(h)),
      (h) => this.normOut.forward(h),
      (h) => h.silu(),
      (h) => this.convOut.forward(h),
    ]);
  }
}

class Decoder extends Module {
  readonly convIn: Conv2d;
  readonly mid: [ResnetBlock, AttnBlock, ResnetBlock];
  readonly convBlocks: ConvBlock[];
  readonly normOut: GroupNorm;
  readonly convOut: Conv2d;
  constructor(c: ResolvedVQConfig) {
    super();
    const mult = c.decoderChMult;
    const levels = mult.length;
    let blockIn = c.ch * mult[levels - 1]!;
    this.convIn = this.child('conv_in', new Conv2d(c.zChannels, blockIn, 3, { padding: 1 }));
    this.mid = this.children('mid', midBlocks(blockIn, c.dropout)) as [ResnetBlock, AttnBlock, ResnetBlock];
    const blocks: ConvBlock[] = [];
    for (let i = levels - 1; i >= 0; i--) {
      const out = c.ch * mult[i]!;
      blocks.push(new ConvBlock(blockIn, out, c.numResBlocks + 1, i === levels - 1, i === 0 ? null : 'upsample', c.dropout));
      blockIn = out;
    }
    this.convBlocks = this.children('conv_blocks', blocks);
    this.normOut = this.child('norm_out', norm(blockIn));
    this.convOut = this.child('conv_out', new Conv2d(blockIn, c.inChannels, 3, { padding: 1 }));
  }
  forward(z: Tensor): Tensor {
    return chain(z, [
      (h) => this.convIn.forward(h),
      ...this.mid.map((m) => (h: Tensor) => m.forward(h)),
      ...this.convBlocks.flatMap((b) => b.stages()),
      (h) => this.normOut.forward(h),
      (h) => h.silu(),
      (h) => this.convOut.forward(h),
    ]);
  }
}

/** The codebook (`embedding.weight`) and LlamaGen's `codebook_used` buffer of recent codes. */
class VectorQuantizer extends Module {
  readonly embedding: Embedding;
  readonly codebookUsed: Tensor | null;
  constructor(readonly c: ResolvedVQConfig) {
    super();
    this.embedding = this.child('embedding', new Embedding(c.codebookSize, c.codebookDim));
    // LlamaGen's init: uniform ±1/n, then l2-normalised rows.
    noGrad(() =>
      tidy(() => {
        const w = this.embedding.weight.uniform_(-1 / c.codebookSize, 1 / c.codebookSize);
        if (c.codebookL2Norm) w.copy_(l2Normalize(w));
      }),
    );
    this.codebookUsed = c.showUsage ? this.buffer('codebook_used', zeros([CODEBOOK_USED_LENGTH])) : null;
  }
  /** The codewords as used: l2-normalised rows (or the raw rows when codebookL2Norm is off). */
  codebook(): Tensor {
    return this.c.codebookL2Norm ? l2Normalize(this.embedding.weight) : this.embedding.weight;
  }
  /**
   * LlamaGen's training-time usage record: the buffer shifts left and the newest codes go at the
   * end. Returns the fraction of the codebook seen in the buffer (counting its initial zeros, as
   * LlamaGen does).
   */
  recordUsage(codes: Tensor): number {
    const used = this.codebookUsed;
    if (!used) return 0;
    return noGrad(() =>
      tidy(() => {
        const flat = codes.flatten();
        const n = flat.size(0);
        const recent = n >= CODEBOOK_USED_LENGTH ? flat.slice(0, n - CODEBOOK_USED_LENGTH).float() : flat.float();
        const keepN = CODEBOOK_USED_LENGTH - recent.size(0);
        if (keepN > 0) used.sliceAssign_(0, 0, used.slice(0, CODEBOOK_USED_LENGTH - keepN).clone());
        used.sliceAssign_(0, keepN, recent);
        return used.long().bincount(this.c.codebookSize).gt(0).sum().item() / this.c.codebookSize;
      }),
    );
  }
}

/** What the training forward returns (every tensor is in the caller's scope). */
export interface VQForward {
  /** decoded images [N, C, H, W] */
  recon: Tensor;
  /** straight-through code vectors [N, D, h, w]: the codewords' values, the encoder's gradient */
  zq: Tensor;
  /** int64 [N, h, w] */
  codes: Tensor;
  /** mean((zq − sg(z))²) on l2-normalised vectors: trains the codebook */
  codebookLoss: Tensor;
  /** β · mean((sg(zq) − z)²): pulls the encoder towards its codewords */
  commitLoss: Tensor;
  /** LlamaGen's entropy loss × entropyLossRatio (only when the ratio is > 0) */
  entropyLoss?: Tensor;
  /** fraction of the codebook in the usage buffer (training mode with showUsage only) */
  codebookUsage?: number;
}

interface Quantized {
  /** z as compared with the codebook: [M, D] rows (l2-normalised when codebookL2Norm) */
  zFlat: Tensor;
  /** [M] int64 */
  indices: Tensor;
  /** the chosen codewords [M, D] */
  zqFlat: Tensor;
  /** squared distances [M, V] (only when asked for, for the entropy loss) */
  dist?: Tensor;
}

export class VQModel extends Module {
  readonly config: ResolvedVQConfig;
  readonly encoder: Encoder;
  readonly decoder: Decoder;
  /** registered as `quantize` (LlamaGen's name) */
  readonly quantizer: VectorQuantizer;
  readonly quantConv: Conv2d;
  readonly postQuantConv: Conv2d;

  constructor(config: VQConfig) {
    super();
    const c = (this.config = resolveVQConfig(config));
    this.encoder = this.child('encoder', new Encoder(c));
    this.decoder = this.child('decoder', new Decoder(c));
    this.quantizer = this.child('quantize', new VectorQuantizer(c));
    this.quantConv = this.child('quant_conv', new Conv2d(c.zChannels, c.codebookDim, 1));
    this.postQuantConv = this.child('post_quant_conv', new Conv2d(c.codebookDim, c.zChannels, 1));
  }

  /** Image side / code-grid side. */
  get downsampleFactor(): number {
    return 2 ** (this.config.chMult.length - 1);
  }

  /** images [N, C, H, W] in [-1, 1] → z [N, D, h, w] (after quant_conv, before quantisation). */
  encodeToLatent(images: Tensor): Tensor {
    const c = this.config;
    if (images.ndim !== 4 || images.size(1) !== c.inChannels)
      throw new Error(`VQModel: images must be [N, ${c.inChannels}, H, W], got [${images.shape.join(', ')}]`);
    if (images.dtype !== 'float32' && images.dtype !== 'float64')
      throw new Error(`VQModel: images must be float32 (values in [-1, 1]), got ${images.dtype}`);
    return tidy(() => {
      const h = this.encoder.forward(images);
      const z = this.quantConv.forward(h);
      h.dispose();
      return z;
    });
  }

  /** Nearest codewords of z's vectors, as LlamaGen's VectorQuantizer.forward computes them. */
  #quantizeFlat(z: Tensor, withGradDist: boolean): Quantized {
    const c = this.config;
    if (z.ndim !== 4 || z.size(1) !== c.codebookDim)
      throw new Error(`VQModel: z must be [N, ${c.codebookDim}, h, w], got [${z.shape.join(', ')}]`);
    return tidy(() => {
      const rows = z.permute(0, 2, 3, 1).reshape(-1, c.codebookDim);
      const zFlat = c.codebookL2Norm ? l2Normalize(rows) : rows;
      const book = this.quantizer.codebook();
      // d = ‖z‖² + ‖e‖² − 2 z·e, the same expression (and rounding) as LlamaGen's.
      const bookSq = book.square().sum(1);
      const distance = (zr: Tensor) =>
        zr
          .square()
          .sum(1, true)
          .add(bookSq)
          .sub(zr.matmul(book.transpose(0, 1)).mul(2));
      if (withGradDist) {
        const dist = distance(zFlat);
        const indices = dist.argmin(1);
        return { zFlat, indices, zqFlat: embedding(book, indices), dist };
      }
      // Without the distance matrix itself, go by row blocks: a [rows, V] matrix that stays in
      // cache instead of one of [M, V] (134 MB for 128 images of 64 tokens against 4096 codes).
      const block = Math.max(1, Math.floor((1 << 20) / c.codebookSize));
      const m = zFlat.size(0);
      const parts: Tensor[] = [];
      noGrad(() => {
        // each block in its own scope, so only one [rows, V] matrix is alive at a time
        for (let from = 0; from < m; from += block)
          parts.push(tidy(() => distance(zFlat.slice(0, from, Math.min(m, from + block))).argmin(1)));
      });
      const indices = parts.length === 1 ? parts[0]! : cat(parts, 0);
      return { zFlat, indices, zqFlat: embedding(book, indices) };
    });
  }

  /** z [N, D, h, w] → codes int64 [N, h, w] and their codewords zq [N, D, h, w] (no straight-through). */
  quantize(z: Tensor): { codes: Tensor; zq: Tensor } {
    return tidy(() => {
      const [n, , h, w] = z.shape as [number, number, number, number];
      const q = this.#quantizeFlat(z, false);
      return { codes: q.indices.view(n, h, w), zq: q.zqFlat.view(n, h, w, -1).permute(0, 3, 1, 2).contiguous() };
    });
  }

  /** images [N, C, H, W] in [-1, 1] → codes int64 [N, H/f, W/f] (no gradients). */
  encode(images: Tensor): Tensor {
    return noGrad(() => tidy(() => this.quantize(this.encodeToLatent(images)).codes));
  }

  /** codes [N, h, w] (int64 or int32) → code vectors [N, D, h, w]: LlamaGen's get_codebook_entry (l2-normalised rows). */
  codeVectors(codes: Tensor): Tensor {
    const c = this.config;
    if (codes.ndim !== 3) throw new Error(`VQModel: codes must be [N, h, w], got [${codes.shape.join(', ')}]`);
    if (codes.dtype !== 'int64' && codes.dtype !== 'int32') throw new Error(`VQModel: codes must be int64 or int32, got ${codes.dtype}`);
    return tidy(() => {
      if (codes.numel > 0) {
        const lo = codes.amin().item();
        const hi = codes.amax().item();
        if (lo < 0 || hi >= c.codebookSize)
          throw new Error(`VQModel: codes must lie in [0, ${c.codebookSize}), got values in [${lo}, ${hi}]`);
      }
      return embedding(this.quantizer.codebook(), codes).permute(0, 3, 1, 2).contiguous();
    });
  }

  /** Code vectors [N, D, h, w] → images [N, C, h·f, w·f] (post_quant_conv, then the decoder). */
  decode(zq: Tensor): Tensor {
    const c = this.config;
    if (zq.ndim !== 4 || zq.size(1) !== c.codebookDim)
      throw new Error(`VQModel: code vectors must be [N, ${c.codebookDim}, h, w], got [${zq.shape.join(', ')}]`);
    return tidy(() => {
      const h = this.postQuantConv.forward(zq);
      const out = this.decoder.forward(h);
      h.dispose();
      return out;
    });
  }

  /** codes [N, h, w] → images [N, C, H, W]: LlamaGen's decode_code. */
  decodeCodes(codes: Tensor): Tensor {
    return tidy(() => this.decode(this.codeVectors(codes)));
  }

  /**
   * Training forward: encode, quantise with the straight-through estimator
   * (zq = z + sg(zq − z) on l2-normalised vectors), decode, and LlamaGen's quantizer losses.
   * In training mode with showUsage, the codes also go into the codebook_used buffer (unless
   * `recordUsage` is false: data-parallel training records the whole batch's codes itself).
   */
  forward(images: Tensor, { recordUsage = true } = {}): VQForward {
    const c = this.config;
    return tidy(() => {
      const z = this.encodeToLatent(images);
      const [n, , h, w] = z.shape as [number, number, number, number];
      const q = this.#quantizeFlat(z, c.entropyLossRatio > 0);
      const zn = q.zFlat;
      const codebookLoss = q.zqFlat.sub(zn.detach()).square().mean();
      const commitLoss = q.zqFlat.detach().sub(zn).square().mean().mul(c.commitBeta);
      const st = zn.add(q.zqFlat.sub(zn).detach());
      const zq = st.view(n, h, w, c.codebookDim).permute(0, 3, 1, 2).contiguous();
      const codes = q.indices.view(n, h, w);
      const out: VQForward = { recon: this.decode(zq), zq, codes, codebookLoss, commitLoss };
      if (c.entropyLossRatio > 0) out.entropyLoss = entropyLoss(q.dist!.neg()).mul(c.entropyLossRatio);
      if (this.training && c.showUsage && recordUsage) out.codebookUsage = this.quantizer.recordUsage(q.indices);
      return out;
    });
  }
}

/** LlamaGen's compute_entropy_loss (softmax affinities at temperature 0.01): sample entropy − entropy of the mean. */
export function entropyLoss(affinity: Tensor, temperature = 0.01): Tensor {
  return tidy(() => {
    const flat = affinity.reshape(-1, affinity.size(-1)).div(temperature);
    const probs = flat.softmax(-1);
    const logProbs = flat.add(1e-5).logSoftmax(-1);
    const avgProbs = probs.mean(0);
    const avgEntropy = avgProbs.mul(avgProbs.add(1e-5).log()).sum().neg();
    const sampleEntropy = probs.mul(logProbs).sum(-1).mean().neg();
    return sampleEntropy.sub(avgEntropy);
  });
}
