// What a codebook's clusters mean, measured and drawn: the redundancy experiment over several K
// (PSNR of token swaps, grids, JSON) and a picture of the members of sampled clusters.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { batches } from '../data/loader.js';
import { openDataset } from '../data/open.js';
import { writeJsonAtomic } from '../io/index.js';
import * as T from '../torch/index.js';
import { openTokenizer } from '../tokenizer/tokenizer-file.js';
import { imageGrid } from '../viz/index.js';
import { clusterCodebook, loadClusters } from './clusters.js';
import type { ClusterMethod } from './kmeans.js';
import { clusterPicture as clusterPictureImages, redundancyExperiment, type RedundancyResult } from './redundancy.js';

export interface RedundancyAnalysisOptions {
  tokenizer: string;
  data: string;
  n: number;
  clusters: number[];
  method: ClusterMethod;
  seed: number;
  outDir: string;
}

/** Runs the experiment for every K, writes `redundancy-k<K>.png` and `redundancy.json` into outDir. */
export async function analyzeRedundancy(o: RedundancyAnalysisOptions): Promise<{ images: number; results: RedundancyResult[] }> {
  const tok = await openTokenizer(o.tokenizer);
  mkdirSync(o.outDir, { recursive: true });
  try {
    const ds = openDataset(o.data, { limit: o.n });
    const b = batches(ds, { batchSize: ds.length, shuffle: false, transform: tok.transform }).next().value!;
    const codes = T.tidy(() => tok.model.encode(T.fromArray(b.images, [b.n, b.c, b.h, b.w])));
    const shape = codes.shape as [number, number, number];
    const flat = codes.toInt32Array();
    codes.dispose();
    const results: RedundancyResult[] = [];
    for (const k of o.clusters) {
      const cl = clusterCodebook(tok.model.quantizer.embedding.weight, k, { method: o.method, seed: o.seed, tokenizerId: tok.id });
      const r = redundancyExperiment(tok.model, flat, shape, cl.idxToCluster, k, { seed: o.seed });
      results.push(r);
      const [N, c, h, w] = r.gridShape;
      await imageGrid(r.grid, {
        n: N,
        c,
        h,
        w,
        cols: 4,
        scale: 3,
        colLabels: ['original', 'same cluster', 'other cluster', 'random'],
        title: `token swaps, K = ${k} (${o.method})`,
      }).savePng(join(o.outDir, `redundancy-k${k}.png`));
    }
    await writeJsonAtomic(join(o.outDir, 'redundancy.json'), {
      command: `ctfgen analyze redundancy --tokenizer ${o.tokenizer} --data ${o.data} --n ${o.n} --clusters ${o.clusters.join(',')} --method ${o.method} --seed ${o.seed}`,
      tokenizerId: tok.id,
      images: b.n,
      results: results.map((r) => ({ k: r.k, errors: r.errors })),
    });
    return { images: b.n, results };
  } finally {
    tok.model.dispose();
  }
}

/** A PNG of `rows` sampled clusters × `cols` members, each member code decoded as a flat token map. */
export async function clusterPicture(o: {
  tokenizer: string;
  clusters: string;
  out: string;
  rows: number;
  cols: number;
  seed: number;
}): Promise<{ clusters: number; members: number }> {
  const tok = await openTokenizer(o.tokenizer);
  try {
    const cl = await loadClusters(o.clusters);
    const p = clusterPictureImages(tok.model, cl.idxToCluster, cl.k, { rows: o.rows, cols: o.cols, seed: o.seed });
    const [N, c, h, w] = p.shape;
    await imageGrid(p.images, {
      n: N,
      c,
      h,
      w,
      cols: p.cols,
      scale: 4,
      rowLabels: p.rowLabels,
      title: `members of ${p.rowLabels.length} of ${cl.k} clusters (each code as a flat token map)`,
    }).savePng(o.out);
    return { clusters: p.rowLabels.length, members: p.cols };
  } finally {
    tok.model.dispose();
  }
}
