// Sampling throughput of CTF against the fine-token baseline at equal stage-1 size, on this
// machine, stage by stage, with random-weight models at the Fashion-MNIST study sizes:
//   stage 1: GPT dim 128, 4 layers, 4 heads, 64 tokens (8x8), 10 classes, over 128 coarse labels
//            (CTF) or 4096 fine codes (baseline); KV cache, CFG 2.0, τ 1.1, top-k all;
//   stage 2 (CTF only): the same GPT size with full attention, reading the 128 coarse labels and
//            predicting the 4096 codes in one pass, restricted to the sampled label's members;
//   decode: the study's VQ tokenizer (codebook 4096 x 8, ch 32, ch_mult [1, 2, 2]) → 32x32 images.
// Each system runs with fp32 and with int8 packed weights (--weights int8 of `ctfgen sample`: the
// linear layers of the cached decode, i.e. stage 1; stage 2's one-pass forward stays fp32), the
// four pipelines alternating run by run so background load hits all alike.
// Also stage 1's KV-cache path against recomputing the whole prefix every step (useCache: false).
// --size B: the paper's setting instead, GPT-B stages (dim 768, 12 layers) over 16x16 tokens with
// V = 16384 codes and K = 512 coarse labels, 1000 classes, LlamaGen's VQ-16 decoder (256x256
// images), batch 8; the recompute comparison is skipped there (hours).
// Ours only; ratios are CTF / baseline. Medians of several runs after a warm-up.
//   run: npx tsc -p tsconfig.json && node dist/bench/sampling.js [--quick] [--reps 3] [--size B [--batch 8]]
import * as T from '../src/torch/index.js';
import { GPT } from '../src/models/gpt.js';
import { GPT_SIZES, type GPTConfig } from '../src/models/gpt-config.js';
import { generate } from '../src/models/generate.js';
import { SAMPLING_DEFAULTS, codeClusters, sampleTokens, type TokenModels } from '../src/ctf/index.js';
import type { PackedWeights } from '../src/models/gpt-packed.js';
import { imageUniforms } from '../src/sample/seeds.js';
import { VQModel } from '../src/tokenizer/vq-model.js';
import { VQ_16 } from '../src/tokenizer/vq-config.js';
import { argValue, median, printTable } from './shared-tensors.js';

const quick = process.argv.includes('--quick');
const paperSize = argValue('--size') === 'B';
const reps = Number(argValue('--reps') ?? (quick || paperSize ? 1 : 3));
const recomputeReps = 1; // the recompute path is slow by design: one run
const batch = Number(argValue('--batch') ?? (quick ? 4 : paperSize ? 8 : 100));
const grid = quick ? 4 : paperSize ? 16 : 8;
const size = quick ? { dim: 64, nLayer: 2, nHead: 2 } : paperSize ? GPT_SIZES.B : { dim: 128, nLayer: 4, nHead: 4 };
const [K, V, numClasses] = paperSize ? [512, 16384, 1000] : [128, 4096, 10];
const cfgScale = SAMPLING_DEFAULTS.cfg;

T.manualSeed(0);
const common: GPTConfig = { ...size, numClasses, blockSize: grid * grid, vocabSize: V };
/** A random-weight GPT; the zero-initialised head gets random weights too, so the draws are not uniform. */
const gpt = (c: GPTConfig) => {
  const m = new GPT(c).eval();
  T.noGrad(() => m.output.weight.normal_(0, 0.02));
  return m;
};
const ctf: Extract<TokenModels, { kind: 'ctf' }> = {
  kind: 'ctf',
  stage1: gpt({ ...common, vocabSize: K }),
  stage2: gpt({ ...common, vocabSize: V, inputVocabSize: K, attention: 'full' }),
  clusters: codeClusters(T.randint(0, K, [V]).toInt32Array(), K),
};
const baseline: Extract<TokenModels, { kind: 'baseline' }> = { kind: 'baseline', baseline: gpt(common) };
const vq = new VQModel(
  paperSize
    ? VQ_16
    : {
        codebookSize: V,
        codebookDim: 8,
        ch: 32,
        chMult: [1, 2, 2],
        zChannels: 64,
        numResBlocks: 1,
        inChannels: 1,
      },
).eval();
const classes = T.keep(T.randint(0, numClasses, [batch]));

console.log(
  `Sampling${quick ? ' (quick: tiny)' : ''}: batch ${batch}, CFG ${cfgScale}, τ ${SAMPLING_DEFAULTS.temperature}, ${grid * grid} tokens (${grid}x${grid}) → ` +
    `${grid * vq.downsampleFactor}x${grid * vq.downsampleFactor} images; GPTs dim ${size.dim}, ${size.nLayer} layers, ${size.nHead} heads; ` +
    `K = ${K}, V = ${V}; ${T.getNumThreads()} threads; median of ${reps} run(s) after a warm-up`,
);

interface StageMs {
  stage1: number;
  stage2: number;
  decode: number;
  total: number;
}

function pipelineOnce(models: TokenModels): StageMs {
  return T.tidy(() => {
    const t0 = performance.now();
    const uniforms = imageUniforms(
      0,
      Array.from({ length: batch }, (_, i) => i),
      2 * grid * grid,
    );
    const { fine, seconds } = sampleTokens(models, classes, SAMPLING_DEFAULTS, { uniforms });
    const t1 = performance.now();
    T.noGrad(() =>
      vq
        .decodeCodes(fine.reshape(batch, grid, grid))
        .sum()
        .item(),
    );
    const t2 = performance.now();
    return { stage1: seconds.stage1 * 1e3, stage2: seconds.stage2 * 1e3, decode: t2 - t1, total: t2 - t0 };
  });
}

interface System {
  name: string;
  models: TokenModels;
  weights: PackedWeights;
}
function useWeights(models: TokenModels, weights: PackedWeights): void {
  for (const m of models.kind === 'ctf' ? [models.stage1, models.stage2] : [models.baseline]) m.packedWeights = weights;
}
function pipelineWith(s: System): StageMs {
  useWeights(s.models, s.weights);
  return pipelineOnce(s.models);
}
/** Median stage times of each system, the systems alternating run by run after one warm-up each. */
function medians(systems: System[]): StageMs[] {
  systems.forEach(pipelineWith);
  const runs = systems.map(() => [] as StageMs[]);
  for (let i = 0; i < reps; i++) systems.forEach((s, j) => runs[j]!.push(pipelineWith(s)));
  for (const s of systems) useWeights(s.models, 'fp32');
  return runs.map((rs) => {
    const m = (k: keyof StageMs) => median(rs.map((r) => r[k]));
    return { stage1: m('stage1'), stage2: m('stage2'), decode: m('decode'), total: m('total') };
  });
}

function stage1Ms(model: GPT, useCache: boolean, n: number): number {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    T.tidy(() => void generate(model, classes, { ...SAMPLING_DEFAULTS, useCache }));
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** Stage 1's KV cache against recomputing the whole prefix at every step (stage 2 is one pass). */
function kvCacheVsRecompute(): void {
  stage1Ms(ctf.stage1, true, 1);
  const rows = [['stage 1', 'KV cache ms', 'recompute ms', 'cache speedup']];
  for (const [name, m] of [
    [`CTF (K = ${K})`, ctf.stage1],
    [`baseline (V = ${V})`, baseline.baseline],
  ] as const) {
    const cached = stage1Ms(m, true, reps);
    const full = stage1Ms(m, false, recomputeReps);
    rows.push([name, cached.toFixed(0), full.toFixed(0), `${(full / cached).toFixed(2)}x`]);
  }
  console.log('\nKV cache vs full recompute each step (generate(..., {useCache: false}))');
  printTable(rows);
}

try {
  const systems: System[] = [
    { name: `CTF (K = ${K})`, models: ctf, weights: 'fp32' },
    { name: `baseline (V = ${V})`, models: baseline, weights: 'fp32' },
    { name: `CTF, int8`, models: ctf, weights: 'int8' },
    { name: `baseline, int8`, models: baseline, weights: 'int8' },
  ];
  const [c, b, c8, b8] = medians(systems) as [StageMs, StageMs, StageMs, StageMs];
  const ips = (ms: number) => (ms > 0 ? (batch / (ms / 1e3)).toFixed(1) : '-');
  const r = (x: number, y: number) => (x > 0 && y > 0 ? `${(x / y).toFixed(2)}x` : '-');
  const row = (name: string, x: StageMs) => [
    name,
    `${x.stage1.toFixed(0)} (${ips(x.stage1)})`,
    x.stage2 > 0 ? `${x.stage2.toFixed(0)} (${ips(x.stage2)})` : '-',
    `${x.decode.toFixed(0)} (${ips(x.decode)})`,
    x.total.toFixed(0),
    ips(x.total),
  ];
  console.log('\nstage by stage: ms per batch (images/s of that stage alone)');
  printTable([
    ['', 'stage 1', 'stage 2', 'VQ decode', 'total', 'images/s'],
    ...[c, b, c8, b8].map((x, i) => row(systems[i]!.name, x)),
    ['CTF/baseline time (fp32)', r(c.stage1, b.stage1), '-', r(c.decode, b.decode), r(c.total, b.total), ''],
  ]);
  console.log(
    `CTF images/s ÷ baseline images/s: ${(b.total / c.total).toFixed(2)}x (tokens only, without decode: ${((b.stage1 + b.stage2) / (c.stage1 + c.stage2)).toFixed(2)}x)`,
  );
  console.log(`int8 ÷ fp32 images/s: CTF ${(c.total / c8.total).toFixed(2)}x, baseline ${(b.total / b8.total).toFixed(2)}x`);
  const share = (x: StageMs) => {
    const sum = x.stage1 + x.stage2 + x.decode;
    const pc = (v: number) => `${((100 * v) / sum).toFixed(0)}%`;
    return `stage 1 ${pc(x.stage1)} / stage 2 ${pc(x.stage2)} / decode ${pc(x.decode)}`;
  };
  console.log(`time shares (of the summed stage medians): CTF ${share(c)}; baseline ${share(b)}`);
  if (!paperSize) kvCacheVsRecompute();
} finally {
  for (const m of [ctf.stage1, ctf.stage2, baseline.baseline, vq]) m.dispose();
  ctf.clusters.dispose();
  classes.dispose();
}
