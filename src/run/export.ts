// `ctfgen export`: a run as a small self-contained folder for shipping or sharing: weights only
// (no optimizer state), the tokenizer and cluster file beside them, run.json pointing at them.
// Runs that share one tokenizer can point it at one shared file (`tokenizerOut`) instead of a copy each.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadCheckpoint, saveCheckpoint } from '../io/index.js';
import { STAGES } from '../ctf/index.js';
import { RunDir } from './run-dir.js';
import { samplingWeights } from './weights.js';

const DROP = ['rng', 'trainerState', 'optimizerStep'];

async function weightsOnly(from: string, to: string): Promise<void> {
  const ck = await loadCheckpoint(from);
  const meta = Object.fromEntries(Object.entries(ck.meta).filter(([k]) => !DROP.includes(k)));
  // a run trained with --ema ships its averaged weights
  await saveCheckpoint(to, samplingWeights(ck), meta);
}

export async function exportRun(runDir: string, outDir: string, tokenizerOut?: string): Promise<string[]> {
  const run = new RunDir(runDir);
  const info = run.readInfo();
  const out = new RunDir(outDir).ensure();
  const written: string[] = [];
  const tokenizer = tokenizerOut ?? join(out.root, 'tokenizer.safetensors');
  mkdirSync(dirname(resolve(tokenizer)), { recursive: true });
  if (resolve(info.tokenizer).endsWith('.safetensors')) await weightsOnly(info.tokenizer, tokenizer);
  else copyFileSync(info.tokenizer, tokenizer);
  written.push(tokenizer);
  let clusters: string | undefined;
  if (info.clusters) {
    clusters = join(out.root, 'clusters.safetensors');
    copyFileSync(info.clusters, clusters);
    written.push(clusters);
  }
  for (const stage of STAGES)
    if (run.has(stage)) {
      await weightsOnly(run.checkpoint(stage), out.checkpoint(stage));
      written.push(out.checkpoint(stage));
    }
  mkdirSync(out.root, { recursive: true });
  out.writeInfo({ ...info, tokenizer, clusters, trainCache: '', valCache: undefined });
  return written;
}
