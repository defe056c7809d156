// GPT decode benchmark against Python PyTorch on the same machine: prefill + KV-cache decode of a
// LlamaGen GPT-B (random weights) for a batch of 8 classes with CFG on (the batch runs as
// [cond; uncond], 16 rows), one full block of 256 tokens: the prefill yields token 0, then 255
// cached steps. Greedy (argmax) tokens, so both sides do identical work; the PyTorch side
// (gpt_decode_ref.py, LlamaGen's GPT in plain torch) runs on the very weights and classes exported
// from here, and the token maps are compared.
// Rows: ours on the packed path (fp32, the default), PyTorch, ours on the module path (the
// reference the packed path replaced) and ours with int8 packed weights. The packed path, PyTorch
// (a session that loads once, bench/python-session.ts) and int8 take turns for --reps rounds; the
// table shows each one's median run, and the ratios are medians over the rounds of each run
// against the PyTorch run beside it, so a busy moment on the shared machine hits both sides of a
// ratio alike. The module path runs once (its ratio is indicative). Runs are timed after a short
// warm-up.
// Roofline: the bench measures this machine's matmul peak and memory bandwidth in the same run
// (bench/roofline.ts) and prints each decode step as a fraction of the floor they allow
// (weights + the KV cache read at that step, against 2 FLOPs per weight and row).
// Targets: packed fp32 / PyTorch per-step time ≤ 0.5 with identical tokens (stretch ≤ 0.35).
//   run: npx tsc -p tsconfig.json && node dist/bench/gpt-decode.js [--quick] [--size B|L|...] [--batch 8] [--reps 3] [--profile]
// --profile adds a per-op profile of one step at position 128 (ours op by op; PyTorch's from
// torch.profiler).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '../src/torch/index.js';
import { GPT } from '../src/models/gpt.js';
import { PackedGPT, embedRows, type PackedWeights } from '../src/models/gpt-packed.js';
import { ffnHidden, gptConfigForSize, type GPTConfig, type GPTSize } from '../src/models/gpt-config.js';
import { generate } from '../src/models/generate.js';
import { ratio } from './python.js';
import { startPythonSession } from './python-session.js';
import { bestRoofline, describeRoofline, floorMs, measureRoofline, type Roofline } from './roofline.js';
import { argValue, median, printTable, writeTensors } from './shared-tensors.js';

interface OpTime {
  op: string;
  ms: number;
  calls: number;
}

const quick = process.argv.includes('--quick');
const profile = process.argv.includes('--profile');
const size = (argValue('--size') ?? 'B') as GPTSize;
const batch = Number(argValue('--batch') ?? (quick ? 2 : 8));
const reps = Number(argValue('--reps') ?? 3);
const cfgScale = 2.0;
const config: GPTConfig = quick
  ? { dim: 64, nLayer: 2, nHead: 2, vocabSize: 512, numClasses: 10, blockSize: 16 }
  : gptConfigForSize(size, { vocabSize: 16384, numClasses: 1000, blockSize: 256 });
const numTokens = config.blockSize;
const warmTokens = quick ? 4 : 8;
const rows = 2 * batch;

// --device cuda runs both sides on the GPU (scripts/gpu-check.sh); the packed path is CPU code, so
// there the module path is what is measured
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
    `vocab ${model.config.vocabSize}, ${(params / 1e6).toFixed(1)}M params; batch ${batch} × CFG ${cfgScale} (${rows} rows), ` +
    `prefill + ${numTokens - 1} cached steps = ${numTokens} tokens/image, greedy; ${T.getNumThreads()} threads; timed after a ${warmTokens}-token warm-up`,
);

/** FLOPs and bytes of one cached step attending over `keys` positions (linear weights streamed once, the KV cache read once). */
function stepWork(keys: number): { flops: number; bytes: number } {
  const c = model.config;
  const hd = c.dim / c.nHead;
  const perLayer = c.dim * (c.nHead + 2 * c.nKvHead) * hd + c.dim * c.dim + 3 * c.dim * ffnHidden(c);
  const linear = c.nLayer * perLayer + c.dim * c.vocabSize;
  const attention = c.nLayer * rows * c.nHead * hd * keys * 4;
  const kv = c.nLayer * rows * c.nKvHead * hd * keys * 2 * 4;
  return { flops: 2 * rows * linear + attention, bytes: 4 * linear + kv };
}
/** The roofline's floor for the average cached step of the run (positions 1..numTokens-1). */
function decodeFloorMs(r: Roofline): number {
  let sum = 0;
  for (let pos = 1; pos < numTokens; pos++) {
    const w = stepWork(pos + 1);
    sum += floorMs(r, w.flops, w.bytes);
  }
  return sum / (numTokens - 1);
}

interface Run {
  prefill: number;
  total: number;
  tokens: number[];
}
function oursOnce(n: number, setup: { path: 'packed' | 'modules'; weights: PackedWeights }): Run {
  model.inferencePath = setup.path;
  model.packedWeights = setup.weights;
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
  return { prefill: tPrefill - t0, total: t1 - t0, tokens };
}
const oursRun = (setup: { path: 'packed' | 'modules'; weights: PackedWeights }): Run => {
  oursOnce(warmTokens, setup);
  return oursOnce(numTokens, setup);
};
/** The run of median total time. */
const medianRun = (runs: Run[]): Run => {
  const m = median(runs.map((r) => r.total));
  return runs.find((r) => r.total === m)!;
};

/** Milliseconds per op kind of one packed step at `pos` (median of 5 steps). */
function oursProfile(pos: number): OpTime[] {
  const packed = new PackedGPT(model, 'fp32');
  const cache = model.newCache(rows);
  const runs: Map<string, { ms: number; calls: number }>[] = [];
  try {
    T.noGrad(() =>
      T.tidy(() => {
        const tokens = T.randint(0, model.config.vocabSize, [rows]);
        for (let i = 0; i < 7; i++) {
          const ops = new Map<string, { ms: number; calls: number }>();
          T.tidy(
            () =>
              void packed.step(cache, pos, embedRows(model.tokEmbeddings.weight, tokens), (op, fn) => {
                const t0 = performance.now();
                fn();
                const e = ops.get(op) ?? { ms: 0, calls: 0 };
                ops.set(op, { ms: e.ms + performance.now() - t0, calls: e.calls + 1 });
              }),
          );
          if (i >= 2) runs.push(ops);
        }
      }),
    );
  } finally {
    cache.dispose();
    packed.dispose();
  }
  return [...runs[0]!.keys()].map((op) => {
    const ms = runs.map((r) => r.get(op)!.ms).sort((a, b) => a - b)[2]!;
    return { op, ms, calls: runs[0]!.get(op)!.calls };
  });
}

function printProfile(title: string, ops: OpTime[]): void {
  const total = ops.reduce((a, o) => a + o.ms, 0);
  console.log(`\n${title}: ${total.toFixed(1)} ms`);
  printTable([
    ['op', 'calls', 'ms', 'share'],
    ...ops.map((o) => [o.op, String(o.calls), o.ms.toFixed(2), `${((100 * o.ms) / total).toFixed(0)}%`]),
  ]);
}

const dir = mkdtempSync(join(tmpdir(), 'ctfgen-decode-bench-'));
try {
  writeTensors(dir, 'gpt', [...model.namedParameters(), ['data.classes', classes]], { config: model.config });
  const py = await startPythonSession('gpt_decode_ref.py', [dir, String(warmTokens), String(cfgScale), String(numTokens)]);
  const fp32 = { path: 'packed', weights: 'fp32' } as const;
  const roofs = [measureRoofline()];
  const packedRuns: Run[] = [];
  const refRuns: Run[] = [];
  const int8Runs: Run[] = [];
  for (let i = 0; i < reps; i++) {
    packedRuns.push(oursRun(fp32));
    if (py) {
      const r = await py.request('run');
      refRuns.push({ prefill: r.prefill_ms as number, total: r.total_ms as number, tokens: r.tokens as number[] });
    }
    int8Runs.push(oursRun({ path: 'packed', weights: 'int8' }));
    if (i === 0) roofs.push(measureRoofline());
  }
  const refProfile = py && profile ? ((await py.request('profile')).profile as OpTime[]) : null;
  await py?.close();
  const modules = oursRun({ path: 'modules', weights: 'fp32' });
  roofs.push(measureRoofline());
  const roof = roofs.reduce(bestRoofline);
  model.inferencePath = 'packed';
  model.packedWeights = 'fp32';

  const packed = medianRun(packedRuns);
  const int8 = medianRun(int8Runs);
  const p = py ? medianRun(refRuns) : undefined;
  const stepMs = (r: { prefill: number; total: number }) => (r.total - r.prefill) / (numTokens - 1);
  const floor = decodeFloorMs(roof);
  const row = (name: string, r: { prefill: number; total: number }) => [
    name,
    r.prefill.toFixed(1),
    stepMs(r).toFixed(1),
    `${((100 * floor) / stepMs(r)).toFixed(0)}%`,
    (r.total / 1e3).toFixed(2),
    (batch / (r.total / 1e3)).toFixed(3),
    ((batch * numTokens) / (r.total / 1e3)).toFixed(1),
  ];
  const table = [
    ['', 'prefill ms', 'decode ms/step', 'of roofline', 'total s', 'images/s', 'tokens/s'],
    row('ours, packed fp32', packed),
    row('ours, packed int8', int8),
    row('ours, module path', modules),
  ];
  if (p) table.push(row(`PyTorch ${String(py!.ready.torch)}`, p));
  printTable(table);
  const same = (a: number[], b: number[]) => `${a.filter((t, i) => t === b[i]).length}/${a.length}`;
  console.log(
    `roofline (measured in this run): ${describeRoofline(roof)}; floor of the average cached step ${floor.toFixed(1)} ms ` +
      `(${(stepWork(numTokens / 2).bytes / 1e6).toFixed(0)} MB read, ${(stepWork(numTokens / 2).flops / 1e9).toFixed(2)} GFLOP at mid-sequence)`,
  );
  console.log(
    `tokens: module path vs packed fp32 identical ${same(modules.tokens, packed.tokens)}; int8 vs fp32 identical ${same(int8.tokens, packed.tokens)}`,
  );
  if (p) {
    console.log(
      `PyTorch threads ${String(py!.ready.threads)}; tokens identical (packed fp32 vs PyTorch): ${same(packed.tokens, p.tokens)}`,
    );
    const runs = (rs: Run[]) => rs.map((r) => stepMs(r).toFixed(1)).join(', ');
    console.log(`ms per cached step, round by round: packed fp32 ${runs(packedRuns)}; PyTorch ${runs(refRuns)}; int8 ${runs(int8Runs)}`);
    const paired = (rs: Run[], f: (r: Run) => number) => `${median(rs.map((r, i) => f(r) / f(refRuns[i]!))).toFixed(2)}x`;
    console.log(
      `per cached step, ours/PyTorch (median over rounds): packed fp32 ${paired(packedRuns, stepMs)} (target ≤ 0.50x, stretch ≤ 0.35x), ` +
        `int8 ${paired(int8Runs, stepMs)}; module path (one run) ${ratio(stepMs(modules), stepMs(p))}; ` +
        `whole generation, packed fp32: ${paired(packedRuns, (r) => r.total)}`,
    );
  }
  if (profile) {
    const pos = Math.min(128, numTokens - 1);
    printProfile(`per-op profile of one packed fp32 step at position ${pos}`, oursProfile(pos));
    if (refProfile) printProfile(`PyTorch, one step at position ${pos} (torch.profiler self CPU time, the top ops)`, refProfile);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  classes.dispose();
  model.dispose();
}
