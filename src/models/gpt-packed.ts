// The packed inference path of the GPT: the class-token prefill and every cached step run as eight
// native calls per layer over weights packed once (src/torch/fast.ts), writing into activations
// preallocated with the KV cache, with RoPE, the cache write and the attention of the new token
// fused into one call; the teacher-forced forward (CTF's stage 2, one pass over every token) runs
// the same blocks over all tokens with RoPE and the head split fused and libtorch's attention.
// Same maths as the module path, which stays the reference: tests hold the two to the same logits
// within 1e-4 and the same greedy tokens.
// Packed copies follow the parameters: every step compares the in-place version sum of the packed
// parameters with the one they were packed at and repacks when it moved (loadStateDict, an
// optimizer or EMA step, any in-place write), so they never go stale.
import {
  cat,
  decodeAttention,
  embeddingInto,
  PackedLinear,
  rmsNormInto,
  ropeHeads,
  sdpa,
  swigluInto,
  tidy,
  versionSum,
  zeros,
} from '../torch/index.js';
import type { PackedKind, Tensor } from '../torch/index.js';
import type { GPT } from './gpt.js';
import type { KVCache } from './kv-cache.js';

/** Precision of the packed weights: fp32 (the reference's logits within 1e-4) or int8 (dynamic-quantized, approximate). */
export type PackedWeights = PackedKind;
export const PACKED_WEIGHTS: readonly PackedWeights[] = ['fp32', 'int8'];

/** Optional timing of the ops of one step (benchmarks): `run(op, fn)` must call fn once. */
export type OpTimer = (op: string, fn: () => void) => void;
const untimed: OpTimer = (_op, fn) => fn();

/** Activations of one pass, [rows, width] each. */
interface Buffers {
  /** the residual stream */
  h: Tensor;
  xn: Tensor;
  qkv: Tensor;
  att: Tensor;
  gateUp: Tensor;
  gate: Tensor;
}

interface PackedLayer {
  attentionNorm: Tensor;
  wqkv: PackedLinear;
  wo: PackedLinear;
  ffnNorm: Tensor;
  /** w1 and w3 stacked: one GEMM gives [gate, up] */
  w13: PackedLinear;
  w2: PackedLinear;
}

export class PackedGPT {
  readonly layers: PackedLayer[];
  readonly output: PackedLinear;
  readonly #sources: Tensor[];
  readonly #version: number;

  constructor(
    readonly model: GPT,
    readonly weights: PackedWeights,
  ) {
    const pack = (w: Tensor) => new PackedLinear(w, weights);
    this.layers = model.layers.map((l) => ({
      attentionNorm: l.attentionNorm.weight,
      wqkv: pack(l.attention.wqkv.weight),
      wo: pack(l.attention.wo.weight),
      ffnNorm: l.ffnNorm.weight,
      w13: tidy(() => pack(cat([l.feedForward.w1.weight, l.feedForward.w3.weight], 0))),
      w2: pack(l.feedForward.w2.weight),
    }));
    this.output = pack(model.output.weight);
    this.#sources = [
      ...model.layers.flatMap((l) => [l.attention.wqkv, l.attention.wo, l.feedForward.w1, l.feedForward.w3, l.feedForward.w2].map((m) => m.weight)),
      model.output.weight,
    ];
    this.#version = versionSum(this.#sources);
  }

  /** False once any packed parameter was written in place after packing. */
  get fresh(): boolean {
    return versionSum(this.#sources) === this.#version;
  }

  /** Activation buffers of `rows` token rows: from the cache (decoding) or fresh (a full forward). */
  #buffers(rows: number, buffer: (name: string, shape: number[]) => Tensor): Buffers {
    const c = this.model.config;
    const hidden = this.layers[0]!.w2.inFeatures;
    return {
      h: buffer('h', [rows, c.dim]),
      xn: buffer('normed', [rows, c.dim]),
      qkv: buffer('qkv', [rows, (c.nHead + 2 * c.nKvHead) * this.model.headDim]),
      att: buffer('attention', [rows, c.dim]),
      gateUp: buffer('gateUp', [rows, 2 * hidden]),
      gate: buffer('gate', [rows, hidden]),
    };
  }

  /** The blocks over the rows of b.h (attend fills b.att from b.qkv for layer i), then the logits. */
  #run(b: Buffers, attend: (i: number) => void, run: OpTimer): Tensor {
    const eps = this.model.config.normEps;
    this.layers.forEach((l, i) => {
      run('rmsnorm', () => rmsNormInto(b.xn, b.h, l.attentionNorm, eps));
      run('linear qkv', () => l.wqkv.into(b.qkv, b.xn));
      run('attention', () => attend(i));
      run('linear wo (+residual)', () => l.wo.into(b.h, b.att, true));
      run('rmsnorm', () => rmsNormInto(b.xn, b.h, l.ffnNorm, eps));
      run('linear w1|w3', () => l.w13.into(b.gateUp, b.xn));
      run('swiglu', () => swigluInto(b.gate, b.gateUp));
      run('linear w2 (+residual)', () => l.w2.into(b.h, b.gate, true));
    });
    run('rmsnorm', () => rmsNormInto(b.xn, b.h, this.model.norm.weight, eps));
    let logits: Tensor | undefined;
    run('linear output', () => (logits = this.output.apply(b.xn)));
    return logits!;
  }

  /**
   * One new token per row at sequence position pos: `embed` writes its embeddings into h [B, dim];
   * fills the cache at pos and returns the next-token logits [B, V] (a new tensor). Activations
   * live in the cache and are reused by every step.
   */
  step(cache: KVCache, pos: number, embed: (h: Tensor) => void, run: OpTimer = untimed): Tensor {
    const { model } = this;
    const b = this.#buffers(cache.batch, (name, shape) => cache.scratch(name, shape));
    const work = cache.scratch('attentionWork', [2 * cache.batch * model.config.nHead * cache.maxLen]);
    const scale = 1 / Math.sqrt(model.headDim);
    cache.checkCapacity(pos, 1);
    run('embedding', () => embed(b.h));
    const logits = this.#run(
      b,
      (i) =>
        decodeAttention({ qkv: b.qkv, cos: model.rope.cos, sin: model.rope.sin, keys: cache.keys[i]!, values: cache.values[i]!, pos, out: b.att, work, scale }),
      run,
    );
    cache.length = pos + 1;
    return logits;
  }

  /**
   * The teacher-forced forward of embeddings x [B, T, dim] at positions 0..T-1 (no cache):
   * logits [B, T, V], with the model's attention (causal or full).
   */
  forward(x: Tensor, run: OpTimer = untimed): Tensor {
    const { model } = this;
    const c = model.config;
    const [B, T] = x.shape as [number, number];
    const hd = model.headDim;
    return tidy(() => {
      const b = this.#buffers(B * T, (_name, shape) => zeros(shape));
      b.h.copy_(x.reshape(B * T, c.dim));
      const heads = { q: zeros([B, c.nHead, T, hd]), k: zeros([B, c.nKvHead, T, hd]), v: zeros([B, c.nKvHead, T, hd]) };
      const group = c.nHead / c.nKvHead;
      const logits = this.#run(
        b,
        () =>
          tidy(() => {
            ropeHeads(b.qkv, model.rope.cos, model.rope.sin, 0, heads);
            const [k, v] = group === 1 ? [heads.k, heads.v] : [heads.k.repeatInterleave(group, 1), heads.v.repeatInterleave(group, 1)];
            const y = sdpa(heads.q, k, v, { causal: c.attention === 'causal' }); // [B, H, T, hd]
            b.att.view(B, T, c.nHead, hd).copy_(y.transpose(1, 2));
          }),
        run,
      );
      return logits.view(B, T, -1);
    });
  }

  dispose(): void {
    for (const l of this.layers) for (const p of [l.wqkv, l.wo, l.w13, l.w2]) p.dispose();
    this.output.dispose();
  }
}

/** Writes the embeddings of tokens [B] (rows of table [n, dim]) into h [B, dim]. */
export const embedRows = (table: Tensor, tokens: Tensor) => (h: Tensor) => embeddingInto(h, table, tokens);
