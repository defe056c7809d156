// A tokenizer stand-in for trainer tests: 4x4 block means of the fixture images quantised to 64
// levels; codewords lie on a half circle so clustering groups neighbouring levels.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterCodebook, saveClusters, type Clusters } from '../../src/cluster/clusters.js';
import { openDataset } from '../../src/data/open.js';
import { buildTokenCache, saveTokenCache, type TokenCache } from '../../src/data/token-cache.js';
import { MetricsLog } from '../../src/train/metrics-log.js';
import { trainTokens } from '../../src/train/train-tokens.js';
import * as T from '../../src/torch/index.js';

export const LEVELS = 64;

export function blockEncoder(images: Float32Array, n: number): Int32Array {
  const out = new Int32Array(n * 49);
  for (let i = 0; i < n; i++)
    for (let by = 0; by < 7; by++)
      for (let bx = 0; bx < 7; bx++) {
        let s = 0;
        for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) s += images[i * 784 + (by * 4 + y) * 28 + bx * 4 + x]!;
        out[i * 49 + by * 7 + bx] = Math.min(LEVELS - 1, Math.floor(((s / 16 + 1) / 2) * LEVELS));
      }
  return out;
}

export interface SyntheticSetup {
  dir: string;
  /** a stand-in for the tokenizer file a run names (the block encoder has no weights) */
  tokenizer: string;
  train: string;
  val: string;
  clustersPath: string;
  clusters: Clusters;
  valCache: TokenCache;
}

export async function syntheticSetup(k = 8): Promise<SyntheticSetup> {
  const dir = mkdtempSync(join(tmpdir(), 'ctf-train-'));
  const ds = openDataset('fixture');
  const opts = { encode: blockEncoder, gridH: 7, gridW: 7, tokenizerId: 'blocks', codebookSize: LEVELS, transform: {} };
  const all = buildTokenCache(ds, opts);
  // first 240 images train, last 60 validate
  const split = (from: number, to: number): TokenCache => ({
    ...all,
    n: to - from,
    codes: all.codes.slice(from * 2 * 49, to * 2 * 49),
    labels: all.labels.slice(from, to),
  });
  const train = join(dir, 'train.tokens.safetensors');
  const val = join(dir, 'val.tokens.safetensors');
  const valCache = split(240, 300);
  await saveTokenCache(train, split(0, 240));
  await saveTokenCache(val, valCache);
  const angles = Float32Array.from({ length: LEVELS * 2 }, (_, i) => (i % 2 ? Math.sin : Math.cos)((Math.floor(i / 2) / LEVELS) * Math.PI));
  const codebook = T.fromArray(angles, [LEVELS, 2]);
  const clusters = clusterCodebook(codebook, k, { seed: 0, tokenizerId: 'blocks' });
  codebook.dispose();
  const clustersPath = join(dir, 'clusters.safetensors');
  await saveClusters(clustersPath, clusters);
  const tokenizer = join(dir, 'blocks.safetensors');
  writeFileSync(tokenizer, '');
  return { dir, tokenizer, train, val, clustersPath, clusters, valCache };
}

/** Trains a toy baseline on the synthetic tokens (no dropout) into <dir>/<name>; returns the per-step losses. */
export async function trainToyBaseline(
  s: SyntheticSetup,
  name: string,
  o: { dim: number; nLayer: number; steps: number; batchSize: number; precision?: T.Precision },
): Promise<number[]> {
  const r = await trainTokens({
    stage: 'baseline',
    run: join(s.dir, name),
    tokenizer: s.tokenizer,
    trainCache: s.train,
    model: { dim: o.dim, nLayer: o.nLayer, nHead: 2 },
    steps: o.steps,
    batchSize: o.batchSize,
    schedule: { lr: 3e-3 },
    dropout: { token: 0, resid: 0, ffn: 0, class: 0 },
    seed: 1,
    precision: o.precision,
  });
  r.model.dispose();
  return new MetricsLog(join(s.dir, name, 'baseline.metrics.jsonl')).read().map((m) => m.loss as number);
}
