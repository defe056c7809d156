// `ctfgen export`: a run as a small self-contained folder for shipping or sharing: weights only
// (no optimizer state), the tokenizer and cluster file beside them, run.json pointing at them.
// Runs that share one tokenizer can point it at one shared file (`tokenizerOut`) instead of a copy each.
//
// Nothing is copied as bytes: run.json is validated (run-dir.ts), and each artefact it names is
// parsed as what it must be (the tokenizer and the stages are loaded as models, the cluster file
// as clusters) and written anew from what was parsed, so a tampered run.json cannot make an
// export carry any other file.
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadClusters, saveClusters } from '../cluster/clusters.js';
import { STAGES, type Stage } from '../ctf/index.js';
import { saveCheckpoint, type CheckpointMeta } from '../io/index.js';
import type { Module } from '../nn/index.js';
import { openTokenizer, readTokenizerMeta } from '../tokenizer/tokenizer-file.js';
import * as T from '../torch/index.js';
import { loadStageFile } from './load-run.js';
import { RunDir } from './run-dir.js';

/** Training state that a shipped checkpoint leaves out. */
const DROP = ['rng', 'trainerState', 'optimizerStep'];

/** Writes a loaded model's weights and its metadata (less the training state) as a ctfgen checkpoint. */
async function writeModel(model: Module, meta: CheckpointMeta, to: string): Promise<void> {
  const kept = Object.fromEntries(Object.entries(meta).filter(([k]) => !DROP.includes(k)));
  await saveCheckpoint(to, T.tensorsToRaw(model.stateDict()), kept);
}

export async function exportRun(runDir: string, outDir: string, tokenizerOut?: string): Promise<string[]> {
  const run = new RunDir(runDir);
  const info = run.readInfo();
  const out = new RunDir(outDir);
  if (out.root === run.root) throw new Error(`export --out ${outDir} is the run folder itself; give another folder`);
  // everything is parsed before anything is written: a bad artefact leaves no partial export
  const owned: Module[] = [];
  try {
    const tok = await openTokenizer(info.tokenizer);
    owned.push(tok.model);
    // a LlamaGen .pt tokenizer ships as a ctfgen safetensors file with its architecture in the metadata
    const tokMeta = { ...(await readTokenizerMeta(info.tokenizer)) };
    const clusters = info.clusters ? await loadClusters(info.clusters) : undefined;
    const stages: [Stage, Module, CheckpointMeta][] = [];
    for (const stage of STAGES)
      if (run.has(stage)) {
        // a run trained with --ema ships its averaged weights (the ones it samples with)
        const { model, meta } = await loadStageFile(run.checkpoint(stage));
        owned.push(model);
        stages.push([stage, model, meta]);
      }

    const tokenizer = resolve(tokenizerOut ?? join(out.root, 'tokenizer.safetensors'));
    const clustersOut = clusters ? join(out.root, 'clusters.safetensors') : undefined;
    const outInfo = { ...info, tokenizer, clusters: clustersOut, trainCache: '', valCache: undefined };
    // a folder that holds another run is refused before anything in it is overwritten
    out.mergedInfo(outInfo, 'export into a new --out folder');
    out.ensure();
    mkdirSync(dirname(tokenizer), { recursive: true });
    await writeModel(tok.model, tokMeta, tokenizer);
    const written = [tokenizer];
    if (clusters && clustersOut) {
      await saveClusters(clustersOut, clusters);
      written.push(clustersOut);
    }
    for (const [stage, model, meta] of stages) {
      await writeModel(model, meta, out.checkpoint(stage));
      written.push(out.checkpoint(stage));
    }
    out.writeInfo(outInfo);
    return written;
  } finally {
    owned.forEach((m) => m.dispose());
  }
}
