// Per-layer key/value cache for autoregressive decoding: preallocated [B, Hkv, maxLen, headDim]
// buffers written in place, read back as the filled prefix.
import { keep, zeros, type Tensor } from '../torch/index.js';

export class KVCache {
  readonly keys: Tensor[];
  readonly values: Tensor[];
  /** Positions filled so far. */
  length = 0;

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

  /** Writes k/v [B, Hkv, t, hd] at `start` for one layer; returns the filled prefix views. */
  update(layer: number, start: number, k: Tensor, v: Tensor): { k: Tensor; v: Tensor } {
    const end = start + k.size(2);
    if (end > this.maxLen) throw new Error(`KV cache overflow: position ${end} beyond capacity ${this.maxLen}`);
    this.keys[layer]!.sliceAssign_(2, start, k);
    this.values[layer]!.sliceAssign_(2, start, v);
    return { k: this.keys[layer]!.slice(2, 0, end), v: this.values[layer]!.slice(2, 0, end) };
  }

  dispose(): void {
    for (const t of [...this.keys, ...this.values]) t.dispose();
  }
}
