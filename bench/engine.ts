// Engine benchmark against Python PyTorch on the same machine, printed as ratios from one run:
// matmul 1024³ throughput, per-op call overhead of a small add, and forward+backward of a
// LlamaGen transformer block (dim 384, 6 heads, seq 256, batch 8).
// Targets: block within 1.2x of PyTorch; under 5 µs per op.
import * as T from '../src/torch/index.js';
import { TransformerBlock } from '../src/models/gpt.js';
import { resolveGPTConfig } from '../src/models/gpt-config.js';
import { ropeTable2d } from '../src/models/rope2d.js';
import { ratio, runPythonBench, timeMs } from './python.js';

interface Ref {
  matmul_ms: number;
  add_us: number;
  block_ms: number;
  threads: number;
}

T.manualSeed(0);
const a = T.keep(T.randn([1024, 1024]));
const b = T.keep(T.randn([1024, 1024]));
const mm = timeMs(() => T.tidy(() => void a.matmul(b)), 10);

const x = T.keep(T.randn([4]));
const y = T.keep(T.randn([4]));
const n = 20000;
T.tidy(() => {
  for (let i = 0; i < 1000; i++) x.add(y);
});
const t0 = process.hrtime.bigint();
T.tidy(() => {
  for (let i = 0; i < n; i++) x.add(y).dispose();
});
const addUs = Number(process.hrtime.bigint() - t0) / 1e3 / n;

const [D, H, S, B] = [384, 6, 256, 8];
const c = resolveGPTConfig({ dim: D, nLayer: 1, nHead: H, vocabSize: 2, numClasses: 1, blockSize: S, residDropout: 0, ffnDropout: 0 });
const block = new TransformerBlock(c);
const table = ropeTable2d(16, D / H, 10000, 0);
const rope = { cos: T.keep(table.cos), sin: T.keep(table.sin) };
const xin = T.keep(T.randn([B, S, D]));
const params = block.parameters();
const blockMs = timeMs(
  () =>
    T.tidy(() => {
      block.forward(xin, rope).square().mean().backward();
      T.zeroGrad(params);
    }),
  5,
);

const ref = runPythonBench<Ref>('engine_ref.py');
const gflops = (ms: number) => (2 * 1024 ** 3) / (ms / 1e3) / 1e9;
console.log(`threads: ours ${T.getNumThreads()}, PyTorch ${ref?.threads ?? 'n/a'}`);
console.log(
  `matmul 1024³:       ours ${gflops(mm).toFixed(1)} GFLOP/s | PyTorch ${ref ? gflops(ref.matmul_ms).toFixed(1) : 'n/a'} GFLOP/s | time ratio ${ratio(mm, ref?.matmul_ms)}`,
);
console.log(
  `small add overhead: ours ${addUs.toFixed(2)} µs/op | PyTorch ${ref ? ref.add_us.toFixed(2) : 'n/a'} µs/op | ratio ${ratio(addUs, ref?.add_us)} (target < 5 µs)`,
);
console.log(
  `block fwd+bwd:      ours ${blockMs.toFixed(1)} ms | PyTorch ${ref ? ref.block_ms.toFixed(1) : 'n/a'} ms | ratio ${ratio(blockMs, ref?.block_ms)} (target ≤ 1.2x)`,
);
