// The Fashion-MNIST reproduction study as ordered ctfgen commands (see docs/results.md):
// tokenizer → token caches → clusters (K ∈ {32, 128, 512}, k-means vs random) → redundancy
// experiment → feature classifier → baseline and CTF at the same stage-1 size and budget →
// evaluation (FID / IS / precision / recall, CFG sweep) → sample grids → shipped models.
import { join } from 'node:path';
import type { StudyStep } from './runner.js';

export const ROOT = 'runs/fmnist';
export const FIG = 'docs/figures';
export const CLASSIFIER = 'models/fashion-mnist-classifier.safetensors';
export const MAIN_K = 128;

/** Stage sizes and budgets: equal stage-1 size and steps for CTF and the baseline. */
export const BUDGET = {
  model: ['--dim', '128', '--layers', '4', '--heads', '4'],
  main: ['--steps', '1600', '--batch-size', '32', '--lr', '1e-3', '--validate-every', '400', '--save-every', '400'],
  ablation: ['--steps', '600', '--batch-size', '32', '--lr', '1e-3', '--validate-every', '300', '--save-every', '300'],
};

export const EVAL_N = '1000';
export const TOKENIZER_EVAL = join(FIG, 'tokenizer-eval.json');
export const SHIPPED = 'models/fashion-mnist';
/** stage-2 temperatures compared for the main CTF run (τ1 and CFG at their defaults) */
export const TAU2 = '0.5,0.8,1.1';

const tok = join(ROOT, 'tokenizer.safetensors');
const trainCache = join(ROOT, 'train.tokens.safetensors');
const testCache = join(ROOT, 'test.tokens.safetensors');
const clusters = (method: string, k: number) => join(ROOT, `clusters-${method}-k${k}.safetensors`);

export interface StudyRun {
  name: string;
  dir: string;
  system: 'ctf' | 'baseline';
  clusters?: string;
  budget: 'main' | 'ablation';
  label: string;
}

export const RUNS: StudyRun[] = [
  { name: 'baseline', dir: join(ROOT, 'baseline'), system: 'baseline', budget: 'main', label: 'baseline (fine-token GPT)' },
  {
    name: `ctf-k${MAIN_K}`,
    dir: join(ROOT, `ctf-k${MAIN_K}`),
    system: 'ctf',
    clusters: clusters('kmeans', MAIN_K),
    budget: 'main',
    label: `CTF, K = ${MAIN_K} (k-means)`,
  },
  {
    name: `ctf-random-k${MAIN_K}`,
    dir: join(ROOT, `ctf-random-k${MAIN_K}`),
    system: 'ctf',
    clusters: clusters('random', MAIN_K),
    budget: 'ablation',
    label: `CTF, K = ${MAIN_K} (random clusters)`,
  },
  {
    name: `ctf-k${MAIN_K}-short`,
    dir: join(ROOT, `ctf-k${MAIN_K}-short`),
    system: 'ctf',
    clusters: clusters('kmeans', MAIN_K),
    budget: 'ablation',
    label: `CTF, K = ${MAIN_K} (k-means)`,
  },
  {
    name: 'ctf-k32',
    dir: join(ROOT, 'ctf-k32'),
    system: 'ctf',
    clusters: clusters('kmeans', 32),
    budget: 'ablation',
    label: 'CTF, K = 32 (k-means)',
  },
  {
    name: 'ctf-k512',
    dir: join(ROOT, 'ctf-k512'),
    system: 'ctf',
    clusters: clusters('kmeans', 512),
    budget: 'ablation',
    label: 'CTF, K = 512 (k-means)',
  },
];

function trainSteps(r: StudyRun): StudyStep[] {
  const common = [
    '--run',
    r.dir,
    '--tokenizer',
    tok,
    '--train-cache',
    trainCache,
    '--val-cache',
    testCache,
    ...BUDGET.model,
    ...BUDGET[r.budget],
    '--resume',
  ];
  if (r.system === 'baseline')
    return [{ name: `train ${r.name}`, args: ['train', 'baseline', ...common], outputs: [join(r.dir, 'baseline-curve.png')] }];
  return (['ar', 'aux'] as const).map((stage) => ({
    name: `train ${r.name} ${stage}`,
    args: ['train', stage, ...common, '--clusters', r.clusters!],
    outputs: [join(r.dir, `${stage}-curve.png`)],
  }));
}

export const evalPath = (r: StudyRun, tag = 'cfg2') => join(r.dir, `eval-${tag}.json`);

function evalSteps(r: StudyRun, sweep: boolean): StudyStep[] {
  const base = ['eval', '--run', r.dir, '--n', EVAL_N, '--classifier', CLASSIFIER];
  const step = (name: string, tag: string, extra: string[]): StudyStep => ({
    name: `${name} ${r.name}`,
    args: [...base, ...extra, '--out', evalPath(r, tag)],
    outputs: [evalPath(r, tag)],
  });
  const steps = [step('eval', 'cfg2', [])];
  if (sweep) steps.push(step('cfg sweep', 'sweep', ['--sweep', 'cfg=1,1.5,2,3,4']));
  if (sweep && r.system === 'ctf')
    steps.push(
      step('stage-2 temperature', 'tau2', ['--sweep', `temperature2=${TAU2}`]),
      step('stage-2 argmax', 'argmax', ['--top-k2', '1']),
    );
  return steps;
}

export function studySteps(tokenizerSteps = 1100): StudyStep[] {
  const main = RUNS.filter((r) => r.budget === 'main');
  const ablations = RUNS.filter((r) => r.budget === 'ablation');
  return [
    {
      name: 'tokenizer',
      args: ['tokenizer', 'train', '--preset', 'fashion-mnist', '--steps', String(tokenizerSteps), '--out', tok, '--resume'],
      outputs: [`${tok}.recon-${String(tokenizerSteps).padStart(6, '0')}.png`],
    },
    {
      name: 'tokenizer eval',
      args: [
        'tokenizer',
        'eval',
        '--tokenizer',
        tok,
        '--data',
        'fashion-mnist:test',
        '--grid',
        join(FIG, 'tokenizer-recon.png'),
        '--out',
        TOKENIZER_EVAL,
      ],
      outputs: [join(FIG, 'tokenizer-recon.png'), TOKENIZER_EVAL],
    },
    {
      name: 'encode train',
      args: ['tokenizer', 'encode', '--tokenizer', tok, '--data', 'fashion-mnist:train', '--out', trainCache],
      outputs: [trainCache],
    },
    {
      name: 'encode test',
      args: ['tokenizer', 'encode', '--tokenizer', tok, '--data', 'fashion-mnist:test', '--no-flip', '--out', testCache],
      outputs: [testCache],
    },
    ...[32, MAIN_K, 512].map((k) => ({
      name: `cluster k${k}`,
      args: ['cluster', '--tokenizer', tok, '--clusters', String(k), '--out', clusters('kmeans', k)],
      outputs: [clusters('kmeans', k)],
    })),
    {
      name: `cluster random k${MAIN_K}`,
      args: ['cluster', '--tokenizer', tok, '--clusters', String(MAIN_K), '--method', 'random', '--out', clusters('random', MAIN_K)],
      outputs: [clusters('random', MAIN_K)],
    },
    {
      name: 'redundancy',
      args: [
        'analyze',
        'redundancy',
        '--tokenizer',
        tok,
        '--data',
        'fashion-mnist:test',
        '--n',
        '500',
        '--clusters',
        `32,${MAIN_K},512`,
        '--out-dir',
        FIG,
      ],
      outputs: [join(FIG, 'redundancy.json')],
    },
    {
      name: 'redundancy random',
      args: [
        'analyze',
        'redundancy',
        '--tokenizer',
        tok,
        '--data',
        'fashion-mnist:test',
        '--n',
        '500',
        '--clusters',
        String(MAIN_K),
        '--method',
        'random',
        '--out-dir',
        join(FIG, 'random'),
      ],
      outputs: [join(FIG, 'random', 'redundancy.json')],
    },
    {
      name: 'cluster picture',
      args: [
        'analyze',
        'clusters',
        '--tokenizer',
        tok,
        '--clusters',
        clusters('kmeans', MAIN_K),
        '--out',
        join(FIG, `clusters-k${MAIN_K}.png`),
      ],
      outputs: [join(FIG, `clusters-k${MAIN_K}.png`)],
    },
    { name: 'classifier', args: ['eval', 'classifier', 'train', '--data', 'fashion-mnist', '--out', CLASSIFIER], outputs: [CLASSIFIER] },
    ...main.flatMap(trainSteps),
    ...main.flatMap((r) => evalSteps(r, true)),
    ...main.map((r) => ({
      name: `samples ${r.name}`,
      args: ['sample', '--run', r.dir, '--class', 'all', '--n', '10', '--out', join(FIG, `samples-${r.name}.png`)],
      outputs: [join(FIG, `samples-${r.name}.png`)],
    })),
    // both shipped runs point at one shared tokenizer file
    ...(
      [
        ['ctf', `ctf-k${MAIN_K}`, 'aux'],
        ['baseline', 'baseline', 'baseline'],
      ] as const
    ).map(([system, run, last]) => ({
      name: `export ${system}`,
      args: ['export', '--run', join(ROOT, run), '--out', join(SHIPPED, system), '--tokenizer-out', join(SHIPPED, 'tokenizer.safetensors')],
      outputs: [join(SHIPPED, system, `${last}.safetensors`), join(SHIPPED, 'tokenizer.safetensors')],
    })),
    ...ablations.flatMap(trainSteps),
    ...ablations.flatMap((r) => evalSteps(r, false)),
  ];
}
