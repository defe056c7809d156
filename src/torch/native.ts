// Loads the libtorch addon (native/) and describes its flat function table. Everything here is
// an opaque handle in, handle out; the Tensor class in tensor.ts gives it types and lifetimes.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { packageRoot } from '../util/package-root.js';

/** Opaque libtorch tensor handle (a type-tagged napi External). */
export type Handle = { readonly __handle: unique symbol };
import type { DType } from '../util/tensor-types.js';
export type { DType };
/** Opaque packed linear weight (fast_ops.cc), released by freePacked. */
export type PackedHandle = { readonly __packed: unique symbol };
type H = Handle;
type Num = H | number;
type Arr = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array;

export interface NativeBinding {
  free(h: H): void;
  isDisposed(h: H): boolean;
  shape(h: H): number[];
  dtype(h: H): DType;
  item(h: H): number | boolean;
  zeros(shape: number[], dtype?: DType): H;
  ones(shape: number[], dtype?: DType): H;
  full(shape: number[], value: number, dtype?: DType): H;
  arange(start: number, end: number, step: number, dtype?: DType): H;
  randn(shape: number[], dtype?: DType): H;
  rand(shape: number[], dtype?: DType): H;
  randint(low: number, high: number, shape: number[], dtype?: DType): H;
  randperm(n: number): H;
  zerosLike(h: H): H;
  onesLike(h: H): H;
  fromArray(data: Arr, shape: number[], dtype?: DType): H;
  toArray(h: H): Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;
  toBytes(h: H): Uint8Array;
  to(h: H, dtype: DType): H;
  clone(h: H): H;
  contiguous(h: H): H;
  reshape(h: H, shape: number[]): H;
  view(h: H, shape: number[]): H;
  permute(h: H, dims: number[]): H;
  transpose(h: H, a: number, b: number): H;
  expand(h: H, shape: number[]): H;
  squeeze(h: H, dim?: number): H;
  unsqueeze(h: H, dim: number): H;
  flatten(h: H, start: number, end: number): H;
  slice(h: H, dim: number, start: number, end?: number, step?: number): H;
  select(h: H, dim: number, index: number): H;
  indexSelect(h: H, dim: number, index: H): H;
  gather(h: H, dim: number, index: H): H;
  scatter(h: H, dim: number, index: H, src: Num): H;
  scatterAdd(h: H, dim: number, index: H, src: H): H;
  indexAdd(h: H, dim: number, index: H, src: H): H;
  cat(hs: H[], dim: number): H;
  stack(hs: H[], dim: number): H;
  split(h: H, size: number | number[], dim: number): H[];
  chunk(h: H, n: number, dim: number): H[];
  repeat(h: H, reps: number[]): H;
  repeatInterleave(h: H, n: number, dim: number): H;
  flip(h: H, dims: number[]): H;
  tril(h: H, diagonal?: number): H;
  triu(h: H, diagonal?: number): H;
  oneHot(h: H, n: number): H;
  where(cond: H, a: Num, b: Num): H;
  maskedFill(h: H, mask: H, value: number): H;
  bincount(h: H, minlength?: number): H;
  add(a: Num, b: Num): H;
  sub(a: Num, b: Num): H;
  mul(a: Num, b: Num): H;
  div(a: Num, b: Num): H;
  pow(a: Num, b: Num): H;
  maximum(a: Num, b: Num): H;
  minimum(a: Num, b: Num): H;
  remainder(a: Num, b: Num): H;
  floorDivide(a: Num, b: Num): H;
  eq(a: Num, b: Num): H;
  ne(a: Num, b: Num): H;
  lt(a: Num, b: Num): H;
  le(a: Num, b: Num): H;
  gt(a: Num, b: Num): H;
  ge(a: Num, b: Num): H;
  logicalAnd(a: Num, b: Num): H;
  logicalOr(a: Num, b: Num): H;
  neg(h: H): H;
  exp(h: H): H;
  log(h: H): H;
  log1p(h: H): H;
  sqrt(h: H): H;
  rsqrt(h: H): H;
  abs(h: H): H;
  sin(h: H): H;
  cos(h: H): H;
  tanh(h: H): H;
  sigmoid(h: H): H;
  relu(h: H): H;
  silu(h: H): H;
  gelu(h: H, tanhApprox?: boolean): H;
  square(h: H): H;
  reciprocal(h: H): H;
  floor(h: H): H;
  ceil(h: H): H;
  round(h: H): H;
  sign(h: H): H;
  erf(h: H): H;
  logicalNot(h: H): H;
  isnan(h: H): H;
  clamp(h: H, min?: number | null, max?: number | null): H;
  lerp(a: H, b: H, w: number): H;
  sum(h: H, dims?: number[] | null, keepdim?: boolean): H;
  mean(h: H, dims?: number[] | null, keepdim?: boolean): H;
  amax(h: H, dims?: number[] | null, keepdim?: boolean): H;
  amin(h: H, dims?: number[] | null, keepdim?: boolean): H;
  logsumexp(h: H, dims?: number[] | null, keepdim?: boolean): H;
  any(h: H, dims?: number[] | null, keepdim?: boolean): H;
  all(h: H, dims?: number[] | null, keepdim?: boolean): H;
  var(h: H, dims?: number[] | null, unbiased?: boolean, keepdim?: boolean): H;
  argmax(h: H, dim?: number | null, keepdim?: boolean): H;
  argmin(h: H, dim?: number | null, keepdim?: boolean): H;
  maxDim(h: H, dim: number, keepdim?: boolean): [H, H];
  minDim(h: H, dim: number, keepdim?: boolean): [H, H];
  topk(h: H, k: number, dim?: number, largest?: boolean): [H, H];
  sort(h: H, dim?: number, descending?: boolean): [H, H];
  cumsum(h: H, dim: number): H;
  matmul(a: H, b: H): H;
  bmm(a: H, b: H): H;
  eigh(a: H, upper?: boolean): [H, H];
  eigvalsh(a: H, upper?: boolean): H;
  choleskyEx(a: H): [H, H];
  copy_(dst: H, src: H): void;
  fill_(h: H, v: number): void;
  mul_(h: H, v: Num): void;
  add_(h: H, v: Num, alpha?: number): void;
  lerp_(h: H, end: H, w: number): void;
  uniform_(h: H, a: number, b: number): void;
  normal_(h: H, mean: number, std: number): void;
  sliceAssign_(h: H, dim: number, start: number, src: H): void;
  softmax(h: H, dim: number): H;
  logSoftmax(h: H, dim: number): H;
  crossEntropy(logits: H, target: H, ignoreIndex?: number, labelSmoothing?: number, reduction?: number): H;
  embedding(weight: H, idx: H): H;
  linear(x: H, w: H, b?: H | null): H;
  conv2d(x: H, w: H, b: H | null | undefined, stride: number[], padding: number[], dilation?: number[], groups?: number): H;
  groupNorm(x: H, groups: number, w: H | null | undefined, b: H | null | undefined, eps: number): H;
  layerNorm(x: H, shape: number[], w: H | null | undefined, b: H | null | undefined, eps: number): H;
  rmsNorm(x: H, w: H | null | undefined, eps: number): H;
  upsampleNearest2d(x: H, factor: number): H;
  interpolateBilinear(x: H, size: number[], alignCorners?: boolean): H;
  avgPool2d(x: H, kernel: number[], stride?: number[], padding?: number[], countIncludePad?: boolean): H;
  maxPool2d(x: H, kernel: number[], stride?: number[], padding?: number[]): H;
  adaptiveAvgPool2d(x: H, size: number[]): H;
  pad(x: H, pads: number[], value?: number): H;
  dropout(x: H, p: number, train: boolean): H;
  sdpa(q: H, k: H, v: H, mask: H | null | undefined, causal: boolean, scale?: number | null, dropoutP?: number, train?: boolean): H;
  multinomial(probs: H, n: number, replacement?: boolean): H;
  searchsorted(sorted: H, values: H, right?: boolean): H;
  seededUniform(seeds: Float64Array, n: number): H;
  cdist(a: H, b: H): H;
  setRequiresGrad(h: H, on: boolean): void;
  requiresGrad(h: H): boolean;
  grad(h: H): H | null;
  zeroGrad(hs: H[]): void;
  backward(h: H, grad?: H | null, retainGraph?: boolean): void;
  detach(h: H): H;
  setGradEnabled(on: boolean): void;
  isGradEnabled(): boolean;
  adamw(
    params: H[],
    expAvg: H[],
    expAvgSq: H[],
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    step: number,
  ): void;
  clipGradNorm(params: H[], maxNorm: number): number;
  manualSeed(seed: number): void;
  getRngState(): Uint8Array;
  setRngState(state: Uint8Array): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  setDevice(name: string): void;
  device(): string;
  cudaDeviceCount(): number;
  setAutocast(dtype: DType | null): DType | null;
  distInit(o: DistInitOptions): GroupHandle;
  distDestroy(g: GroupHandle): void;
  distAllReduce(g: GroupHandle, ts: H[], op?: ReduceOp, timeoutMs?: number): void;
  distBroadcast(g: GroupHandle, ts: H[], root: number, timeoutMs?: number): void;
  distAllGather(g: GroupHandle, t: H, timeoutMs?: number): H[];
  distBarrier(g: GroupHandle, timeoutMs?: number): void;
  distBackends(): DistBackend[];
  packLinear(w: H, kind: 'fp32' | 'int8'): PackedHandle;
  freePacked(p: PackedHandle): void;
  linearInto_(dst: H, x: H, p: PackedHandle, accumulate: boolean): void;
  linearPacked(x: H, p: PackedHandle): H;
  rmsNormInto_(dst: H, x: H, w: H, eps: number): void;
  swigluInto_(dst: H, gateUp: H): void;
  embeddingInto_(dst: H, weight: H, idx: H): void;
  decodeAttention_(qkv: H, cos: H, sin: H, kCache: H, vCache: H, pos: number, out: H, work: H, scale: number): void;
  ropeHeads_(qkv: H, cos: H, sin: H, start: number, q: H, k: H, v: H): void;
  versionSum(hs: H[]): number;
}

/** Opaque c10d process-group handle. */
export type GroupHandle = { readonly __group: unique symbol };
export type ReduceOp = 'sum' | 'avg' | 'max' | 'min';
export type DistBackend = 'gloo' | 'nccl';
/** How a process joins a group (see src/dist/group.ts). */
export interface DistInitOptions {
  store: 'tcp' | 'file';
  /** TCPStore address; rank `storeServer` hosts it */
  host?: string;
  port?: number;
  storeServer?: boolean;
  /** FileStore file (one machine) */
  path?: string;
  /** key prefix inside a shared store (torchrun's agent store) */
  prefix?: string;
  /** who hosts the store, for error messages (e.g. 'rank 0') */
  storeHost?: string;
  rank: number;
  size: number;
  backend: DistBackend;
  timeoutMs: number;
  /** Gloo's network interface (GLOO_SOCKET_IFNAME) or the address to bind */
  glooInterface?: string;
  glooHostname?: string;
}

function loadBinding(): NativeBinding {
  const addon = `${packageRoot}/native/build/Release/ctfgen_torch.node`;
  if (!existsSync(addon)) {
    throw new Error(
      `ctfgen: the libtorch addon is not built (${addon} is missing). ` +
        'Install libtorch (apt-get install libtorch-dev libopenblas0-openmp) and run `npm run build:native`.',
    );
  }
  // OpenMP threads that spin while waiting slow everything down 2-3x as soon as another process
  // shares the cores (measured: 3.4 s vs 1.5 s per VQ training step with two jobs on 2 cores);
  // passive waiting costs nothing when alone. libgomp reads this when the addon loads it.
  process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
  const require = createRequire(import.meta.url);
  return require(addon) as NativeBinding;
}

export const N: NativeBinding = loadBinding();

/**
 * Intra-op threads: CTFGEN_THREADS, else the cores shared out among the processes of this machine
 * (LOCAL_WORLD_SIZE, set by `ctfgen launch` and torchrun), else every core (libtorch's own default
 * here was 1).
 */
export function defaultThreadCount(): number {
  const env = process.env.CTFGEN_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new Error(`CTFGEN_THREADS must be a positive integer, got '${env}'`);
    return n;
  }
  const local = Number(process.env.LOCAL_WORLD_SIZE);
  const share = Number.isInteger(local) && local > 1 ? local : 1;
  return Math.max(1, Math.floor(availableParallelism() / share));
}

N.setNumThreads(defaultThreadCount());
