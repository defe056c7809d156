// GPT decode benchmark against Python PyTorch on the same machine: prefill + KV-cache decode of a
// LlamaGen GPT-B (random weights) for a batch of 8 classes with CFG on (the batch runs as
// [cond; uncond], 16 rows), one full block of 256 tokens: the prefill yields token 0, then 255
// cached steps. Greedy (argmax) tokens, so both sides do identical work; the PyTorch side
// (gpt_decode_ref.py, LlamaGen's GPT in plain torch) runs on the very weights and classes exported
// from here, and the two token maps are compared. One timed run each side after a short warm-up
// (GPT-B is ~51 GFLOP per image and row, heavy on a small CPU). Target: ours/PyTorch ≤ 1.1x.
// --device cuda runs both sides on the GPU (scripts/gpu-check.sh).
//   run: npx tsc -p tsconfig.json && node dist/bench/gpt-decode.js [--quick] [--size B|L|...] [--batch 8] [--device cuda]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '../src/torch/index.js';
import { GPT } from '../src/models/gpt.js';
import { gptConfigForSize, type GPTConfig, type GPTSize } from '../src/models/gpt-config.js';
import { generate } from '../src/models/generate.js';
import { ratio, runPythonBench } from './python.js';
import { argValue, printTable, writeTensors } from './shared-tensors.js';

interface Ref {
  prefill_ms: number;
  total_ms: number;
  tokens: number[];
  threads: number;
  torch: string;
}

const quick = process.argv.includes('--quick');
const size = (argValue('--size') ?? 'B') as GPTSize;
const batch = Number(argValue('--batch') ?? (quick ? 2 : 8));
const cfgScale = 2.0;
const config: GPTConfig = quick
  ? { dim: 64, nLayer: 2, nHead: 2, vocabSize: 512, numClasses: 10, blockSize: 16 }
  : gptConfigForSize(size, { vocabSize: 16384, numClasses: 1000, blockSize: 256 });
const numTokens = config.blockSize;
const warmTokens = quick ? 4 : 8;

const device = argValue('--device') ?? 'cpu';
T.setDevice(device);
process.env.CTFGEN_BENCH_DEVICE = device;
T.manualSeed(0);
const model = new GPT(config).eval();
// LlamaGen zero-initialises the head; random logits make the argmax tokens vary (and comparable)
T.noGrad(() => model.output.weight.normal_(0, 0.02));
const classes = T.keep(T.randint(0, model.config.numClasses, [batch]));
const params = model.parameterCount();
console.log(
  `GPT${quick ? ' (quick: tiny)' : `-${size}`} decode: dim ${model.config.dim}, ${model.config.nLayer} layers, ${model.config.nHead} heads, ` +
    `vocab ${model.config.vocabSize}, ${(params / 1e6).toFixed(1)}M params; batch ${batch} × CFG ${cfgScale} (${2 * batch} rows), ` +
    `prefill + ${numTokens - 1} cached steps = ${numTokens} tokens/image, greedy; ${device === 'cpu' ? `${T.getNumThreads()} threads` : device}; one timed run after a ${warmTokens}-token warm-up`,
);

function oursOnce(n: number): { prefillMs: number; totalMs: number; tokens: number[] } {
  let tPrefill = 0;
  const t0 = performance.now();
  const tokens = T.tidy(() =>
    generate(model, classes, {
      cfg: cfgScale,
      greedy: true,
      numTokens: n,
      onStep: (s) => {
        if (s === 1) tPrefill = performance.now();
      },
    }).toArray(),
  );
  const t1 = performance.now();
  return { prefillMs: tPrefill - t0, totalMs: t1 - t0, tokens };
}

const dir = mkdtempSync(join(tmpdir(), 'ctfgen-decode-bench-'));
try {
  writeTensors(dir, 'gpt', [...model.namedParameters(), ['data.classes', classes]], { config: model.config });
  oursOnce(warmTokens);
  const ours = oursOnce(numTokens);
  const ref = runPythonBench<Ref>('gpt_decode_ref.py', [dir, String(warmTokens), String(cfgScale), String(numTokens)]);

  const stepMs = (r: { prefill: number; total: number }) => (r.total - r.prefill) / (numTokens - 1);
  const o = { prefill: ours.prefillMs, total: ours.totalMs };
  const p = ref ? { prefill: ref.prefill_ms, total: ref.total_ms } : undefined;
  const row = (name: string, r: { prefill: number; total: number }) => [
    name,
    r.prefill.toFixed(1),
    stepMs(r).toFixed(1),
    (r.total / 1e3).toFixed(2),
    (batch / (r.total / 1e3)).toFixed(3),
    ((batch * numTokens) / (r.total / 1e3)).toFixed(1),
  ];
  const rows = [['', 'prefill ms', 'decode ms/step', 'total s', 'images/s', 'tokens/s'], row('ours', o)];
  if (p) {
    rows.push(row(`PyTorch ${ref!.torch}`, p));
    rows.push(['ours/PyTorch (time)', ratio(o.prefill, p.prefill), ratio(stepMs(o), stepMs(p)), ratio(o.total, p.total), '', '']);
  }
  printTable(rows);
  if (ref) {
    const same = ours.tokens.filter((t, i) => t === ref.tokens[i]).length;
    console.log(`PyTorch threads ${ref.threads}; tokens identical: ${same}/${ours.tokens.length}`);
    console.log(`total ours/PyTorch: ${ratio(o.total, p!.total)} (target ≤ 1.10x)`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  classes.dispose();
  model.dispose();
}
