// Explicit tensor lifetimes. Every tensor created inside `tidy(fn)` is released when fn returns,
// except the tensors fn returns (which move to the enclosing scope) and those passed to `keep`.
// Long loops wrap each step in tidy and so keep flat memory without relying on the GC.

/** What a scope needs from a tensor; implemented by Tensor. */
export interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
}

const scopes: Disposable[][] = [];
const kept = new WeakSet<Disposable>();

/** Called by every new tensor: records it in the innermost open scope. */
export function track(t: Disposable): void {
  const top = scopes[scopes.length - 1];
  if (top !== undefined) top.push(t);
}

/** Exempts a tensor from every enclosing and future scope; the caller owns it (dispose it later). */
export function keep<T extends Disposable>(t: T): T {
  kept.add(t);
  return t;
}

/** Returns the tensors reachable from a value: itself, array items, object/Map values (shallow-deep). */
function collect(value: unknown, out: Set<Disposable>, depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 4) return;
  if (isDisposable(value)) {
    out.add(value);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collect(v, out, depth + 1);
  else if (value instanceof Map) for (const v of value.values()) collect(v, out, depth + 1);
  else if (Object.getPrototypeOf(value) === Object.prototype)
    for (const v of Object.values(value as Record<string, unknown>)) collect(v, out, depth + 1);
}

function isDisposable(v: object): v is Disposable {
  return typeof (v as Disposable).dispose === 'function' && 'isDisposed' in v;
}

/** Runs fn and releases the tensors it created, except what it returns. fn must be synchronous. */
export function tidy<R>(fn: () => R): R {
  scopes.push([]);
  let result: R;
  try {
    result = fn();
  } catch (e) {
    release(scopes.pop()!, new Set());
    throw e;
  }
  if (result instanceof Promise) {
    release(scopes.pop()!, new Set());
    throw new Error('tidy(fn): fn must be synchronous (it returned a Promise)');
  }
  const survivors = new Set<Disposable>();
  collect(result, survivors);
  release(scopes.pop()!, survivors);
  const parent = scopes[scopes.length - 1];
  if (parent !== undefined) for (const t of survivors) if (!kept.has(t)) parent.push(t);
  return result;
}

function release(created: Disposable[], survivors: Set<Disposable>): void {
  for (const t of created) if (!survivors.has(t) && !kept.has(t)) t.dispose();
}

/** Disposes every tensor reachable from a value (arrays, Maps, plain objects). */
export function dispose(value: unknown): void {
  const all = new Set<Disposable>();
  collect(value, all);
  for (const t of all) t.dispose();
}

/** Number of open tidy scopes (for tests and assertions). */
export function scopeDepth(): number {
  return scopes.length;
}
