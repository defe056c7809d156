// AdamW with parameter groups. The moment tensors live here (not inside libtorch's optimizer),
// so a checkpoint can save and restore them like weights; the update itself is one native call
// per group.
import { N } from '../torch/native.js';
import { keep, zerosLike, type Tensor } from '../torch/index.js';

export interface ParamGroup {
  params: Tensor[];
  /** Decoupled weight decay for this group (LlamaGen: 0.05 on matrices, 0 on norms and biases). */
  weightDecay?: number;
  /** Multiplies the optimizer's learning rate for this group. */
  lrScale?: number;
}

export interface AdamWOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

export class AdamW {
  lr: number;
  readonly betas: [number, number];
  readonly eps: number;
  readonly groups: Required<ParamGroup>[];
  /** Number of steps taken (bias correction uses it). */
  stepCount = 0;
  readonly #expAvg: Tensor[][];
  readonly #expAvgSq: Tensor[][];

  constructor(groups: ParamGroup[] | Tensor[], opts: AdamWOptions) {
    this.lr = opts.lr;
    this.betas = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    const gs: ParamGroup[] = groups.length > 0 && 'params' in groups[0]! ? (groups as ParamGroup[]) : [{ params: groups as Tensor[] }];
    this.groups = gs.map((g) => ({ params: g.params, weightDecay: g.weightDecay ?? opts.weightDecay ?? 0.01, lrScale: g.lrScale ?? 1 }));
    this.#expAvg = this.groups.map((g) => g.params.map((p) => keep(zerosLike(p))));
    this.#expAvgSq = this.groups.map((g) => g.params.map((p) => keep(zerosLike(p))));
  }

  step(): void {
    this.stepCount++;
    const [b1, b2] = this.betas;
    this.groups.forEach((g, i) =>
      N.adamw(
        g.params.map((p) => p.handle),
        this.#expAvg[i]!.map((t) => t.handle),
        this.#expAvgSq[i]!.map((t) => t.handle),
        this.lr * g.lrScale,
        b1,
        b2,
        this.eps,
        g.weightDecay,
        this.stepCount,
      ),
    );
  }

  /** Moment tensors by name (`exp_avg.<group>.<index>`, `exp_avg_sq.…`) for checkpoints. */
  stateTensors(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    this.#expAvg.forEach((ts, g) => ts.forEach((t, i) => out.set(`exp_avg.${g}.${i}`, t)));
    this.#expAvgSq.forEach((ts, g) => ts.forEach((t, i) => out.set(`exp_avg_sq.${g}.${i}`, t)));
    return out;
  }

  /** Restores moments saved by stateTensors() and the step count. */
  loadState(tensors: Map<string, Tensor>, stepCount: number): void {
    for (const [name, t] of this.stateTensors()) {
      const src = tensors.get(name);
      if (!src) throw new Error(`AdamW.loadState: checkpoint lacks optimizer tensor ${name}`);
      if (src.shape.join(',') !== t.shape.join(','))
        throw new Error(`AdamW.loadState: ${name} has shape [${src.shape}] but the parameter needs [${t.shape}]`);
      t.copy_(src);
    }
    this.stepCount = stepCount;
  }

  dispose(): void {
    for (const t of this.stateTensors().values()) t.dispose();
  }
}

/** LlamaGen's split: weight decay on matrices and embeddings (dim ≥ 2), none on norms/biases. */
export function decayGroups(named: [string, Tensor][], weightDecay: number): ParamGroup[] {
  const decay = named.filter(([, p]) => p.ndim >= 2).map(([, p]) => p);
  const noDecay = named.filter(([, p]) => p.ndim < 2).map(([, p]) => p);
  return [
    { params: decay, weightDecay },
    { params: noDecay, weightDecay: 0 },
  ];
}
