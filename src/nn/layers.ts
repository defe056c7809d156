// Basic layers. Linear and Embedding default to LlamaGen's init (normal, std 0.02); convolutions
// to PyTorch's (uniform ±1/sqrt(fan_in)).
import { conv2d, embedding, groupNorm, linear, ones, rmsNorm, zeros, type Tensor } from '../torch/index.js';
import { Module } from './module.js';

export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: { bias?: boolean; std?: number } = {},
  ) {
    super();
    this.weight = this.param('weight', zeros([outFeatures, inFeatures]).normal_(0, opts.std ?? 0.02));
    this.bias = opts.bias ? this.param('bias', zeros([outFeatures])) : null;
  }
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

export class Embedding extends Module {
  readonly weight: Tensor;
  constructor(
    readonly count: number,
    readonly dim: number,
    opts: { std?: number } = {},
  ) {
    super();
    this.weight = this.param('weight', zeros([count, dim]).normal_(0, opts.std ?? 0.02));
  }
  /** indices (int64, any shape) → [..., dim] */
  forward(indices: Tensor): Tensor {
    return embedding(this.weight, indices);
  }
}

export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly stride: number;
  readonly padding: number;
  constructor(inCh: number, outCh: number, kernel: number, opts: { stride?: number; padding?: number; bias?: boolean } = {}) {
    super();
    const bound = 1 / Math.sqrt(inCh * kernel * kernel);
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 0;
    this.weight = this.param('weight', zeros([outCh, inCh, kernel, kernel]).uniform_(-bound, bound));
    this.bias = opts.bias === false ? null : this.param('bias', zeros([outCh]).uniform_(-bound, bound));
  }
  /** [N, inCh, H, W] → [N, outCh, H', W'] */
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding });
  }
}

export class GroupNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  constructor(
    readonly groups: number,
    channels: number,
    readonly eps = 1e-6,
  ) {
    super();
    this.weight = this.param('weight', ones([channels]));
    this.bias = this.param('bias', zeros([channels]));
  }
  forward(x: Tensor): Tensor {
    return groupNorm(x, this.groups, this.weight, this.bias, this.eps);
  }
}

export class RMSNorm extends Module {
  readonly weight: Tensor;
  constructor(
    dim: number,
    readonly eps = 1e-5,
  ) {
    super();
    this.weight = this.param('weight', ones([dim]));
  }
  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.weight, this.eps);
  }
}
