// The typed tensor over a libtorch handle. Methods are thin calls into the binding; each result is
// a new Tensor registered with the innermost tidy() scope (see scope.ts).
import { N, type DType, type Handle } from './native.js';
import { track, type Disposable } from './scope.js';

export type { DType };
/** A tensor or a plain number (broadcast as a scalar of matching kind). */
export type TensorLike = Tensor | number;

const h = (x: TensorLike): Handle | number => (typeof x === 'number' ? x : x.handle);
const dims = (d: number | number[] | undefined | null): number[] | null =>
  d === undefined || d === null ? null : typeof d === 'number' ? [d] : d;

export class Tensor implements Disposable {
  #handle: Handle | null;
  #shape: number[] | undefined;

  constructor(handle: Handle) {
    this.#handle = handle;
    track(this);
  }

  /** The libtorch handle; throws a clear error when used after dispose(). */
  get handle(): Handle {
    if (this.#handle === null) throw new Error('tensor used after dispose()');
    return this.#handle;
  }

  get isDisposed(): boolean {
    return this.#handle === null;
  }

  /** Releases the tensor's memory now (idempotent). */
  dispose(): void {
    if (this.#handle !== null) {
      N.free(this.#handle);
      this.#handle = null;
    }
  }

  get shape(): number[] {
    return (this.#shape ??= N.shape(this.handle));
  }
  get dtype(): DType {
    return N.dtype(this.handle);
  }
  get ndim(): number {
    return this.shape.length;
  }
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  /** Size of one dimension; negative dims count from the end. */
  size(dim: number): number {
    const s = this.shape;
    const d = dim < 0 ? s.length + dim : dim;
    if (d < 0 || d >= s.length) throw new Error(`size(${dim}): tensor has ${s.length} dims`);
    return s[d]!;
  }

  // ---- copy-out ----
  /** The values as the dtype's natural typed array (float16/bfloat16 come out as Float32Array). */
  data(): Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array {
    return N.toArray(this.handle);
  }
  /** The values as plain JS numbers (int64 included), for small tensors and tests. */
  toArray(): number[] {
    return Array.from(this.data() as ArrayLike<number | bigint>, Number);
  }
  toFloat32Array(): Float32Array {
    return this.dtype === 'float32'
      ? (N.toArray(this.handle) as Float32Array)
      : withTemp(N.to(this.handle, 'float32'), (t) => N.toArray(t) as Float32Array);
  }
  toInt32Array(): Int32Array {
    return this.dtype === 'int32'
      ? (N.toArray(this.handle) as Int32Array)
      : withTemp(N.to(this.handle, 'int32'), (t) => N.toArray(t) as Int32Array);
  }
  /** Raw little-endian bytes in the tensor's own dtype. */
  toBytes(): Uint8Array {
    return N.toBytes(this.handle);
  }
  item(): number {
    return Number(N.item(this.handle));
  }
  toString(): string {
    if (this.isDisposed) return 'Tensor(disposed)';
    const v = Array.from(this.toFloat32Array().subarray(0, 8), (x) => +x.toFixed(4));
    return `Tensor(${this.dtype}[${this.shape.join(', ')}] ${v.join(', ')}${this.numel > 8 ? ', …' : ''})`;
  }

  // ---- conversion ----
  to(dtype: DType): Tensor {
    return new Tensor(N.to(this.handle, dtype));
  }
  float(): Tensor {
    return this.to('float32');
  }
  long(): Tensor {
    return this.to('int64');
  }
  clone(): Tensor {
    return new Tensor(N.clone(this.handle));
  }
  contiguous(): Tensor {
    return new Tensor(N.contiguous(this.handle));
  }

  // ---- views ----
  reshape(...shape: number[]): Tensor {
    return new Tensor(N.reshape(this.handle, shape));
  }
  view(...shape: number[]): Tensor {
    return new Tensor(N.view(this.handle, shape));
  }
  permute(...order: number[]): Tensor {
    return new Tensor(N.permute(this.handle, order));
  }
  transpose(a: number, b: number): Tensor {
    return new Tensor(N.transpose(this.handle, a, b));
  }
  expand(...shape: number[]): Tensor {
    return new Tensor(N.expand(this.handle, shape));
  }
  squeeze(dim?: number): Tensor {
    return new Tensor(N.squeeze(this.handle, dim));
  }
  unsqueeze(dim: number): Tensor {
    return new Tensor(N.unsqueeze(this.handle, dim));
  }
  flatten(start = 0, end = -1): Tensor {
    return new Tensor(N.flatten(this.handle, start, end));
  }
  /** Elements start..end (exclusive; undefined = to the end) along dim, with a step. */
  slice(dim: number, start: number, end?: number, step = 1): Tensor {
    return new Tensor(N.slice(this.handle, dim, start, end, step));
  }
  select(dim: number, index: number): Tensor {
    return new Tensor(N.select(this.handle, dim, index));
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return new Tensor(N.indexSelect(this.handle, dim, index.handle));
  }
  gather(dim: number, index: Tensor): Tensor {
    return new Tensor(N.gather(this.handle, dim, index.handle));
  }
  scatter(dim: number, index: Tensor, src: TensorLike): Tensor {
    return new Tensor(N.scatter(this.handle, dim, index.handle, h(src)));
  }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return new Tensor(N.scatterAdd(this.handle, dim, index.handle, src.handle));
  }
  indexAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return new Tensor(N.indexAdd(this.handle, dim, index.handle, src.handle));
  }
  split(size: number | number[], dim = 0): Tensor[] {
    return N.split(this.handle, size, dim).map((x) => new Tensor(x));
  }
  chunk(n: number, dim = 0): Tensor[] {
    return N.chunk(this.handle, n, dim).map((x) => new Tensor(x));
  }
  repeat(...reps: number[]): Tensor {
    return new Tensor(N.repeat(this.handle, reps));
  }
  repeatInterleave(n: number, dim: number): Tensor {
    return new Tensor(N.repeatInterleave(this.handle, n, dim));
  }
  flip(...d: number[]): Tensor {
    return new Tensor(N.flip(this.handle, d));
  }
  tril(diagonal = 0): Tensor {
    return new Tensor(N.tril(this.handle, diagonal));
  }
  triu(diagonal = 0): Tensor {
    return new Tensor(N.triu(this.handle, diagonal));
  }
  oneHot(n: number): Tensor {
    return new Tensor(N.oneHot(this.handle, n));
  }
  maskedFill(mask: Tensor, value: number): Tensor {
    return new Tensor(N.maskedFill(this.handle, mask.handle, value));
  }
  /** Counts of each non-negative integer value (int64 input). */
  bincount(minlength = 0): Tensor {
    return new Tensor(N.bincount(this.handle, minlength));
  }

  // ---- elementwise ----
  add(o: TensorLike): Tensor {
    return new Tensor(N.add(this.handle, h(o)));
  }
  sub(o: TensorLike): Tensor {
    return new Tensor(N.sub(this.handle, h(o)));
  }
  mul(o: TensorLike): Tensor {
    return new Tensor(N.mul(this.handle, h(o)));
  }
  div(o: TensorLike): Tensor {
    return new Tensor(N.div(this.handle, h(o)));
  }
  pow(o: TensorLike): Tensor {
    return new Tensor(N.pow(this.handle, h(o)));
  }
  maximum(o: TensorLike): Tensor {
    return new Tensor(N.maximum(this.handle, h(o)));
  }
  minimum(o: TensorLike): Tensor {
    return new Tensor(N.minimum(this.handle, h(o)));
  }
  remainder(o: TensorLike): Tensor {
    return new Tensor(N.remainder(this.handle, h(o)));
  }
  floorDivide(o: TensorLike): Tensor {
    return new Tensor(N.floorDivide(this.handle, h(o)));
  }
  eq(o: TensorLike): Tensor {
    return new Tensor(N.eq(this.handle, h(o)));
  }
  ne(o: TensorLike): Tensor {
    return new Tensor(N.ne(this.handle, h(o)));
  }
  lt(o: TensorLike): Tensor {
    return new Tensor(N.lt(this.handle, h(o)));
  }
  le(o: TensorLike): Tensor {
    return new Tensor(N.le(this.handle, h(o)));
  }
  gt(o: TensorLike): Tensor {
    return new Tensor(N.gt(this.handle, h(o)));
  }
  ge(o: TensorLike): Tensor {
    return new Tensor(N.ge(this.handle, h(o)));
  }
  logicalAnd(o: TensorLike): Tensor {
    return new Tensor(N.logicalAnd(this.handle, h(o)));
  }
  logicalOr(o: TensorLike): Tensor {
    return new Tensor(N.logicalOr(this.handle, h(o)));
  }
  neg(): Tensor {
    return new Tensor(N.neg(this.handle));
  }
  exp(): Tensor {
    return new Tensor(N.exp(this.handle));
  }
  log(): Tensor {
    return new Tensor(N.log(this.handle));
  }
  log1p(): Tensor {
    return new Tensor(N.log1p(this.handle));
  }
  sqrt(): Tensor {
    return new Tensor(N.sqrt(this.handle));
  }
  rsqrt(): Tensor {
    return new Tensor(N.rsqrt(this.handle));
  }
  abs(): Tensor {
    return new Tensor(N.abs(this.handle));
  }
  sin(): Tensor {
    return new Tensor(N.sin(this.handle));
  }
  cos(): Tensor {
    return new Tensor(N.cos(this.handle));
  }
  tanh(): Tensor {
    return new Tensor(N.tanh(this.handle));
  }
  sigmoid(): Tensor {
    return new Tensor(N.sigmoid(this.handle));
  }
  relu(): Tensor {
    return new Tensor(N.relu(this.handle));
  }
  silu(): Tensor {
    return new Tensor(N.silu(this.handle));
  }
  gelu(tanhApprox = false): Tensor {
    return new Tensor(N.gelu(this.handle, tanhApprox));
  }
  square(): Tensor {
    return new Tensor(N.square(this.handle));
  }
  reciprocal(): Tensor {
    return new Tensor(N.reciprocal(this.handle));
  }
  floor(): Tensor {
    return new Tensor(N.floor(this.handle));
  }
  ceil(): Tensor {
    return new Tensor(N.ceil(this.handle));
  }
  round(): Tensor {
    return new Tensor(N.round(this.handle));
  }
  sign(): Tensor {
    return new Tensor(N.sign(this.handle));
  }
  erf(): Tensor {
    return new Tensor(N.erf(this.handle));
  }
  logicalNot(): Tensor {
    return new Tensor(N.logicalNot(this.handle));
  }
  isnan(): Tensor {
    return new Tensor(N.isnan(this.handle));
  }
  clamp(min?: number | null, max?: number | null): Tensor {
    return new Tensor(N.clamp(this.handle, min ?? null, max ?? null));
  }
  lerp(end: Tensor, weight: number): Tensor {
    return new Tensor(N.lerp(this.handle, end.handle, weight));
  }

  // ---- reductions (dim undefined = all) ----
  sum(dim?: number | number[], keepdim = false): Tensor {
    return new Tensor(N.sum(this.handle, dims(dim), keepdim));
  }
  mean(dim?: number | number[], keepdim = false): Tensor {
    return new Tensor(N.mean(this.handle, dims(dim), keepdim));
  }
  amax(dim?: number | number[], keepdim = false): Tensor {
    return new Tensor(N.amax(this.handle, dims(dim), keepdim));
  }
  amin(dim?: number | number[], keepdim = false): Tensor {
    return new Tensor(N.amin(this.handle, dims(dim), keepdim));
  }
  logsumexp(dim?: number | number[], keepdim = false): Tensor {
    return new Tensor(N.logsumexp(this.handle, dims(dim), keepdim));
  }
  any(dim?: number, keepdim = false): Tensor {
    return new Tensor(N.any(this.handle, dims(dim), keepdim));
  }
  all(dim?: number, keepdim = false): Tensor {
    return new Tensor(N.all(this.handle, dims(dim), keepdim));
  }
  var(dim?: number | number[], unbiased = true, keepdim = false): Tensor {
    return new Tensor(N.var(this.handle, dims(dim), unbiased, keepdim));
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return new Tensor(N.argmax(this.handle, dim ?? null, keepdim));
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return new Tensor(N.argmin(this.handle, dim ?? null, keepdim));
  }
  /** Max along a dim: { values, indices }. */
  max(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    const [v, i] = N.maxDim(this.handle, dim, keepdim);
    return { values: new Tensor(v), indices: new Tensor(i) };
  }
  min(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    const [v, i] = N.minDim(this.handle, dim, keepdim);
    return { values: new Tensor(v), indices: new Tensor(i) };
  }
  topk(k: number, dim = -1, largest = true): { values: Tensor; indices: Tensor } {
    const [v, i] = N.topk(this.handle, k, dim, largest);
    return { values: new Tensor(v), indices: new Tensor(i) };
  }
  sort(dim = -1, descending = false): { values: Tensor; indices: Tensor } {
    const [v, i] = N.sort(this.handle, dim, descending);
    return { values: new Tensor(v), indices: new Tensor(i) };
  }
  cumsum(dim: number): Tensor {
    return new Tensor(N.cumsum(this.handle, dim));
  }
  matmul(o: Tensor): Tensor {
    return new Tensor(N.matmul(this.handle, o.handle));
  }
  bmm(o: Tensor): Tensor {
    return new Tensor(N.bmm(this.handle, o.handle));
  }
  softmax(dim: number): Tensor {
    return new Tensor(N.softmax(this.handle, dim));
  }
  logSoftmax(dim: number): Tensor {
    return new Tensor(N.logSoftmax(this.handle, dim));
  }

  // ---- in place (return this for chaining) ----
  copy_(src: Tensor): this {
    N.copy_(this.handle, src.handle);
    return this;
  }
  fill_(v: number): this {
    N.fill_(this.handle, v);
    return this;
  }
  mul_(v: TensorLike): this {
    N.mul_(this.handle, h(v));
    return this;
  }
  /** this += alpha * v */
  add_(v: TensorLike, alpha = 1): this {
    N.add_(this.handle, h(v), alpha);
    return this;
  }
  lerp_(end: Tensor, weight: number): this {
    N.lerp_(this.handle, end.handle, weight);
    return this;
  }
  uniform_(a: number, b: number): this {
    N.uniform_(this.handle, a, b);
    return this;
  }
  normal_(mean: number, std: number): this {
    N.normal_(this.handle, mean, std);
    return this;
  }
  /** Writes src into this[..., start:start+src.size(dim), ...] along dim. */
  sliceAssign_(dim: number, start: number, src: Tensor): this {
    N.sliceAssign_(this.handle, dim, start, src.handle);
    return this;
  }

  // ---- autograd ----
  get requiresGrad(): boolean {
    return N.requiresGrad(this.handle);
  }
  /** Marks a leaf tensor as a trainable parameter (or not). */
  requiresGrad_(on = true): this {
    N.setRequiresGrad(this.handle, on);
    return this;
  }
  /** The accumulated gradient, or null before any backward(). A new handle sharing the storage. */
  get grad(): Tensor | null {
    const g = N.grad(this.handle);
    return g === null ? null : new Tensor(g);
  }
  backward(grad?: Tensor, retainGraph = false): void {
    N.backward(this.handle, grad?.handle ?? null, retainGraph);
  }
  detach(): Tensor {
    return new Tensor(N.detach(this.handle));
  }
}

function withTemp<R>(handle: Handle, fn: (h: Handle) => R): R {
  try {
    return fn(handle);
  } finally {
    N.free(handle);
  }
}
