// Module tree with PyTorch-style dotted parameter names, so LlamaGen state dicts map 1:1.
import { dispose, keep, noGrad, tensorsFromRaw, type DType, type Tensor } from '../torch/index.js';
import type { RawTensor } from '../util/tensor-types.js';

export interface LoadOptions {
  /** refuse keys the module does not have */
  strict?: boolean;
  /** keys to leave out (neither loaded nor reported as unexpected) */
  ignore?: (key: string) => boolean;
}

export abstract class Module {
  training = true;
  readonly #params = new Map<string, Tensor>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #children = new Map<string, Module>();

  /** Registers a trainable parameter; the module owns it (kept out of tidy scopes). */
  protected param(name: string, t: Tensor): Tensor {
    keep(t).requiresGrad_(true);
    this.#params.set(name, t);
    return t;
  }
  /** Registers saved, non-trainable state (e.g. a usage counter). */
  protected buffer(name: string, t: Tensor): Tensor {
    keep(t);
    this.#buffers.set(name, t);
    return t;
  }
  protected child<M extends Module>(name: string, m: M): M {
    this.#children.set(name, m);
    return m;
  }
  /** Registers modules as `${name}.0`, `${name}.1`, … (PyTorch's ModuleList naming). */
  protected children<M extends Module>(name: string, ms: M[]): M[] {
    ms.forEach((m, i) => this.#children.set(`${name}.${i}`, m));
    return ms;
  }

  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, p] of this.#params) out.push([prefix + n, p]);
    for (const [n, c] of this.#children) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }
  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, b] of this.#buffers) out.push([prefix + n, b]);
    for (const [n, c] of this.#children) out.push(...c.namedBuffers(`${prefix}${n}.`));
    return out;
  }
  /** Parameters and buffers by dotted name (shared handles, not copies). */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }
  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.numel, 0);
  }

  /**
   * Copies tensors into this module's parameters and buffers by name. Unknown keys are listed
   * as unexpected (ignored unless strict), missing keys, shape mismatches and integer data for float weights (or
   * the reverse) always throw.
   */
  loadStateDict(tensors: Map<string, Tensor>, opts: LoadOptions = {}): void {
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !tensors.has(k));
    const unexpected = [...tensors.keys()].filter((k) => !own.has(k) && !(opts.ignore?.(k) ?? false));
    const mismatched: string[] = [];
    const wrongType: string[] = [];
    for (const [k, t] of own) {
      const src = tensors.get(k);
      if (src && src.shape.join(',') !== t.shape.join(','))
        mismatched.push(`${k}: checkpoint [${src.shape.join(', ')}] vs model [${t.shape.join(', ')}]`);
      // float16 → float32 is a conversion; int32 bits read as float weights is a corrupt file
      else if (src && isFloat(src.dtype) !== isFloat(t.dtype)) wrongType.push(`${k}: checkpoint ${src.dtype} vs model ${t.dtype}`);
    }
    const problems: string[] = [];
    if (missing.length) problems.push(`missing keys: ${missing.join(', ')}`);
    if (mismatched.length) problems.push(`shape mismatches: ${mismatched.join('; ')}`);
    if (wrongType.length) problems.push(`dtype mismatches: ${wrongType.join('; ')}`);
    if (opts.strict && unexpected.length) problems.push(`unexpected keys: ${unexpected.join(', ')}`);
    if (problems.length) throw new Error(`loadStateDict(${this.constructor.name}): ${problems.join('. ')}`);
    noGrad(() => {
      for (const [k, t] of own) {
        const src = tensors.get(k)!;
        if (src.dtype === t.dtype) t.copy_(src);
        else {
          const c = src.to(t.dtype);
          t.copy_(c);
          c.dispose();
        }
      }
    });
  }

  train(on = true): this {
    this.training = on;
    for (const c of this.#children.values()) c.train(on);
    return this;
  }
  eval(): this {
    return this.train(false);
  }
  /** Releases every parameter and buffer. */
  dispose(): void {
    for (const [, t] of this.stateDict()) t.dispose();
  }
}

const isFloat = (d: DType): boolean => d.startsWith('float') || d === 'bfloat16';

/** Names of floating-point tensors holding NaN or ±Inf (weights that would poison every output). */
export function nonFiniteTensors(tensors: Map<string, Tensor>): string[] {
  return noGrad(() =>
    [...tensors]
      .filter(([, t]) => isFloat(t.dtype))
      .filter(([, t]) => {
        const m = t.abs().amax();
        const bad = !Number.isFinite(m.item());
        m.dispose();
        return bad;
      })
      .map(([k]) => k),
  );
}

/**
 * Fills a freshly built module from checkpoint tensors and returns it in eval mode. On any problem
 * (missing keys, shape mismatches, NaN/Inf weights) the module is disposed and the error names the
 * source file: build, load and clean-up exist here once for every model kind.
 */
export function loadWeights<M extends Module>(
  model: M,
  weights: Map<string, RawTensor>,
  o: LoadOptions & { source: string; dtype?: DType },
): M {
  let loaded: Map<string, Tensor> | null = null;
  try {
    loaded = tensorsFromRaw(o.ignore ? new Map([...weights].filter(([k]) => !o.ignore!(k))) : weights, o.dtype);
    const bad = nonFiniteTensors(loaded);
    if (bad.length) throw new Error(`non-finite values (NaN or Inf) in ${bad.join(', ')}; the file is corrupt or training diverged`);
    model.loadStateDict(loaded, o);
  } catch (e) {
    model.dispose();
    throw new Error(`${o.source}: ${(e as Error).message}`);
  } finally {
    if (loaded) dispose(loaded);
  }
  return model.eval();
}
