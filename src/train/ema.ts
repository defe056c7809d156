// Exponential moving average of a model's parameters (LlamaGen's --ema): after every optimizer step
// shadow ← decay·shadow + (1 − decay)·parameter. The averages travel in the training checkpoint's
// optimizer group under `ema.<name>` (training state, restored on resume), and whoever samples
// from a checkpoint takes them in place of the raw weights (run/weights.ts).
import type { Module } from '../nn/index.js';
import { EMA_PREFIX } from '../run/weights.js';
import * as T from '../torch/index.js';

export class Ema {
  private readonly shadow: [string, T.Tensor, T.Tensor][];

  constructor(
    model: Module,
    readonly decay: number,
  ) {
    if (!(decay > 0 && decay < 1)) throw new Error(`EMA decay must lie in (0, 1), e.g. 0.999; got ${decay}`);
    this.shadow = T.noGrad(() => model.namedParameters().map(([n, p]) => [n, p, T.keep(p.detach().clone())]));
  }

  update(): void {
    T.noGrad(() => {
      for (const [, p, s] of this.shadow) s.lerp_(p, 1 - this.decay);
    });
  }

  /** Starts the averages over from the current parameters (resuming a run saved without EMA). */
  reset(): void {
    T.noGrad(() => {
      for (const [, p, s] of this.shadow) s.copy_(p);
    });
  }

  /** The averages as checkpoint tensors, named `ema.<parameter>`. */
  stateTensors(): Map<string, T.Tensor> {
    return new Map(this.shadow.map(([n, , s]) => [EMA_PREFIX + n, s]));
  }

  /** Restores the averages from a checkpoint's optimizer group; false when it holds none. */
  load(saved: Map<string, T.Tensor>): boolean {
    if (!saved.has(EMA_PREFIX + this.shadow[0]![0])) return false;
    for (const [n, , s] of this.shadow) {
      const src = saved.get(EMA_PREFIX + n);
      if (!src || src.shape.join(',') !== s.shape.join(','))
        throw new Error(`EMA: checkpoint lacks ema.${n} of shape [${s.shape}]; resume without --ema or from a run trained with it`);
      s.copy_(src);
    }
    return true;
  }

  dispose(): void {
    for (const [, , s] of this.shadow) s.dispose();
  }
}
