// Data-parallel training over a process group, the way PyTorch's DistributedDataParallel does it:
// tensors broadcast from rank 0 at the start, gradients summed over the ranks in buckets after
// backward (each rank having scaled its loss by its share of the global batch, so the sum is the
// gradient of the global batch's mean loss whatever the split).
import * as T from '../torch/index.js';
import type { ProcessGroup } from './group.js';

/** PyTorch DDP's default bucket size: large enough to amortise a collective's latency. */
export const DEFAULT_BUCKET_BYTES = 25 * 1024 * 1024;

const BYTES: Record<string, number> = { float32: 4, float64: 8, float16: 2, bfloat16: 2, int64: 8, int32: 4, uint8: 1, bool: 1 };

/** Consecutive runs of tensors of one dtype, each at most `bucketBytes` (a larger tensor goes alone). */
export function buckets(tensors: T.Tensor[], bucketBytes = DEFAULT_BUCKET_BYTES): T.Tensor[][] {
  const out: T.Tensor[][] = [];
  let cur: T.Tensor[] = [];
  let size = 0;
  for (const t of tensors) {
    const bytes = t.numel * (BYTES[t.dtype] ?? 4);
    if (cur.length > 0 && (size + bytes > bucketBytes || cur[0]!.dtype !== t.dtype)) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(t);
    size += bytes;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** Every rank's tensors become root's, in buckets. */
export function broadcastTensors(group: ProcessGroup, tensors: T.Tensor[], root = 0, bucketBytes = DEFAULT_BUCKET_BYTES): void {
  for (const b of buckets(tensors, bucketBytes)) group.broadcast(b, root);
}

/**
 * Sums the gradients of `params` over the ranks, in place, in buckets. Every parameter must have a
 * gradient on every rank (a parameter unused in a step would give ranks different bucket layouts).
 */
export function allReduceGradients(group: ProcessGroup, params: T.Tensor[], names?: string[], bucketBytes = DEFAULT_BUCKET_BYTES): void {
  T.tidy(() => {
    const grads = params.map((p, i) => {
      const g = p.grad;
      if (!g)
        throw new Error(
          `data-parallel training: parameter ${names?.[i] ?? `#${i}`} got no gradient on rank ${group.rank}; every parameter must take part in every step`,
        );
      return g;
    });
    for (const b of buckets(grads, bucketBytes)) group.allReduce(b, 'sum');
  });
}
