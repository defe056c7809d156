// Module tree with PyTorch-style dotted parameter names, so LlamaGen state dicts map 1:1.
import { keep, noGrad, type Tensor } from '../torch/index.js';

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
   * as unexpected (ignored unless strict), missing keys and shape mismatches always throw.
   */
  loadStateDict(tensors: Map<string, Tensor>, opts: { strict?: boolean; ignore?: (key: string) => boolean } = {}): void {
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !tensors.has(k));
    const unexpected = [...tensors.keys()].filter((k) => !own.has(k) && !(opts.ignore?.(k) ?? false));
    const mismatched: string[] = [];
    for (const [k, t] of own) {
      const src = tensors.get(k);
      if (src && src.shape.join(',') !== t.shape.join(','))
        mismatched.push(`${k}: checkpoint [${src.shape.join(', ')}] vs model [${t.shape.join(', ')}]`);
    }
    const problems: string[] = [];
    if (missing.length) problems.push(`missing keys: ${missing.join(', ')}`);
    if (mismatched.length) problems.push(`shape mismatches: ${mismatched.join('; ')}`);
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
