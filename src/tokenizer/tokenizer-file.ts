// Opening a tokenizer checkpoint: ours (safetensors with the VQ config and image transform in its
// metadata) or LlamaGen's vq_ds16_c2i.pt (VQ-16 architecture, 256x256 RGB).
import { loadCheckpoint } from '../io/index.js';
import type { TransformSpec } from '../data/transforms.js';
import { detectCheckpointFormat } from '../io/index.js';
import { contentId } from '../util/content-id.js';
import { loadVQModel } from './load.js';
import { VQ_16, type VQConfig } from './vq-config.js';
import type { VQModel } from './vq-model.js';

export interface Tokenizer {
  model: VQModel;
  /** image preparation the tokenizer was trained with */
  transform: TransformSpec;
  /** content id of the codebook (matches token caches and cluster files) */
  id: string;
  path: string;
}

export interface TokenizerMeta {
  kind: 'vq-tokenizer';
  config: VQConfig;
  transform: TransformSpec;
  dataset?: string;
}

export async function readTokenizerMeta(path: string): Promise<TokenizerMeta> {
  if ((await detectCheckpointFormat(path)) !== 'safetensors')
    return { kind: 'vq-tokenizer', config: VQ_16, transform: { resize: { height: 256, width: 256 }, channels: 3 } };
  const { meta } = await loadCheckpoint(path);
  if (meta.kind !== 'vq-tokenizer')
    throw new Error(`${path}: not a tokenizer checkpoint (kind '${String(meta.kind)}'); train one with \`ctfgen tokenizer train\``);
  return meta as unknown as TokenizerMeta;
}

export async function openTokenizer(path: string): Promise<Tokenizer> {
  const meta = await readTokenizerMeta(path);
  const model = await loadVQModel(path, meta.config);
  const book = model.quantizer.embedding.weight.toBytes();
  return { model, transform: meta.transform, id: contentId(book), path };
}
