// Which weights of a training checkpoint a model samples with. Runs trained with --ema keep
// parameter averages in the checkpoint's optimizer group under `ema.<name>`; sampling and export
// take them in place of the raw weights.
import type { RawTensor } from '../io/index.js';

export const EMA_PREFIX = 'ema.';

/** The weights to sample with: the raw weights with every averaged parameter replaced by its EMA. */
export function samplingWeights(ck: { tensors: Map<string, RawTensor>; optimizer: Map<string, RawTensor> }): Map<string, RawTensor> {
  const out = new Map(ck.tensors);
  for (const [name, t] of ck.optimizer) if (name.startsWith(EMA_PREFIX)) out.set(name.slice(EMA_PREFIX.length), t);
  return out;
}
