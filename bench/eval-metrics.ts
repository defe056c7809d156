// Evaluation metric cost at the paper's scale on synthetic features: statistics of 10k features,
// the Fréchet distance (LAPACK, src/eval/fid.ts) at F = 128 and 256, the inception score of
// 10k predictions, and precision/recall of 10k × 10k feature sets (float64 and float32 distances).
// Run: npx tsc -p tsconfig.json && node dist/bench/eval-metrics.js [n]
import { Rng } from '../src/data/rng.js';
import { featureStats, frechetTerms, inceptionScore, precisionRecall, softmaxRows } from '../src/eval/index.js';

const n = Number(process.argv[2] ?? 10000);
const rng = new Rng(0);

function time<R>(label: string, fn: () => R): R {
  const t0 = performance.now();
  const r = fn();
  console.log(`${label.padEnd(44)} ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  return r;
}

for (const dim of [128, 256]) {
  const a = Float32Array.from({ length: n * dim }, () => Math.max(0, rng.normal()));
  const b = Float32Array.from({ length: n * dim }, () => Math.max(0, rng.normal(0.05)));
  const sa = time(`featureStats ${n} x ${dim}`, () => featureStats({ data: a, dim }));
  const sb = featureStats({ data: b, dim });
  const t = time(`Fréchet distance F = ${dim}`, () => frechetTerms(sa, sb));
  console.log(`  FID ${t.fid.toFixed(4)} (mean term ${t.meanTerm.toFixed(4)})`);
  if (dim === 128) {
    for (const dtype of ['float64', 'float32'] as const) {
      const pr = time(`precision/recall ${n} x ${n} x ${dim} (${dtype})`, () =>
        precisionRecall({ data: a, dim }, { data: b, dim }, { dtype }),
      );
      console.log(`  precision ${pr.precision.toFixed(4)} recall ${pr.recall.toFixed(4)}`);
    }
  }
}
const probs = softmaxRows(
  Array.from({ length: n * 10 }, () => rng.normal(0, 3)),
  10,
);
const is = time(`inception score ${n} x 10`, () => inceptionScore(probs, 10));
console.log(`  IS ${is.mean.toFixed(3)} ± ${is.std.toFixed(3)}`);
