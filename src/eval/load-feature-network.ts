// `--classifier <file>`: ctfgen's feature classifier (our safetensors with kind
// "feature-classifier"), or Inception-v3 weights (pytorch-fid's FID network, .pt or safetensors)
// for the standard kind of FID / IS / precision / recall.
import { detectCheckpointFormat, loadTensors, readSafetensorsHeader } from '../io/index.js';
import { loadWeights } from '../nn/index.js';
import { classifierId, type FeatureNetwork } from './classifier.js';
import { FidInceptionV3, INCEPTION_MARKER } from './inception.js';
import { loadClassifier } from './train-classifier.js';

export interface LoadedFeatureNetwork {
  model: FeatureNetwork;
  kind: 'feature-classifier' | 'inception-v3';
  /** classifierId of the loaded weights (names cached reference statistics) */
  id: string;
}

export async function loadFeatureNetwork(path: string): Promise<LoadedFeatureNetwork> {
  const inception =
    (await detectCheckpointFormat(path)) !== 'safetensors' ||
    (await readSafetensorsHeader(path)).entries.some((e) => e.name === INCEPTION_MARKER);
  if (inception) {
    const model = await loadInception(path);
    return { model, kind: 'inception-v3', id: classifierId(model) };
  }
  const { model, id } = await loadClassifier(path);
  return { model, kind: 'feature-classifier', id };
}

/** Inception-v3 from a state dict with torchvision / pytorch-fid key names. */
export async function loadInception(path: string): Promise<FidInceptionV3> {
  const { tensors } = await loadTensors(path, { toFloat32: true });
  if (!tensors.has(INCEPTION_MARKER))
    throw new Error(
      `${path} is neither a ctfgen feature classifier (train one with \`ctfgen eval classifier train\`) nor Inception-v3 weights (no ${INCEPTION_MARKER})`,
    );
  return loadWeights(new FidInceptionV3(), tensors, {
    source: path,
    strict: true,
    ignore: (k) => k.endsWith('num_batches_tracked') || k.startsWith('AuxLogits.'),
  });
}
