// The packed decode path of the GPT (inference only): the class-token prefill and every cached step
// run as eight native calls per layer over weights packed once (src/torch/fast.ts), writing into
// activations preallocated with the KV cache, with RoPE, the cache write and the attention of the
// new token fused into one call. Same maths as the module path, which stays the reference: tests
// hold the two to the same logits within 1e-4 and the same greedy tokens.
// Packed copies follow the parameters: every step compares the in-place version sum of the packed
// parameters with the one they were packed at and repacks when it moved (loadStateDict, an
// optimizer or EMA step, any in-place write), so they never go stale.
import { cat, tidy, versionSum, decodeAttention, embeddingInto, PackedLinear, rmsNormInto, swigluInto } from '../torch/index.js';
import type { PackedKind, Tensor } from '../torch/index.js';
import type { GPT } from './gpt.js';
import type { KVCache } from './kv-cache.js';

/** Precision of the packed weights: fp32 (the reference's logits within 1e-4) or int8 (dynamic-quantized, approximate). */
export type DecodeWeights = PackedKind;

/** Optional timing of the ops of one step (benchmarks): `run(op, fn)` must call fn once. */
export type OpTimer = (op: string, fn: () => void) => void;
const untimed: OpTimer = (_op, fn) => fn();

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
    readonly weights: DecodeWeights,
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

  /**
   * One new token per row at sequence position pos: `embed` writes its embeddings into h [B, dim];
   * fills the cache at pos and returns the next-token logits [B, V] (a new tensor).
   */
  step(cache: KVCache, pos: number, embed: (h: Tensor) => void, run: OpTimer = untimed): Tensor {
    const { model } = this;
    const c = model.config;
    const B = cache.batch;
    const hd = model.headDim;
    const hidden = this.layers[0]!.w2.inFeatures;
    const h = cache.scratch('h', [B, c.dim]);
    const xn = cache.scratch('normed', [B, c.dim]);
    const qkv = cache.scratch('qkv', [B, (c.nHead + 2 * c.nKvHead) * hd]);
    const att = cache.scratch('attention', [B, c.dim]);
    const gateUp = cache.scratch('gateUp', [B, 2 * hidden]);
    const gate = cache.scratch('gate', [B, hidden]);
    const work = cache.scratch('attentionWork', [2 * B * c.nHead * cache.maxLen]);
    const scale = 1 / Math.sqrt(hd);
    cache.checkCapacity(pos, 1);
    run('embedding', () => embed(h));
    this.layers.forEach((l, i) => {
      run('rmsnorm', () => rmsNormInto(xn, h, l.attentionNorm, c.normEps));
      run('linear qkv', () => l.wqkv.into(qkv, xn));
      run('attention', () =>
        decodeAttention({ qkv, cos: model.rope.cos, sin: model.rope.sin, keys: cache.keys[i]!, values: cache.values[i]!, pos, out: att, work, scale }),
      );
      run('linear wo (+residual)', () => l.wo.into(h, att, true));
      run('rmsnorm', () => rmsNormInto(xn, h, l.ffnNorm, c.normEps));
      run('linear w1|w3', () => l.w13.into(gateUp, xn));
      run('swiglu', () => swigluInto(gate, gateUp));
      run('linear w2 (+residual)', () => l.w2.into(h, gate, true));
    });
    run('rmsnorm', () => rmsNormInto(xn, h, model.norm.weight, c.normEps));
    cache.length = pos + 1;
    let logits: Tensor | undefined;
    run('linear output', () => (logits = this.output.apply(xn)));
    return logits!;
  }

  dispose(): void {
    for (const l of this.layers) for (const p of [l.wqkv, l.wo, l.w13, l.w2]) p.dispose();
    this.output.dispose();
  }
}

/** Writes the embeddings of tokens [B] (rows of table [n, dim]) into h [B, dim]. */
export const embedRows = (table: Tensor, tokens: Tensor) => (h: Tensor) => embeddingInto(h, table, tokens);
