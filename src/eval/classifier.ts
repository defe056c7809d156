// The feature network that stands in for Inception-v3 (whose weights cannot be downloaded here):
// a small CNN trained per dataset. Three conv stages (3x3 conv → GroupNorm → ReLU → 2x2 max
// pool while the map is larger than 4x4), an adaptive average pool to 4x4, a penultimate
// fully-connected feature layer (ReLU) and a linear head. FID, precision and recall use the
// penultimate activations (as Inception's pool3), the inception score uses the softmax of the
// logits. Parameter names follow PyTorch (`convs.0.weight`, `norms.0.weight`, `fc.weight`, …).
import { Conv2d, GroupNorm, Linear, Module } from '../nn/index.js';
import type { ImageShape, TransformSpec } from '../data/transforms.js';
import { adaptiveAvgPool2d, dropout, maxPool2d, type Tensor } from '../torch/index.js';
import { contentId } from '../util/content-id.js';

/**
 * What evaluation needs of a feature network: ctfgen's FeatureClassifier, or Inception-v3 when the
 * user has its weights (inception.ts). Images in [-1, 1] of the configured channels and size.
 */
export interface FeatureNetwork {
  /** spatialDim: size of the spatial features (sFID) when forward returns them */
  readonly config: { featureDim: number; numClasses: number; imageSize: number; channels: number; spatialDim?: number };
  /** false when its classes are not the data set's (Inception's ImageNet classes): no class accuracy */
  readonly datasetClasses?: boolean;
  readonly training: boolean;
  /** features [N, featureDim], logits [N, numClasses], and spatial features [N, spatialDim] where the network has them */
  forward(x: Tensor): { features: Tensor; logits: Tensor; spatial?: Tensor };
  /** dataset images → network input (default classifierInputTransform) */
  inputTransform?(shape: ImageShape): TransformSpec;
  stateDict(): Map<string, Tensor>;
  train(on?: boolean): unknown;
  eval(): unknown;
  dispose(): void;
}

export interface FeatureClassifierConfig {
  /** input channels (1 grey, 3 RGB) */
  channels: number;
  /** input height = width */
  imageSize: number;
  numClasses: number;
  /** channels of the conv stages (default [32, 64, 128]) */
  widths?: number[];
  /** dimension of the penultimate feature layer (default 128) */
  featureDim?: number;
  /** GroupNorm groups (default 8; must divide every width) */
  groups?: number;
  /** dropout on the features before the head, training only (default 0) */
  dropout?: number;
}

export type ResolvedClassifierConfig = Required<FeatureClassifierConfig>;

/** Spatial size of the map fed to the feature layer. */
const POOLED = 4;

export function resolveClassifierConfig(c: FeatureClassifierConfig): ResolvedClassifierConfig {
  const r: ResolvedClassifierConfig = {
    channels: c.channels,
    imageSize: c.imageSize,
    numClasses: c.numClasses,
    widths: c.widths ?? [32, 64, 128],
    featureDim: c.featureDim ?? 128,
    groups: c.groups ?? 8,
    dropout: c.dropout ?? 0,
  };
  const posInt = (v: number) => Number.isInteger(v) && v > 0;
  if (!posInt(r.channels)) throw new RangeError(`FeatureClassifier: channels must be a positive integer, got ${r.channels}`);
  if (!posInt(r.imageSize) || r.imageSize < POOLED)
    throw new RangeError(`FeatureClassifier: imageSize must be an integer ≥ ${POOLED}, got ${r.imageSize}`);
  if (!posInt(r.numClasses) || r.numClasses < 2) throw new RangeError(`FeatureClassifier: numClasses must be ≥ 2, got ${r.numClasses}`);
  if (r.widths.length === 0 || !r.widths.every(posInt)) throw new RangeError(`FeatureClassifier: bad widths [${r.widths.join(', ')}]`);
  if (!r.widths.every((w) => w % r.groups === 0))
    throw new RangeError(`FeatureClassifier: groups ${r.groups} must divide every width [${r.widths.join(', ')}]`);
  if (!posInt(r.featureDim)) throw new RangeError(`FeatureClassifier: featureDim must be a positive integer, got ${r.featureDim}`);
  if (!(r.dropout >= 0 && r.dropout < 1)) throw new RangeError(`FeatureClassifier: dropout must be in [0, 1), got ${r.dropout}`);
  return r;
}

export class FeatureClassifier extends Module {
  readonly config: ResolvedClassifierConfig;
  readonly convs: Conv2d[];
  readonly norms: GroupNorm[];
  readonly fc: Linear;
  readonly head: Linear;
  /** whether stage i ends with a 2x2 max pool (decided by the image size) */
  readonly #pool: boolean[];

  constructor(config: FeatureClassifierConfig) {
    super();
    const c = (this.config = resolveClassifierConfig(config));
    const ins = [c.channels, ...c.widths.slice(0, -1)];
    this.convs = this.children(
      'convs',
      c.widths.map((w, i) => new Conv2d(ins[i]!, w, 3, { padding: 1 })),
    );
    this.norms = this.children(
      'norms',
      c.widths.map((w) => new GroupNorm(c.groups, w, 1e-5)),
    );
    let size = c.imageSize;
    this.#pool = c.widths.map(() => {
      const p = size > POOLED;
      if (p) size = Math.floor(size / 2);
      return p;
    });
    const flat = c.widths[c.widths.length - 1]! * POOLED * POOLED;
    // PyTorch's default Linear init (uniform ±1/sqrt(fan_in)) suits a ReLU CNN better than 0.02
    this.fc = this.child('fc', new Linear(flat, c.featureDim, { bias: true, std: 1 / Math.sqrt(flat) }));
    this.head = this.child('head', new Linear(c.featureDim, c.numClasses, { bias: true, std: 1 / Math.sqrt(c.featureDim) }));
  }

  /** Throws unless x is [N, channels, imageSize, imageSize]. */
  checkInput(x: Tensor): void {
    const { channels, imageSize } = this.config;
    const s = x.shape;
    if (s.length !== 4 || s[1] !== channels || s[2] !== imageSize || s[3] !== imageSize)
      throw new Error(`FeatureClassifier: expected images [N, ${channels}, ${imageSize}, ${imageSize}], got [${s.join(', ')}]`);
  }

  /** Penultimate activations [N, featureDim] (post-ReLU, before dropout) of images in [-1, 1]. */
  features(x: Tensor): Tensor {
    this.checkInput(x);
    let h = x;
    for (let i = 0; i < this.convs.length; i++) {
      h = this.norms[i]!.forward(this.convs[i]!.forward(h)).relu();
      if (this.#pool[i]) h = maxPool2d(h, 2);
    }
    if (h.size(2) !== POOLED || h.size(3) !== POOLED) h = adaptiveAvgPool2d(h, POOLED);
    return this.fc.forward(h.flatten(1)).relu();
  }

  /** Class logits [N, numClasses]. */
  logits(x: Tensor): Tensor {
    return this.forward(x).logits;
  }

  /** Features and logits from one pass. */
  forward(x: Tensor): { features: Tensor; logits: Tensor } {
    const features = this.features(x);
    const h = this.config.dropout > 0 ? dropout(features, this.config.dropout, this.training) : features;
    return { features, logits: this.head.forward(h) };
  }
}

/**
 * A short content id of the network (architecture + weights), which names cached reference
 * statistics: statistics from one classifier are never compared with features of another.
 */
export function classifierId(model: FeatureNetwork): string {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [enc.encode(JSON.stringify(model.config))];
  for (const [name, t] of [...model.stateDict()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    parts.push(enc.encode(name), t.toBytes());
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return contentId(all);
}

/**
 * The transform that turns samples of `shape` into classifier input: channels converted, images
 * smaller than the classifier's size centre-padded (black; Fashion-MNIST 28 → 32), larger ones
 * area-resized. No flip.
 */
export function classifierInputTransform(shape: ImageShape, config: { imageSize: number; channels: number }): TransformSpec {
  const { imageSize: s, channels } = config;
  if (channels !== 1 && channels !== 3) throw new RangeError(`classifier input: channels must be 1 or 3, got ${channels}`);
  const spec: TransformSpec = { channels };
  if (shape.height === s && shape.width === s) return spec;
  if (shape.height <= s && shape.width <= s) return { ...spec, pad: { height: s, width: s } };
  const scale = s / Math.max(shape.height, shape.width);
  const h = Math.max(1, Math.round(shape.height * scale));
  const w = Math.max(1, Math.round(shape.width * scale));
  spec.resize = { height: h, width: w, method: 'area' };
  if (h !== s || w !== s) spec.pad = { height: s, width: s };
  return spec;
}
