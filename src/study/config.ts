// What a reproduction study is made of: a dataset, a tokenizer preset, cluster counts, a stage
// size and budgets, and where its runs, figures and report go. One config per dataset
// (fashion-mnist.ts, emoji.ts); the steps (steps.ts) and the report (report.ts) read only this.
import { join } from 'node:path';

export interface StudyConfig {
  /** `npm run study -- <name>` */
  name: string;
  /** the dataset as people call it */
  title: string;
  /** runs, token caches and cluster files (not committed) */
  root: string;
  /** figures and small JSON results (committed) */
  fig: string;
  /** the Markdown report and the log of the commands that ran */
  report: string;
  log: string;
  /** hand-written interpretation included in the report when present */
  discussion: string;
  tokenizer: { preset: string; steps: number; description: string };
  /** training preset of stage 1, stage 2 and the baseline (its schedule; the budgets override the rest) */
  trainPreset: string;
  /** dataset specs: tokenizer encoding / stage training, validation and redundancy, FID reference */
  data: { train: string; test: string; reference: string; referenceDescription: string };
  classifier: { preset: string; path: string };
  /** the CTF run compared with the baseline, and every cluster count clustered and analysed */
  mainK: number;
  clusterKs: number[];
  /** train short-budget CTF runs: random clusters at mainK, k-means at every other K and at mainK (their reference) */
  ablations: boolean;
  /** cluster counts picked from the ablations and retrained at the main budget (runs `ctf-k<K>-main`) */
  confirmKs: number[];
  budget: { model: string[]; main: string[]; ablation: string[] };
  evalN: string;
  /** extra sampling seeds for the main runs' default evaluation (seed 0 is the main table's): FID noise */
  seeds: number[];
  cfgSweep: string;
  /** stage-2 temperatures compared for the main CTF run */
  tau2: string;
}

export interface StudyRun {
  name: string;
  dir: string;
  system: 'ctf' | 'baseline';
  clusters?: string;
  budget: 'main' | 'ablation';
  label: string;
  /** a main-budget run chosen from the ablations (trained and evaluated after them) */
  confirm?: boolean;
}

export const tokenizerPath = (c: StudyConfig) => join(c.root, 'tokenizer.safetensors');
export const tokenizerEvalPath = (c: StudyConfig) => join(c.fig, 'tokenizer-eval.json');
export const trainCachePath = (c: StudyConfig) => join(c.root, 'train.tokens.safetensors');
export const testCachePath = (c: StudyConfig) => join(c.root, 'test.tokens.safetensors');
export const clustersPath = (c: StudyConfig, method: 'kmeans' | 'random', k: number) =>
  join(c.root, `clusters-${method}-k${k}.safetensors`);
export const evalPath = (r: StudyRun, tag = 'cfg2') => join(r.dir, `eval-${tag}.json`);
/** every cluster count the study makes a cluster file for */
export const clusterCounts = (c: StudyConfig) => [...new Set([...c.clusterKs, c.mainK])].sort((a, b) => a - b);

/** The runs: baseline and CTF at the main budget, then the ablations at the short one. */
export function studyRuns(c: StudyConfig): StudyRun[] {
  const K = c.mainK;
  const ctf = (name: string, method: 'kmeans' | 'random', k: number, budget: StudyRun['budget']): StudyRun => ({
    name,
    dir: join(c.root, name),
    system: 'ctf',
    clusters: clustersPath(c, method, k),
    budget,
    label: `CTF, K = ${k} (${method === 'kmeans' ? 'k-means' : 'random clusters'})${budget === 'ablation' ? ', short budget' : ''}`,
  });
  const runs: StudyRun[] = [
    { name: 'baseline', dir: join(c.root, 'baseline'), system: 'baseline', budget: 'main', label: 'baseline (fine-token GPT)' },
    ctf(`ctf-k${K}`, 'kmeans', K, 'main'),
  ];
  if (c.ablations) {
    runs.push(ctf(`ctf-random-k${K}`, 'random', K, 'ablation'), ctf(`ctf-k${K}-short`, 'kmeans', K, 'ablation'));
    for (const k of clusterCounts(c)) if (k !== K) runs.push(ctf(`ctf-k${k}`, 'kmeans', k, 'ablation'));
  }
  for (const k of c.confirmKs) runs.push({ ...ctf(`ctf-k${k}-main`, 'kmeans', k, 'main'), confirm: true });
  return runs;
}
