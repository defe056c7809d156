// Builds a GPT and fills it from a LlamaGen .pt checkpoint (weights under "model"/"ema" or at the
// top level) or a safetensors file, by LlamaGen key names.
import { loadTensors } from '../io/index.js';
import { loadWeights } from '../nn/index.js';
import { GPT } from './gpt.js';
import type { GPTConfig } from './gpt-config.js';

/** Keys old LlamaGen files carry that are not parameters. */
const IGNORED = (key: string) => key === 'freqs_cis' || key.endsWith('.freqs_cis') || key === 'causal_mask';

export async function loadGPT(path: string, config: GPTConfig): Promise<GPT> {
  const { tensors } = await loadTensors(path);
  return loadWeights(new GPT(config), tensors, { source: path, dtype: 'float32', ignore: IGNORED });
}

/** LlamaGen manifest / args naming (dim, n_layer, n_head, n_kv_head, vocab_size, block_size, num_classes). */
export function gptConfigFromLlamaGen(m: Record<string, unknown>): GPTConfig {
  const num = (k: string): number => {
    const v = m[k];
    if (typeof v !== 'number') throw new Error(`GPT config: '${k}' missing or not a number`);
    return v;
  };
  return {
    dim: num('dim'),
    nLayer: num('n_layer'),
    nHead: num('n_head'),
    nKvHead: typeof m.n_kv_head === 'number' ? m.n_kv_head : undefined,
    vocabSize: num('vocab_size'),
    blockSize: num('block_size'),
    numClasses: num('num_classes'),
  };
}
