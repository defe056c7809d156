// This machine's roofline as the running process sees it: float32 matmul throughput (1024³, the
// compute peak libtorch reaches here) and memory read bandwidth (a sum over a 256 MB tensor, far
// beyond the caches). Benchmarks report a time as the fraction of the floor these allow:
// floor = max(FLOPs / peak, bytes / bandwidth). The machine is shared, so both are measured in the
// same run as the times they judge.
import * as T from '../src/torch/index.js';
import { timeMs } from './python.js';

export interface Roofline {
  /** float32 matmul GFLOP/s */
  gflops: number;
  /** read bandwidth, GB/s */
  gbps: number;
}

export function measureRoofline(): Roofline {
  return T.tidy(() => {
    const a = T.randn([1024, 1024]);
    const b = T.randn([1024, 1024]);
    const mm = timeMs(() => T.tidy(() => void a.matmul(b)), 7);
    const big = T.ones([64 * 1024 * 1024]);
    const sum = timeMs(() => T.tidy(() => void big.sum()), 5);
    return { gflops: (2 * 1024 ** 3) / (mm / 1e3) / 1e9, gbps: (big.numel * 4) / (sum / 1e3) / 1e9 };
  });
}

/** The better of two measurements (the machine's capacity, not its worst moment). */
export const bestRoofline = (a: Roofline, b: Roofline): Roofline => ({
  gflops: Math.max(a.gflops, b.gflops),
  gbps: Math.max(a.gbps, b.gbps),
});

/** Milliseconds the roofline allows for work of `flops` floating-point operations over `bytes` of memory. */
export const floorMs = (r: Roofline, flops: number, bytes: number): number => Math.max(flops / (r.gflops * 1e6), bytes / (r.gbps * 1e6));

export const describeRoofline = (r: Roofline): string => `matmul ${r.gflops.toFixed(0)} GFLOP/s, memory read ${r.gbps.toFixed(1)} GB/s`;
