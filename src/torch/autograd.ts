// Gradient mode and parameter-gradient utilities.
import { N } from './native.js';
import type { Tensor } from './tensor.js';

/** Runs fn with gradient recording off (inference, evaluation, optimizer maths). */
export function noGrad<R>(fn: () => R): R {
  const prev = N.isGradEnabled();
  N.setGradEnabled(false);
  try {
    return fn();
  } finally {
    N.setGradEnabled(prev);
  }
}
export const isGradEnabled = (): boolean => N.isGradEnabled();
/** Drops the accumulated gradients (set to none, as PyTorch's zero_grad(set_to_none=True)). */
export const zeroGrad = (params: Tensor[]): void => N.zeroGrad(params.map((p) => p.handle));
/** Scales gradients to a global l2 norm of at most maxNorm; returns the norm before clipping. */
export const clipGradNorm = (params: Tensor[], maxNorm: number): number =>
  N.clipGradNorm(
    params.map((p) => p.handle),
    maxNorm,
  );
