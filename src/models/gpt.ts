// LlamaGen's class-conditional GPT: [class token, image tokens] through pre-norm blocks with
// RMSNorm, 2-D RoPE, causal attention and SwiGLU FFN. Module names match LlamaGen's state dict.
// Used for stage 1 (vocabulary = coarse labels), the fine-token baseline, and (with full attention
// and coarse-label inputs) the stage-2 auxiliary model.
import { cat, currentDevice, currentPrecision, dropout, isGradEnabled, keep, noGrad, rand, sdpa, where, type Tensor } from '../torch/index.js';
import { Embedding, Linear, Module, RMSNorm } from '../nn/index.js';
import { ffnHidden, resolveGPTConfig, type GPTConfig } from './gpt-config.js';
import { KVCache } from './kv-cache.js';
import { embedRows, PackedGPT, type PackedWeights } from './gpt-packed.js';
import { applyRope, ropeTable2d, type RopeTable } from './rope2d.js';

class Attention extends Module {
  readonly wqkv: Linear;
  readonly wo: Linear;
  constructor(readonly c: Required<GPTConfig>) {
    super();
    const hd = c.dim / c.nHead;
    this.wqkv = this.child('wqkv', new Linear(c.dim, (c.nHead + 2 * c.nKvHead) * hd));
    this.wo = this.child('wo', new Linear(c.dim, c.dim));
  }

  /** x [B, T, dim]; cos/sin rows for these T positions; with a cache, attends to all cached keys. */
  forward(x: Tensor, rope: RopeTable, cache?: { kv: KVCache; layer: number; start: number }): Tensor {
    const { nHead, nKvHead, dim } = this.c;
    const hd = dim / nHead;
    const [b, t] = x.shape as [number, number];
    const [q0, k0, v0] = this.wqkv.forward(x).split([dim, nKvHead * hd, nKvHead * hd], -1) as [Tensor, Tensor, Tensor];
    const q = applyRope(q0.view(b, t, nHead, hd), rope.cos, rope.sin).transpose(1, 2);
    let k = applyRope(k0.view(b, t, nKvHead, hd), rope.cos, rope.sin).transpose(1, 2);
    let v = v0.view(b, t, nKvHead, hd).transpose(1, 2);
    if (cache) ({ k, v } = cache.kv.update(cache.layer, cache.start, k, v));
    if (nKvHead !== nHead) {
      k = k.repeatInterleave(nHead / nKvHead, 1);
      v = v.repeatInterleave(nHead / nKvHead, 1);
    }
    const y = sdpa(q, k, v, { causal: this.c.attention === 'causal', dropout: this.c.attnDropout, train: this.training });
    const out = this.wo.forward(y.transpose(1, 2).reshape(b, t, dim));
    return dropout(out, this.c.residDropout, this.training);
  }
}

class FeedForward extends Module {
  readonly w1: Linear;
  readonly w3: Linear;
  readonly w2: Linear;
  constructor(readonly c: Required<GPTConfig>) {
    super();
    const hidden = ffnHidden(c);
    this.w1 = this.child('w1', new Linear(c.dim, hidden));
    this.w3 = this.child('w3', new Linear(c.dim, hidden));
    this.w2 = this.child('w2', new Linear(hidden, c.dim));
  }
  forward(x: Tensor): Tensor {
    // LlamaGen: ffn_dropout(w2(silu(w1 x) * w3 x)) — dropout on the block's output
    const h = this.w1.forward(x).silu().mul(this.w3.forward(x));
    return dropout(this.w2.forward(h), this.c.ffnDropout, this.training);
  }
}

export class TransformerBlock extends Module {
  readonly attention: Attention;
  readonly feedForward: FeedForward;
  readonly attentionNorm: RMSNorm;
  readonly ffnNorm: RMSNorm;
  constructor(c: Required<GPTConfig>) {
    super();
    this.attention = this.child('attention', new Attention(c));
    this.feedForward = this.child('feed_forward', new FeedForward(c));
    this.attentionNorm = this.child('attention_norm', new RMSNorm(c.dim, c.normEps));
    this.ffnNorm = this.child('ffn_norm', new RMSNorm(c.dim, c.normEps));
  }
  forward(x: Tensor, rope: RopeTable, cache?: { kv: KVCache; layer: number; start: number }): Tensor {
    const h = x.add(this.attention.forward(this.attentionNorm.forward(x), rope, cache));
    return h.add(this.feedForward.forward(this.ffnNorm.forward(h)));
  }
}

/** LlamaGen's LabelEmbedder: a table of numClasses + 1 rows; the last row is the null class. */
class ClassEmbedder extends Module {
  readonly embeddingTable: Embedding;
  constructor(
    readonly numClasses: number,
    dim: number,
    readonly dropProb: number,
  ) {
    super();
    this.embeddingTable = this.child('embedding_table', new Embedding(numClasses + 1, dim));
  }
  /** classes int64 [B] → [B, 1, dim]; in training, each class becomes null with prob dropProb. */
  forward(classes: Tensor, training: boolean): Tensor {
    const labels = training && this.dropProb > 0 ? where(rand([classes.size(0)]).lt(this.dropProb), this.numClasses, classes) : classes;
    return this.embeddingTable.forward(labels).unsqueeze(1);
  }
}

export class GPT extends Module {
  readonly config: Required<GPTConfig>;
  readonly tokEmbeddings: Embedding;
  readonly clsEmbedding: ClassEmbedder;
  readonly layers: TransformerBlock[];
  readonly norm: RMSNorm;
  readonly output: Linear;
  /** cos/sin for every sequence slot: [clsTokenNum + blockSize, headDim/2] (not a parameter). */
  readonly rope: RopeTable;
  /**
   * How forward, prefill and decodeStep compute in inference (eval mode, gradients off): 'packed'
   * (default) through packed weights and fused ops (gpt-packed.ts; the packed copies take as much
   * memory again as the weights they copy), 'modules' through the layer-by-layer forward, the
   * reference. Training and gradient-recording calls always take the module path.
   */
  inferencePath: 'packed' | 'modules' = 'packed';
  /** Precision of the packed weights (the packed path only). */
  packedWeights: PackedWeights = 'fp32';
  #packed: PackedGPT | null = null;

  constructor(config: GPTConfig) {
    super();
    const c = (this.config = resolveGPTConfig(config));
    this.tokEmbeddings = this.child('tok_embeddings', new Embedding(c.inputVocabSize, c.dim));
    this.clsEmbedding = this.child('cls_embedding', new ClassEmbedder(c.numClasses, c.dim, c.classDropout));
    this.layers = this.children(
      'layers',
      Array.from({ length: c.nLayer }, () => new TransformerBlock(c)),
    );
    this.norm = this.child('norm', new RMSNorm(c.dim, c.normEps));
    this.output = this.child('output', new Linear(c.dim, c.vocabSize));
    noGrad(() => this.output.weight.fill_(0)); // LlamaGen zero-initialises the head
    const table = ropeTable2d(Math.round(Math.sqrt(c.blockSize)), c.dim / c.nHead, c.ropeBase, c.clsTokenNum);
    this.rope = { cos: keep(table.cos), sin: keep(table.sin) };
  }

  get headDim(): number {
    return this.config.dim / this.config.nHead;
  }

  /** Checks classes [B] (int64, 0..numClasses, numClasses = null) and tokens [B, L]. */
  #checkInputs(classes: Tensor, tokens?: Tensor): void {
    if (classes.ndim !== 1) throw new Error(`GPT: classes must be [B], got [${classes.shape}]`);
    if (!tokens) return;
    const L = tokens.size(-1);
    if (tokens.ndim !== 2 || tokens.size(0) !== classes.size(0))
      throw new Error(`GPT: tokens must be [B, L] with B = ${classes.size(0)}, got [${tokens.shape}]`);
    if (L > this.config.blockSize) throw new Error(`GPT: ${L} tokens exceed blockSize ${this.config.blockSize}`);
  }

  #ropeRows(start: number, length: number): RopeTable {
    return { cos: this.rope.cos.slice(0, start, start + length), sin: this.rope.sin.slice(0, start, start + length) };
  }

  #head(h: Tensor): Tensor {
    const logits = this.output.forward(this.norm.forward(h));
    return logits.dtype === 'float32' ? logits : logits.float();
  }

  /**
   * Teacher-forced forward: classes [B] and tokens [B, L] (L ≤ blockSize; in training the first
   * blockSize-1 tokens) → logits [B, L+1, V]; logits at position p predict token p.
   */
  forward(classes: Tensor, tokens: Tensor): Tensor {
    this.#checkInputs(classes, tokens);
    const c = this.config;
    const x = cat([this.clsEmbedding.forward(classes, this.training), this.tokEmbeddings.forward(tokens)], 1);
    const packed = this.#packedPath();
    if (packed) return packed.forward(x);
    let h = dropout(x, c.tokenDropout, this.training);
    const rope = this.#ropeRows(0, h.size(1));
    for (const layer of this.layers) h = layer.forward(h, rope);
    return this.#head(h);
  }

  newCache(batch: number): KVCache {
    if (this.config.attention !== 'causal') throw new Error('a KV cache needs causal attention');
    const c = this.config;
    return new KVCache(c.nLayer, batch, c.nKvHead, c.clsTokenNum + c.blockSize, this.headDim);
  }

  /** Cached forward of embeddings [B, t, dim] at sequence positions start..start+t-1 → [B, t, V]. */
  #cached(x: Tensor, cache: KVCache, start: number): Tensor {
    cache.checkCapacity(start, x.size(1));
    let h = x;
    const rope = this.#ropeRows(start, h.size(1));
    this.layers.forEach((layer, i) => (h = layer.forward(h, rope, { kv: cache, layer: i, start })));
    cache.length = start + h.size(1);
    return this.#head(h);
  }

  /** The packed weights when this call may take the packed path (repacked when stale), else null. */
  #packedPath(): PackedGPT | null {
    // the packed kernels are CPU float32 (or int8) code: CUDA and bf16 autocast take the module path
    if (this.inferencePath !== 'packed' || this.training || isGradEnabled()) return null;
    if (currentDevice() !== 'cpu' || currentPrecision() !== 'fp32') return null;
    if (this.#packed && (this.#packed.weights !== this.packedWeights || !this.#packed.fresh)) this.#dropPacked();
    return (this.#packed ??= new PackedGPT(this, this.packedWeights));
  }

  #dropPacked(): void {
    this.#packed?.dispose();
    this.#packed = null;
  }

  /** Fills the cache with the class token; returns the logits of the first image token [B, V]. */
  prefill(classes: Tensor, cache: KVCache): Tensor {
    this.#checkInputs(classes);
    const packed = this.config.clsTokenNum === 1 ? this.#packedPath() : null;
    if (packed) return packed.step(cache, 0, embedRows(this.clsEmbedding.embeddingTable.weight, classes));
    return this.#cached(this.clsEmbedding.forward(classes, false), cache, 0).select(1, 0);
  }

  /** Feeds one token per row (int64 [B]) at the next position; returns the next logits [B, V]. */
  decodeStep(tokens: Tensor, cache: KVCache): Tensor {
    const packed = this.#packedPath();
    if (packed) return packed.step(cache, cache.length, embedRows(this.tokEmbeddings.weight, tokens));
    return this.#cached(this.tokEmbeddings.forward(tokens.unsqueeze(1)), cache, cache.length).select(1, 0);
  }

  /** Training frees the packed copies (they serve inference only). */
  override train(on = true): this {
    if (on) this.#dropPacked();
    return super.train(on);
  }

  override dispose(): void {
    this.#dropPacked();
    super.dispose();
    this.rope.cos.dispose();
    this.rope.sin.dispose();
  }
}
