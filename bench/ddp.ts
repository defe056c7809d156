// Data-parallel benchmark on this machine. (1) For each study-size trainer (stage 1, stage 2 and
// the baseline at the Fashion-MNIST preset — batch 32 × 64 tokens, dim 128, 4 layers; the
// Fashion-MNIST tokenizer, batch 32; the feature classifier, batch 128), optimizer steps per second
// of 2 processes × 1 thread (`ctfgen launch`, the batch split 16 + 16) against 1 process × 2
// threads, the same global batch; 1 process × 1 thread shows how much a second core gives at all
// (on a shared machine, often little: the load average is printed). (2) All-reduce throughput between 2 processes over loopback
// (Gloo) for a GPT-B-sized gradient (the 111M parameters of LlamaGen's GPT-B, 16384 codes, 1000
// classes): one 111M-float tensor, and the gradient tensors in 25 MB buckets as training sends them.
// Token data are random (timing only); the tokenizer and classifier read Fashion-MNIST. Each
// configuration runs twice, alternating, and the better rate counts (the machine may be shared).
//   run: npx tsc -p tsconfig.json && node dist/bench/ddp.js [--steps 12] [--skip-trainers] [--skip-allreduce]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterCodebook, saveClusters } from '../src/cluster/clusters.js';
import { saveTokenCache } from '../src/data/token-cache.js';
import { allReduceNumbers } from '../src/dist/collectives.js';
import { DEFAULT_BUCKET_BYTES, buckets } from '../src/dist/data-parallel.js';
import { startProcess } from '../src/dist/group.js';
import { CLASSIFIER_PRESETS, trainClassifier } from '../src/eval/train-classifier.js';
import { GPT } from '../src/models/gpt.js';
import { gptConfigForSize } from '../src/models/gpt-config.js';
import * as T from '../src/torch/index.js';
import { TOKEN_PRESETS } from '../src/train/presets.js';
import { trainTokenizer } from '../src/train/train-tokenizer.js';
import { trainTokens } from '../src/train/train-tokens.js';
import type { ProgressEvent } from '../src/util/progress.js';
import { packageRoot } from '../src/util/package-root.js';
import { argValue, printTable } from './shared-tensors.js';

const TRAINERS = ['stage1', 'stage2', 'baseline', 'tokenizer', 'classifier'] as const;
type Trainer = (typeof TRAINERS)[number];
const WARMUP = 3;
const self = fileURLToPath(import.meta.url);
const cli = join(packageRoot, 'dist', 'src', 'cli', 'main.js');

/** Steps per second after the warm-up, from rank 0's progress reports. */
function rate(): { onProgress: (e: ProgressEvent) => void; stepsPerSec: () => number } {
  const at: number[] = [];
  return {
    onProgress: (e) => {
      if (e.done > 0) at[e.done] = performance.now();
    },
    stepsPerSec: () => {
      const last = at.length - 1;
      return ((last - WARMUP) * 1000) / (at[last]! - at[WARMUP]!);
    },
  };
}

/** One trainer for `steps` steps in this process (alone or in the group of the environment). */
async function worker(trainer: Trainer, data: string, dir: string, steps: number): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const group = startProcess('cpu');
  const r = rate();
  // each configuration runs twice into the same folder
  const common = { group, onProgress: r.onProgress, overwrite: true };
  if (trainer === 'tokenizer') {
    (await trainTokenizer({ ...common, preset: 'fashion-mnist', out: join(dir, 'tok.safetensors'), steps, valImages: 8 })).model.dispose();
  } else if (trainer === 'classifier') {
    const p = CLASSIFIER_PRESETS['fashion-mnist']!;
    (await trainClassifier({ ...common, ...p, out: join(dir, 'cls.safetensors'), maxSteps: steps })).model.dispose();
  } else {
    const p = TOKEN_PRESETS['fashion-mnist']!;
    const r2 = await trainTokens({
      ...common,
      stage: trainer,
      run: join(dir, 'run'),
      // a stand-in for the tokenizer file run.json must name (the tokens are random)
      tokenizer: join(data, 'random.safetensors'),
      trainCache: join(data, 'cache.safetensors'),
      clusters: trainer === 'baseline' ? undefined : join(data, 'clusters.safetensors'),
      model: p.model,
      steps,
      batchSize: p.batchSize,
      schedule: p.schedule,
    });
    r2.model.dispose();
  }
  if (!group || group.rank === 0) console.log(JSON.stringify({ stepsPerSec: r.stepsPerSec() }));
  group?.destroy();
}

/** All-reduce of a GPT-B gradient between the processes of the environment's group. */
function allReduceWorker(reps: number): void {
  const group = startProcess('cpu')!;
  const config = gptConfigForSize('B', { vocabSize: 16384, numClasses: 1000, blockSize: 256 });
  const shapes = T.noGrad(() => {
    const m = new GPT(config);
    const s = m.parameters().map((p) => p.shape);
    m.dispose();
    return s;
  });
  const grads = shapes.map((s) => T.keep(T.ones(s)));
  const numel = grads.reduce((n, g) => n + g.numel, 0);
  const flat = T.keep(T.ones([numel]));
  const time = (fn: () => void) => {
    fn(); // warm-up (connections, allocations)
    group.barrier();
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    // the slowest rank's time
    return allReduceNumbers(group, [(performance.now() - t0) / reps], 'max')[0]!;
  };
  const oneMs = time(() => group.allReduce([flat], 'sum'));
  const bucketList = buckets(grads, DEFAULT_BUCKET_BYTES);
  const bucketMs = time(() => bucketList.forEach((b) => group.allReduce(b, 'sum')));
  if (group.rank === 0) console.log(JSON.stringify({ numel, oneMs, bucketMs, buckets: bucketList.length }));
  T.dispose([...grads, flat]);
  group.destroy();
}

function run(argv: string[], env: Record<string, string>): Record<string, number> {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  const line = r.stdout
    .split('\n')
    .map((l) => l.replace(/^\[\d+\] /, ''))
    .filter((l) => l.startsWith('{'))
    .pop()!;
  return JSON.parse(line) as Record<string, number>;
}

const launch2 = (args: string[]) => {
  const port = String(29400 + Math.floor(Math.random() * 500));
  return [process.execPath, cli, 'launch', '--nproc-per-node=2', `--master-port=${port}`, '--', process.execPath, self, ...args];
};

async function randomTokenData(dir: string): Promise<void> {
  const [n, L, V, K] = [2000, 64, 4096, 128];
  T.manualSeed(0);
  const codes = T.randint(0, V, [n * 2 * L], 'int32').toInt32Array();
  const labels = T.randint(0, 10, [n], 'int32').toInt32Array();
  const names = Array.from({ length: 10 }, (_, i) => `class ${i}`);
  writeFileSync(join(dir, 'random.safetensors'), '');
  await saveTokenCache(join(dir, 'cache.safetensors'), {
    codes,
    labels,
    n,
    variants: 2,
    gridH: 8,
    gridW: 8,
    numClasses: 10,
    classNames: names,
    dataset: 'random',
    tokenizerId: 'random',
    codebookSize: V,
    transform: {},
  });
  const codebook = T.randn([V, 8]);
  await saveClusters(join(dir, 'clusters.safetensors'), clusterCodebook(codebook, K, { seed: 0, tokenizerId: 'random' }));
  codebook.dispose();
}

async function main(): Promise<void> {
  const steps = Number(argValue('--steps') ?? 12);
  const cores = T.getNumThreads();
  console.log(
    `${cores} cores; load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} before the run`,
  );
  if (!process.argv.includes('--skip-trainers')) {
    const dir = mkdtempSync(join(tmpdir(), 'ctfgen-ddp-bench-'));
    try {
      await randomTokenData(dir);
      console.log(
        `Steps/s of each trainer: 1 process × ${cores} threads against 2 processes × ${Math.max(1, cores / 2)} thread(s) (ctfgen launch), ${steps} steps, the first ${WARMUP} untimed`,
      );
      const rows = [
        ['trainer', `1 process × ${cores} threads`, '1 process × 1 thread', '2 processes × 1 thread', '2 processes / 1 process'],
      ];
      const alone = (t: Trainer, out: string, threads: number) =>
        run([process.execPath, self, '--worker', t, dir, join(dir, out), String(steps)], { CTFGEN_THREADS: String(threads) }).stepsPerSec!;
      for (const t of TRAINERS) {
        let [one, single, two] = [0, 0, 0];
        for (let round = 0; round < 2; round++) {
          one = Math.max(one, alone(t, `${t}-1`, cores));
          single = Math.max(single, alone(t, `${t}-1t`, 1));
          two = Math.max(two, run(launch2(['--worker', t, dir, join(dir, `${t}-2`), String(steps)]), {}).stepsPerSec!);
        }
        rows.push([t, one.toFixed(2), single.toFixed(2), two.toFixed(2), `${(two / one).toFixed(2)}x`]);
        console.log(
          `  ${t}: ${one.toFixed(2)} / ${single.toFixed(2)} / ${two.toFixed(2)} steps/s (load average ${loadavg()[0]!.toFixed(1)})`,
        );
      }
      printTable(rows);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (!process.argv.includes('--skip-allreduce')) {
    const r = run(launch2(['--allreduce', '3']), {});
    const gb = (ms: number) => ((r.numel! * 4) / 1e9 / (ms / 1000)).toFixed(2);
    console.log(
      `\nAll-reduce (sum) of a GPT-B gradient, ${(r.numel! / 1e6).toFixed(1)}M float32 = ${((r.numel! * 4) / 1e6).toFixed(0)} MB, 2 processes, Gloo over 127.0.0.1:`,
    );
    printTable([
      ['', 'ms', 'GB/s (gradient bytes / time)'],
      ['one tensor', r.oneMs!.toFixed(0), gb(r.oneMs!)],
      [`${r.buckets} buckets of ≤ 25 MB`, r.bucketMs!.toFixed(0), gb(r.bucketMs!)],
    ]);
  }
}

const mode = process.argv[2];
if (mode === '--worker') await worker(process.argv[3] as Trainer, process.argv[4]!, process.argv[5]!, Number(process.argv[6]));
else if (mode === '--allreduce') allReduceWorker(Number(process.argv[3]));
else await main();
