// VQ-16 decode benchmark against Python PyTorch on the same machine: one 16x16 code map (batch 1)
// → a 256x256 image through LlamaGen's VQ-16 decoder with random weights. The PyTorch side
// (vq-decode_ref.py, plain torch.nn.functional) runs on the very weights and codes exported from
// here, so the two outputs are compared too. Both use the same thread count (CTFGEN_THREADS or
// every core) and, unless VQ_BENCH_STOCK_MALLOC=1, the same glibc allocator policy. Runs
// alternate ours / PyTorch, so background load hits both alike; the ratio is of the medians.
// Target: ours/PyTorch ≤ 1.1x.
//   run: npx tsc -p tsconfig.json && node dist/bench/vq-decode.js   (VQ_BENCH_REPS, default 5)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '../src/torch/index.js';
import { VQModel } from '../src/tokenizer/vq-model.js';
import { VQ_16 } from '../src/tokenizer/vq-config.js';
import { ratio } from './python.js';
import { startPythonSession } from './python-session.js';

const reps = Number(process.env.VQ_BENCH_REPS ?? 5);
const warmup = 1;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

T.manualSeed(0);
const model = new VQModel(VQ_16).eval();
const codes = T.keep(T.randint(0, VQ_16.codebookSize, [1, 16, 16]));
const decoderParams = model.namedParameters().filter(([k]) => k.startsWith('decoder.') || k.startsWith('post_quant_conv.'));
console.log(
  `VQ-16 decode, 16x16 codes → 256x256 image, batch 1; decoder ${(decoderParams.reduce((n, [, p]) => n + p.numel, 0) / 1e6).toFixed(1)}M params, ` +
    `${T.getNumThreads()} threads, median of ${reps} alternating runs after ${warmup} warm-up`,
);

let image: Float32Array = new Float32Array();
function oursOnce(): number {
  const t0 = process.hrtime.bigint();
  T.noGrad(() =>
    T.tidy(() => {
      image = model.decodeCodes(codes).toFloat32Array();
    }),
  );
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

// Export what the PyTorch side needs: decoder weights, the codebook, the codes.
const dir = mkdtempSync(join(tmpdir(), 'ctfgen-vq-bench-'));
try {
  const exported: [string, T.Tensor][] = [...decoderParams, ['quantize.embedding.weight', model.quantizer.embedding.weight]];
  let offset = 0;
  const index = exported.map(([name, t]) => {
    const e = { name, shape: t.shape, offset };
    offset += t.numel * 4;
    return e;
  });
  const blob = Buffer.alloc(offset);
  exported.forEach(([, t], i) => blob.set(t.toBytes(), index[i]!.offset));
  writeFileSync(join(dir, 'weights.bin'), blob);
  writeFileSync(join(dir, 'codes.bin'), codes.toBytes());
  writeFileSync(join(dir, 'weights.json'), JSON.stringify({ config: model.config, codes_shape: codes.shape, tensors: index }));

  const ours: number[] = [];
  const theirs: number[] = [];
  // the same allocator policy as our addon unless VQ_BENCH_STOCK_MALLOC=1: then glibc's default,
  // as a plain `python3` run gets
  const stock = process.env.VQ_BENCH_STOCK_MALLOC === '1';
  const py = await startPythonSession('vq-decode_ref.py', [dir, String(warmup)], stock ? 'stock' : 'ours');
  for (let i = 0; i < warmup; i++) oursOnce();
  if (!py) for (let i = 0; i < reps; i++) ours.push(oursOnce());
  else {
    console.log(`PyTorch side: ${stock ? "glibc's default allocator policy" : 'the same allocator policy as ours (MALLOC_MMAP_MAX_=0)'}`);
    for (let i = 0; i < reps; i++) {
      ours.push(oursOnce());
      theirs.push((await py.request('run')).ms as number);
    }
    await py.close('end');
    const ref = new Float32Array(readFileSync(join(dir, 'decoded_torch.bin')).buffer.slice(0));
    let err = ref.length === image.length ? 0 : Infinity;
    for (let i = 0; i < image.length && err !== Infinity; i++) err = Math.max(err, Math.abs(image[i]! - ref[i]!));
    console.log(
      `PyTorch: ${median(theirs).toFixed(0)} ms (torch ${String(py.ready.torch)}, ${String(py.ready.threads)} threads; runs ${theirs.map((x) => x.toFixed(0)).join(', ')})`,
    );
    console.log(`outputs differ by at most ${err.toExponential(2)}`);
  }
  console.log(`ours:    ${median(ours).toFixed(0)} ms (runs ${ours.map((x) => x.toFixed(0)).join(', ')})`);
  if (theirs.length) console.log(`ours/PyTorch: ${ratio(median(ours), median(theirs))} (target ≤ 1.10x)`);
} finally {
  model.dispose();
  codes.dispose();
  rmSync(dir, { recursive: true, force: true });
}
