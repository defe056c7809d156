// Per-layer key/value cache for autoregressive decoding: preallocated [B, Hkv, maxLen, headDim]
// buffers written in place, read back as the filled prefix. It also holds the activation buffers
// the packed decode path reuses at every step (made on first use, freed with the cache).
import { keep, zeros, type Tensor } from '../torch/index.js';

export class KVCache {
  readonly keys: Tensor[];
  readonly values: Tensor[];
  /** Positions filled so far. */
  length = 0;
  readonly #scratch = new Map<string, Tensor>();

  constructor(
    readonly layers: number,
    readonly batch: number,
    readonly kvHeads: number,
    readonly maxLen: number,
    readonly headDim: number,
  ) {
    this.keys = Array.from({ length: layers }, () => keep(zeros([batch, kvHeads, maxLen, headDim])));
    this.values = Array.from({ length: layers }, () => keep(zeros([batch, kvHeads, maxLen, headDim])));
  }

  /** Throws unless `count` positions from `start` fit in the cache. */
  checkCapacity(start: number, count: number): void {
    const end = start + count;
    if (end > this.maxLen) throw new Error(`KV cache overflow: position ${end} beyond capacity ${this.maxLen}`);
  }

  /** Writes k/v [B, Hkv, t, hd] at `start` for one layer; returns the filled prefix views. */
  update(layer: number, start: number, k: Tensor, v: Tensor): { k: Tensor; v: Tensor } {
    this.checkCapacity(start, k.size(2));
    const end = start + k.size(2);
    this.keys[layer]!.sliceAssign_(2, start, k);
    this.values[layer]!.sliceAssign_(2, start, v);
    return { k: this.keys[layer]!.slice(2, 0, end), v: this.values[layer]!.slice(2, 0, end) };
  }

  /** The float32 buffer `name` of this shape, allocated once per cache (a new shape replaces it). */
  scratch(name: string, shape: number[]): Tensor {
    const t = this.#scratch.get(name);
    if (t && t.shape.length === shape.length && t.shape.every((s, i) => s === shape[i])) return t;
    t?.dispose();
    const fresh = keep(zeros(shape));
    this.#scratch.set(name, fresh);
    return fresh;
  }

  dispose(): void {
    for (const t of [...this.keys, ...this.values, ...this.#scratch.values()]) t.dispose();
    this.#scratch.clear();
  }
}
