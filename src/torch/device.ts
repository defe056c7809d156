// Where new tensors live (cpu, cuda, cuda:N) and the precision forward passes run in. Creation ops
// and copy-in use the current device; copy-out goes through the CPU; random draws are made on the
// CPU from the same generator whatever the device, so a seed draws the same numbers everywhere.
import { N } from './native.js';

/** `fp32`: everything in float32. `bf16`: libtorch autocast (matmuls and convolutions in bfloat16,
 * reductions and losses in float32) while weights and optimizer state stay float32. */
export type Precision = 'fp32' | 'bf16';
export const PRECISIONS: readonly Precision[] = ['fp32', 'bf16'];

/** Makes `name` (cpu, cuda, cuda:N) the device of every tensor created from now on. */
export function setDevice(name: string): void {
  N.setDevice(name);
}
/** The current device, e.g. 'cpu' or 'cuda:0'. */
export const currentDevice = (): string => N.device();
/** CUDA devices this addon can use (0 for a libtorch without CUDA, like Debian's). */
export const cudaDeviceCount = (): number => N.cudaDeviceCount();

let precisionNow: Precision = 'fp32';
/** The precision forward passes run in now (withPrecision). */
export const currentPrecision = (): Precision => precisionNow;

/** Runs fn with forward ops in the given precision (autocast for bf16), restoring the previous one. */
export function withPrecision<R>(precision: Precision | undefined, fn: () => R): R {
  if (precision === undefined || precision === 'fp32') return fn();
  const prev = N.setAutocast('bfloat16');
  const prevPrecision = precisionNow;
  precisionNow = precision;
  try {
    return fn();
  } finally {
    N.setAutocast(prev);
    precisionNow = prevPrecision;
  }
}
