// Training-step benchmark against Python PyTorch on the same machine: one optimizer step of stage 1
// (GPT over 128 coarse labels), stage 2 (full-attention auxiliary model: coarse labels in, 4096
// fine codes out) and the baseline (GPT over 4096 fine codes) at the Fashion-MNIST study sizes:
// batch 32 × 64 tokens, dim 128, 4 layers, 4 heads, 10 classes; LlamaGen's init (zero head),
// AdamW (lr 1e-3, betas 0.9/0.95, weight decay 0.05 on matrices and embeddings, none on norms),
// gradient clipping at 1.0, and LlamaGen's default dropouts (token, residual, FFN, class: 0.1).
// A step is what the trainer does: stageLoss (loss + accuracy, both read back), backward, clip,
// AdamW, zero grads. The PyTorch side (train_step_ref.py, LlamaGen's GPT in plain torch with
// torch.optim.AdamW and clip_grad_norm_) starts from the very weights, cluster map and batches
// exported from here; with --no-dropout (every dropout 0) the two loss curves must agree, with
// dropout they differ by the random masks only. The PyTorch side is a session (python-session.ts)
// and the two sides alternate step by step, so background load on the shared machine hits both
// alike. Median step time after a warm-up.
// Target: ours/PyTorch ≤ 1.2x.
//   run: npx tsc -p tsconfig.json && node dist/bench/train-step.js [--quick] [--no-dropout] [--steps 10] [--aux-mask]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '../src/torch/index.js';
import { GPT } from '../src/models/gpt.js';
import type { GPTConfig } from '../src/models/gpt-config.js';
import { AdamW, decayGroups } from '../src/nn/index.js';
import { stageLoss } from '../src/train/train-tokens.js';
import type { Stage } from '../src/train/run-dir.js';
import { ratio } from './python.js';
import { startPythonSession } from './python-session.js';
import { argValue, median, printTable, writeTensors } from './shared-tensors.js';

const quick = process.argv.includes('--quick');
const noDropout = process.argv.includes('--no-dropout');
const auxMask = process.argv.includes('--aux-mask');
const steps = Number(argValue('--steps') ?? (quick ? 2 : 10));
const warmup = quick ? 1 : 3;
const batch = quick ? 4 : 32;
const L = quick ? 16 : 64;
const size = quick ? { dim: 64, nLayer: 2, nHead: 2 } : { dim: 128, nLayer: 4, nHead: 4 };
const [K, V, numClasses] = [128, 4096, 10];
const p = noDropout ? 0 : 0.1;
const opt = { lr: 1e-3, betas: [0.9, 0.95] as [number, number], weightDecay: 0.05, gradClip: 1.0 };
const numBatches = 4;
const STAGE_NAMES: Record<Stage, string> = { ar: 'stage 1 (ar)', aux: 'stage 2 (aux)', baseline: 'baseline' };

console.log(
  `Training step${quick ? ' (quick: tiny)' : ''}: batch ${batch} × ${L} tokens, dim ${size.dim}, ${size.nLayer} layers, ${size.nHead} heads, ` +
    `K = ${K}, V = ${V}; AdamW lr ${opt.lr}, betas ${opt.betas.join('/')}, wd ${opt.weightDecay} (matrices), clip ${opt.gradClip}, ` +
    `dropout ${p}${auxMask ? ', stage-2 loss masked to clusters' : ''}; ${T.getNumThreads()} threads; median of ${steps} steps after ${warmup} warm-up`,
);

T.manualSeed(0);
const idxToCluster = T.keep(T.randint(0, K, [V]));
const data = Array.from({ length: numBatches }, () => ({
  classes: T.keep(T.randint(0, numClasses, [batch])),
  fine: T.keep(T.randint(0, V, [batch, L])),
}));

function stageConfig(stage: Stage): GPTConfig {
  const common = { ...size, numClasses, blockSize: L, tokenDropout: p, residDropout: p, ffnDropout: p, classDropout: p };
  if (stage === 'ar') return { ...common, vocabSize: K };
  if (stage === 'aux') return { ...common, vocabSize: V, inputVocabSize: K, attention: 'full' };
  return { ...common, vocabSize: V };
}

const dir = mkdtempSync(join(tmpdir(), 'ctfgen-train-bench-'));
const stages: Stage[] = ['ar', 'aux', 'baseline'];
interface Side {
  stepMs: number;
  losses: number[];
}
const ours: Record<string, Side> = {};
const theirs: Record<string, Side> = {};
try {
  const trainers = stages.map((stage) => {
    T.manualSeed(1);
    const model = new GPT(stageConfig(stage)).train();
    const named = model.namedParameters();
    const map = stage === 'baseline' ? null : idxToCluster;
    writeTensors(
      dir,
      stage,
      [
        ...named,
        ...(map ? [['data.idx_to_cluster', map] as [string, T.Tensor]] : []),
        ...data.flatMap(({ classes, fine }, i): [string, T.Tensor][] => [
          [`data.classes${i}`, classes],
          [`data.fine${i}`, fine],
        ]),
      ],
      { config: model.config },
    );
    const optimizer = new AdamW(decayGroups(named, opt.weightDecay), { lr: opt.lr, betas: opt.betas });
    return { stage, model, map, params: named.map(([, t]) => t), optimizer };
  });
  const py = await startPythonSession('train_step_ref.py', [dir, JSON.stringify(opt), auxMask ? '1' : '0']);
  for (const { stage, model, map, params, optimizer } of trainers) {
    const o: Side = { stepMs: 0, losses: [] };
    const r: Side = { stepMs: 0, losses: [] };
    const oTimes: number[] = [];
    const rTimes: number[] = [];
    for (let i = 0; i < warmup + steps; i++) {
      const { classes, fine } = data[i % numBatches]!;
      const t0 = performance.now();
      T.tidy(() => {
        const { loss, acc } = stageLoss(stage, model, classes, fine, map, auxMask);
        o.losses.push(loss.item());
        acc.item();
        loss.backward();
      });
      T.clipGradNorm(params, opt.gradClip);
      optimizer.step();
      T.zeroGrad(params);
      if (i >= warmup) oTimes.push(performance.now() - t0);
      if (py) {
        const answer = await py.request(`step ${stage}`);
        r.losses.push(answer.loss as number);
        if (i >= warmup) rTimes.push(answer.ms as number);
      }
    }
    ours[stage] = { ...o, stepMs: median(oTimes) };
    if (py) theirs[stage] = { ...r, stepMs: median(rTimes) };
    optimizer.dispose();
    model.dispose();
  }
  await py?.close();
  const ref = py ? { stages: theirs, threads: py.ready.threads as number, torch: py.ready.torch as string } : null;
  const tps = (ms: number) => ((batch * L) / (ms / 1e3)).toFixed(0);
  const rows = [['', 'ours ms', 'ours tok/s', 'PyTorch ms', 'PyTorch tok/s', 'ours/PyTorch', 'loss: first', 'last (ours | PyTorch)']];
  for (const stage of stages) {
    const o = ours[stage]!;
    const r = ref?.stages[stage];
    const f = (x: number | undefined) => (x === undefined ? 'n/a' : x.toFixed(4));
    rows.push([
      STAGE_NAMES[stage],
      o.stepMs.toFixed(1),
      tps(o.stepMs),
      r ? r.stepMs.toFixed(1) : 'n/a',
      r ? tps(r.stepMs) : 'n/a',
      ratio(o.stepMs, r?.stepMs),
      `${f(o.losses[0])} | ${f(r?.losses[0])}`,
      `${f(o.losses.at(-1))} | ${f(r?.losses.at(-1))}`,
    ]);
  }
  printTable(rows);
  if (ref) {
    console.log(`PyTorch ${ref.torch}, ${ref.threads} threads; target ours/PyTorch ≤ 1.20x`);
    if (noDropout) {
      const diff = Math.max(...stages.flatMap((s) => ours[s]!.losses.map((l, i) => Math.abs(l - ref.stages[s].losses[i]!))));
      console.log(`largest loss difference over all ${warmup + steps} steps (no dropout): ${diff.toExponential(2)}`);
    } else console.log('losses differ by the random dropout masks only; --no-dropout makes both sides compute the same numbers');
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  idxToCluster.dispose();
  for (const { classes, fine } of data) {
    classes.dispose();
    fine.dispose();
  }
}
