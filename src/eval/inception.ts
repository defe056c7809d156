// Inception-v3 as the standard FID uses it (pytorch-fid's FIDInceptionA/C/E_1/E_2 on torchvision's
// layout, 1008 classes), so that a user who has its weights (pt_inception-2015-12-05, as .pt or
// converted to safetensors) gets the published kind of FID / IS / precision / recall. The weights
// cannot be downloaded here; `ctfgen eval --classifier <file>` recognises them by their key names.
// Batch norms are folded into per-channel scale and shift at load time (eval only).
import { Module } from '../nn/index.js';
import * as T from '../torch/index.js';
import type { TransformSpec } from '../data/transforms.js';

type Pair = number | [number, number];

/** conv (no bias) → batch norm (eps 1e-3) → ReLU, with torchvision's names conv.* and bn.* */
class BasicConv2d extends Module {
  readonly conv: ConvWeight;
  readonly bn: BatchNorm;
  constructor(
    inCh: number,
    outCh: number,
    readonly kernel: Pair,
    readonly stride: Pair = 1,
    readonly padding: Pair = 0,
  ) {
    super();
    const [kh, kw] = typeof kernel === 'number' ? [kernel, kernel] : kernel;
    this.conv = this.child('conv', new ConvWeight([outCh, inCh, kh, kw]));
    this.bn = this.child('bn', new BatchNorm(outCh));
  }
  forward(x: T.Tensor): T.Tensor {
    const y = T.conv2d(x, this.conv.weight, null, { stride: this.stride, padding: this.padding });
    return this.bn.forward(y).relu();
  }
}

class ConvWeight extends Module {
  readonly weight: T.Tensor;
  constructor(shape: number[]) {
    super();
    this.weight = this.param('weight', T.zeros(shape).normal_(0, 0.1));
  }
}

/** Eval-mode batch norm: (x − mean) / sqrt(var + 1e-3) · weight + bias, per channel. */
class BatchNorm extends Module {
  readonly weight: T.Tensor;
  readonly bias: T.Tensor;
  readonly runningMean: T.Tensor;
  readonly runningVar: T.Tensor;
  constructor(readonly channels: number) {
    super();
    this.weight = this.param('weight', T.ones([channels]));
    this.bias = this.param('bias', T.zeros([channels]));
    this.runningMean = this.buffer('running_mean', T.zeros([channels]));
    this.runningVar = this.buffer('running_var', T.ones([channels]));
  }
  forward(x: T.Tensor): T.Tensor {
    const scale = this.weight.mul(this.runningVar.add(1e-3).rsqrt());
    const shift = this.bias.sub(this.runningMean.mul(scale));
    const c = [1, this.channels, 1, 1];
    return x.mul(scale.reshape(...c)).add(shift.reshape(...c));
  }
}

const avgPool3 = (x: T.Tensor) => T.avgPool2d(x, 3, 1, { padding: 1, countIncludePad: false });

class InceptionA extends Module {
  readonly b1: BasicConv2d;
  readonly b5: BasicConv2d[];
  readonly b3: BasicConv2d[];
  readonly pool: BasicConv2d;
  constructor(inCh: number, poolFeatures: number) {
    super();
    this.b1 = this.child('branch1x1', new BasicConv2d(inCh, 64, 1));
    this.b5 = [this.child('branch5x5_1', new BasicConv2d(inCh, 48, 1)), this.child('branch5x5_2', new BasicConv2d(48, 64, 5, 1, 2))];
    this.b3 = [
      this.child('branch3x3dbl_1', new BasicConv2d(inCh, 64, 1)),
      this.child('branch3x3dbl_2', new BasicConv2d(64, 96, 3, 1, 1)),
      this.child('branch3x3dbl_3', new BasicConv2d(96, 96, 3, 1, 1)),
    ];
    this.pool = this.child('branch_pool', new BasicConv2d(inCh, poolFeatures, 1));
  }
  forward(x: T.Tensor): T.Tensor {
    return T.cat([this.b1.forward(x), chain(this.b5, x), chain(this.b3, x), this.pool.forward(avgPool3(x))], 1);
  }
}

class InceptionB extends Module {
  readonly b3: BasicConv2d;
  readonly dbl: BasicConv2d[];
  constructor(inCh: number) {
    super();
    this.b3 = this.child('branch3x3', new BasicConv2d(inCh, 384, 3, 2));
    this.dbl = [
      this.child('branch3x3dbl_1', new BasicConv2d(inCh, 64, 1)),
      this.child('branch3x3dbl_2', new BasicConv2d(64, 96, 3, 1, 1)),
      this.child('branch3x3dbl_3', new BasicConv2d(96, 96, 3, 2)),
    ];
  }
  forward(x: T.Tensor): T.Tensor {
    return T.cat([this.b3.forward(x), chain(this.dbl, x), T.maxPool2d(x, 3, 2)], 1);
  }
}

class InceptionC extends Module {
  readonly b1: BasicConv2d;
  readonly b7: BasicConv2d[];
  readonly dbl: BasicConv2d[];
  readonly pool: BasicConv2d;
  constructor(inCh: number, c7: number) {
    super();
    // 1x7 and 7x1 factorised convolutions, padded to keep the size
    const row: [Pair, Pair, Pair] = [[1, 7], 1, [0, 3]];
    const col: [Pair, Pair, Pair] = [[7, 1], 1, [3, 0]];
    this.b1 = this.child('branch1x1', new BasicConv2d(inCh, 192, 1));
    this.b7 = [
      this.child('branch7x7_1', new BasicConv2d(inCh, c7, 1)),
      this.child('branch7x7_2', new BasicConv2d(c7, c7, ...row)),
      this.child('branch7x7_3', new BasicConv2d(c7, 192, ...col)),
    ];
    this.dbl = [
      this.child('branch7x7dbl_1', new BasicConv2d(inCh, c7, 1)),
      this.child('branch7x7dbl_2', new BasicConv2d(c7, c7, ...col)),
      this.child('branch7x7dbl_3', new BasicConv2d(c7, c7, ...row)),
      this.child('branch7x7dbl_4', new BasicConv2d(c7, c7, ...col)),
      this.child('branch7x7dbl_5', new BasicConv2d(c7, 192, ...row)),
    ];
    this.pool = this.child('branch_pool', new BasicConv2d(inCh, 192, 1));
  }
  forward(x: T.Tensor): T.Tensor {
    return T.cat([this.b1.forward(x), chain(this.b7, x), chain(this.dbl, x), this.pool.forward(avgPool3(x))], 1);
  }
}

class InceptionD extends Module {
  readonly b3: BasicConv2d[];
  readonly b7: BasicConv2d[];
  constructor(inCh: number) {
    super();
    this.b3 = [this.child('branch3x3_1', new BasicConv2d(inCh, 192, 1)), this.child('branch3x3_2', new BasicConv2d(192, 320, 3, 2))];
    this.b7 = [
      this.child('branch7x7x3_1', new BasicConv2d(inCh, 192, 1)),
      this.child('branch7x7x3_2', new BasicConv2d(192, 192, [1, 7], 1, [0, 3])),
      this.child('branch7x7x3_3', new BasicConv2d(192, 192, [7, 1], 1, [3, 0])),
      this.child('branch7x7x3_4', new BasicConv2d(192, 192, 3, 2)),
    ];
  }
  forward(x: T.Tensor): T.Tensor {
    return T.cat([chain(this.b3, x), chain(this.b7, x), T.maxPool2d(x, 3, 2)], 1);
  }
}

/** FIDInceptionE_1 (average pool, padding not counted) or E_2 (max pool) in the pool branch. */
class InceptionE extends Module {
  readonly b1: BasicConv2d;
  readonly b3: BasicConv2d;
  readonly b3a: BasicConv2d;
  readonly b3b: BasicConv2d;
  readonly dbl: BasicConv2d[];
  readonly dblA: BasicConv2d;
  readonly dblB: BasicConv2d;
  readonly pool: BasicConv2d;
  constructor(
    inCh: number,
    readonly maxPool: boolean,
  ) {
    super();
    this.b1 = this.child('branch1x1', new BasicConv2d(inCh, 320, 1));
    this.b3 = this.child('branch3x3_1', new BasicConv2d(inCh, 384, 1));
    this.b3a = this.child('branch3x3_2a', new BasicConv2d(384, 384, [1, 3], 1, [0, 1]));
    this.b3b = this.child('branch3x3_2b', new BasicConv2d(384, 384, [3, 1], 1, [1, 0]));
    this.dbl = [
      this.child('branch3x3dbl_1', new BasicConv2d(inCh, 448, 1)),
      this.child('branch3x3dbl_2', new BasicConv2d(448, 384, 3, 1, 1)),
    ];
    this.dblA = this.child('branch3x3dbl_3a', new BasicConv2d(384, 384, [1, 3], 1, [0, 1]));
    this.dblB = this.child('branch3x3dbl_3b', new BasicConv2d(384, 384, [3, 1], 1, [1, 0]));
    this.pool = this.child('branch_pool', new BasicConv2d(inCh, 192, 1));
  }
  forward(x: T.Tensor): T.Tensor {
    const b3 = this.b3.forward(x);
    const d = chain(this.dbl, x);
    const pooled = this.maxPool ? T.maxPool2d(x, 3, 1, 1) : avgPool3(x);
    return T.cat(
      [
        this.b1.forward(x),
        T.cat([this.b3a.forward(b3), this.b3b.forward(b3)], 1),
        T.cat([this.dblA.forward(d), this.dblB.forward(d)], 1),
        this.pool.forward(pooled),
      ],
      1,
    );
  }
}

const chain = (layers: BasicConv2d[], x: T.Tensor): T.Tensor => layers.reduce((h, l) => l.forward(h), x);

/** The key that marks an Inception-v3 state dict. */
export const INCEPTION_MARKER = 'Mixed_7c.branch_pool.conv.weight';

/**
 * sFID's spatial features as the ADM evaluator takes them: the first 7 channels of TF's
 * `mixed_6/conv` (the 1x1 branch of the 7th mixed block, torchvision's Mixed_6d.branch1x1, after
 * its batch norm and ReLU), 17x17 at a 299 input, flattened in TF's HWC order: 2023 values.
 */
export const SPATIAL_CHANNELS = 7;

export class FidInceptionV3 extends Module {
  /** the feature-network interface of ctfgen's evaluation (images in [-1, 1], any size, resized to 299) */
  readonly config = { featureDim: 2048, numClasses: 1008, imageSize: 299, channels: 3 as const, spatialDim: 17 * 17 * SPATIAL_CHANNELS };
  /** its classes are ImageNet's, not the data set's: no class accuracy */
  readonly datasetClasses = false;
  readonly stem: (BasicConv2d | 'pool')[];
  readonly mixed: Module[];
  /** Mixed_6d (TF's mixed_6), whose 1x1 branch gives sFID's spatial features */
  readonly spatialBlock: InceptionC;
  readonly fc: { weight: T.Tensor; bias: T.Tensor };

  constructor() {
    super();
    const c = (name: string, m: BasicConv2d) => this.child(name, m);
    this.stem = [
      c('Conv2d_1a_3x3', new BasicConv2d(3, 32, 3, 2)),
      c('Conv2d_2a_3x3', new BasicConv2d(32, 32, 3)),
      c('Conv2d_2b_3x3', new BasicConv2d(32, 64, 3, 1, 1)),
      'pool',
      c('Conv2d_3b_1x1', new BasicConv2d(64, 80, 1)),
      c('Conv2d_4a_3x3', new BasicConv2d(80, 192, 3)),
      'pool',
    ];
    const blocks: [string, Module][] = [
      ['Mixed_5b', new InceptionA(192, 32)],
      ['Mixed_5c', new InceptionA(256, 64)],
      ['Mixed_5d', new InceptionA(288, 64)],
      ['Mixed_6a', new InceptionB(288)],
      ['Mixed_6b', new InceptionC(768, 128)],
      ['Mixed_6c', new InceptionC(768, 160)],
      ['Mixed_6d', new InceptionC(768, 160)],
      ['Mixed_6e', new InceptionC(768, 192)],
      ['Mixed_7a', new InceptionD(768)],
      ['Mixed_7b', new InceptionE(1280, false)],
      ['Mixed_7c', new InceptionE(2048, true)],
    ];
    this.mixed = blocks.map(([n, m]) => this.child(n, m));
    this.spatialBlock = blocks.find(([n]) => n === 'Mixed_6d')![1] as InceptionC;
    this.fc = this.child('fc', new FcLayer());
  }

  /** Dataset images → RGB 299x299, resized bilinearly as pytorch-fid does. */
  inputTransform(): TransformSpec {
    return { channels: 3, resize: { height: 299, width: 299, method: 'bilinear' } };
  }

  /** images [N, 3, H, W] in [-1, 1] → pool features [N, 2048], logits [N, 1008], spatial features [N, 2023] */
  forward(x: T.Tensor): { features: T.Tensor; logits: T.Tensor; spatial: T.Tensor } {
    if (x.ndim !== 4 || x.size(1) !== 3) throw new Error(`Inception-v3 takes [N, 3, H, W] images, got [${x.shape}]`);
    let h = x.size(2) === 299 && x.size(3) === 299 ? x : T.interpolateBilinear(x, [299, 299], false);
    for (const s of this.stem) h = s === 'pool' ? T.maxPool2d(h, 3, 2) : s.forward(h);
    let spatial: T.Tensor | undefined;
    for (const m of this.mixed) {
      if (m === this.spatialBlock) spatial = this.spatialBlock.b1.forward(h).slice(1, 0, SPATIAL_CHANNELS).permute(0, 2, 3, 1).flatten(1);
      h = (m as unknown as { forward(x: T.Tensor): T.Tensor }).forward(h);
    }
    const features = T.adaptiveAvgPool2d(h, 1).flatten(1);
    return { features, logits: T.linear(features, this.fc.weight, this.fc.bias), spatial: spatial! };
  }
}

class FcLayer extends Module {
  readonly weight: T.Tensor;
  readonly bias: T.Tensor;
  constructor() {
    super();
    this.weight = this.param('weight', T.zeros([1008, 2048]).normal_(0, 0.01));
    this.bias = this.param('bias', T.zeros([1008]));
  }
}
