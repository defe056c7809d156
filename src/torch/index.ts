// ctfgen's tensor engine: libtorch through the native addon, typed and scoped for TypeScript.
export { Tensor, type TensorLike, type DType } from './tensor.js';
export { tidy, keep, dispose, scopeDepth } from './scope.js';
export * from './create.js';
export * from './functional.js';
export * from './autograd.js';
export * from './random.js';
export * from './fast.js';
export { defaultThreadCount } from './native.js';
import { N } from './native.js';
export const setNumThreads = (n: number): void => N.setNumThreads(n);
export const getNumThreads = (): number => N.getNumThreads();
export { fromRaw, toRaw, tensorsFromRaw, tensorsToRaw } from './raw.js';
export { setDevice, currentDevice, cudaDeviceCount, withPrecision, currentPrecision, PRECISIONS, type Precision } from './device.js';
