// Builds a VQModel and fills it from a LlamaGen .pt checkpoint (weights under "model", "ema", …
// or a plain state dict) or a safetensors file (ctfgen checkpoints included), by LlamaGen's key
// names.
import { OPTIM_PREFIX, loadTensors } from '../io/index.js';
import { loadWeights } from '../nn/index.js';
import { toRaw } from '../torch/index.js';
import type { VQConfig } from './vq-config.js';
import { VQModel } from './vq-model.js';

const USAGE_KEY = 'quantize.codebook_used';

export interface LoadVQOptions {
  /** Refuse checkpoint keys the model does not have (default true; optimizer state `optim.*` is always ignored). */
  strict?: boolean;
}

/**
 * Loads a VQ tokenizer checkpoint into a model of the given architecture, in eval mode. Errors
 * name the file and list missing keys, unexpected keys and shape mismatches. The usage buffer
 * `quantize.codebook_used` is optional either way (it only records training statistics).
 */
export async function loadVQModel(path: string, config: VQConfig, opts: LoadVQOptions = {}): Promise<VQModel> {
  const { tensors: raw } = await loadTensors(path, { toFloat32: true });
  const model = new VQModel(config);
  const own = model.stateDict();
  if (!raw.has(USAGE_KEY) && own.has(USAGE_KEY)) raw.set(USAGE_KEY, toRaw(own.get(USAGE_KEY)!));
  return loadWeights(model, raw, {
    source: path,
    dtype: 'float32',
    strict: opts.strict ?? true,
    ignore: (k) => k.startsWith(OPTIM_PREFIX) || (k === USAGE_KEY && !own.has(USAGE_KEY)),
  });
}
