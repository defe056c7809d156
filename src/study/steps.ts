// A study as ordered ctfgen commands: tokenizer → token caches → clusters (k-means at every K,
// random at the main K) → redundancy experiment → feature classifier → baseline and CTF at the
// same stage-1 size and budget → evaluation (FID / IS / precision / recall, CFG sweep, stage-2
// sampling) → sample grids → ablations at a shorter budget → the K they favour at the main budget.
import { join } from 'node:path';
import {
  clusterCounts,
  clustersPath,
  evalPath,
  studyRuns,
  testCachePath,
  tokenizerEvalPath,
  tokenizerPath,
  trainCachePath,
  type StudyConfig,
  type StudyRun,
} from './config.js';
import type { StudyStep } from './runner.js';

function trainSteps(c: StudyConfig, r: StudyRun): StudyStep[] {
  const common = [
    '--run',
    r.dir,
    '--tokenizer',
    tokenizerPath(c),
    '--train-cache',
    trainCachePath(c),
    '--val-cache',
    testCachePath(c),
    '--preset',
    c.trainPreset,
    ...c.budget.model,
    ...c.budget[r.budget],
    '--resume',
  ];
  if (r.system === 'baseline')
    return [{ name: `train ${r.name}`, args: ['train', 'baseline', ...common], outputs: [join(r.dir, 'baseline-curve.png')] }];
  return (['stage1', 'stage2'] as const).map((stage) => ({
    name: `train ${r.name} ${stage}`,
    args: ['train', stage, ...common, '--clusters', r.clusters!],
    outputs: [join(r.dir, `${stage}-curve.png`)],
  }));
}

function evalSteps(c: StudyConfig, r: StudyRun): StudyStep[] {
  const base = ['eval', '--run', r.dir, '--n', c.evalN, '--classifier', c.classifier.path, '--reference', c.data.reference];
  const step = (name: string, tag: string, extra: string[]): StudyStep => ({
    name: `${name} ${r.name}`,
    args: [...base, ...extra, '--out', evalPath(r, tag)],
    outputs: [evalPath(r, tag)],
  });
  const steps = [step('eval', 'cfg2', [])];
  if (r.budget === 'main') steps.push(step('cfg sweep', 'sweep', ['--sweep', `cfg=${c.cfgSweep}`]));
  if (r.budget === 'main') for (const seed of c.seeds) steps.push(step(`seed ${seed}`, `seed${seed}`, ['--seed', String(seed)]));
  if (r.name === `ctf-k${c.mainK}`)
    steps.push(
      step('stage-2 temperature', 'tau2', ['--sweep', `stage2-temperature=${c.tau2}`]),
      step('stage-2 argmax', 'argmax', ['--stage2-top-k', '1']),
    );
  return steps;
}

function redundancyStep(c: StudyConfig, name: string, ks: number[], method: 'kmeans' | 'random', outDir: string): StudyStep {
  const args = ['analyze', 'redundancy', '--tokenizer', tokenizerPath(c), '--data', c.data.test, '--n', '500'];
  args.push('--clusters', ks.join(','), ...(method === 'random' ? ['--method', 'random'] : []), '--out-dir', outDir);
  return { name, args, outputs: [join(outDir, 'redundancy.json')] };
}

export function studySteps(c: StudyConfig): StudyStep[] {
  const tok = tokenizerPath(c);
  const runs = studyRuns(c);
  const main = runs.filter((r) => r.budget === 'main' && !r.confirm);
  const ablations = runs.filter((r) => r.budget === 'ablation');
  const confirm = runs.filter((r) => r.confirm);
  const samples = (r: StudyRun): StudyStep => ({
    name: `samples ${r.name}`,
    args: ['sample', '--run', r.dir, '--class', 'all', '--n', '10', '--out', join(c.fig, `samples-${r.name}.png`)],
    outputs: [join(c.fig, `samples-${r.name}.png`)],
  });
  const tokGrid = join(c.fig, 'tokenizer-recon.png');
  const encode = (split: 'train' | 'test', out: string): StudyStep => ({
    name: `encode ${split}`,
    args: ['tokenizer', 'encode', '--tokenizer', tok, '--data', c.data[split], ...(split === 'test' ? ['--no-flip'] : []), '--out', out],
    outputs: [out],
  });
  const steps: StudyStep[] = [
    {
      name: 'tokenizer',
      args: ['tokenizer', 'train', '--preset', c.tokenizer.preset, '--steps', String(c.tokenizer.steps), '--out', tok, '--resume'],
      outputs: [`${tok}.recon-${String(c.tokenizer.steps).padStart(6, '0')}.png`],
    },
    {
      name: 'tokenizer eval',
      args: ['tokenizer', 'eval', '--tokenizer', tok, '--data', c.data.test, '--grid', tokGrid, '--out', tokenizerEvalPath(c)],
      outputs: [tokGrid, tokenizerEvalPath(c)],
    },
    encode('train', trainCachePath(c)),
    encode('test', testCachePath(c)),
    ...clusterCounts(c).map((k) => ({
      name: `cluster k${k}`,
      args: ['cluster', '--tokenizer', tok, '--clusters', String(k), '--out', clustersPath(c, 'kmeans', k)],
      outputs: [clustersPath(c, 'kmeans', k)],
    })),
  ];
  if (c.ablations) {
    const out = clustersPath(c, 'random', c.mainK);
    const args = ['cluster', '--tokenizer', tok, '--clusters', String(c.mainK), '--method', 'random', '--out', out];
    steps.push({ name: `cluster random k${c.mainK}`, args, outputs: [out] });
  }
  steps.push(redundancyStep(c, 'redundancy', clusterCounts(c), 'kmeans', c.fig));
  if (c.ablations) steps.push(redundancyStep(c, 'redundancy random', [c.mainK], 'random', join(c.fig, 'random')));
  const picture = join(c.fig, `clusters-k${c.mainK}.png`);
  steps.push(
    {
      name: 'cluster picture',
      args: ['analyze', 'clusters', '--tokenizer', tok, '--clusters', clustersPath(c, 'kmeans', c.mainK), '--out', picture],
      outputs: [picture],
    },
    {
      name: 'classifier',
      args: ['eval', 'classifier', 'train', '--data', c.classifier.preset, '--out', c.classifier.path],
      outputs: [c.classifier.path],
    },
    ...main.flatMap((r) => trainSteps(c, r)),
    ...main.flatMap((r) => evalSteps(c, r)),
    ...main.map(samples),
  );
  steps.push(...ablations.flatMap((r) => trainSteps(c, r)), ...ablations.flatMap((r) => evalSteps(c, r)));
  steps.push(...confirm.flatMap((r) => [...trainSteps(c, r), ...evalSteps(c, r), samples(r)]));
  return steps;
}
