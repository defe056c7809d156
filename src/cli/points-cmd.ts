// `ctfgen study fashion-mnist-points`: study v2, part A (study/operating-points.ts) on the shipped
// Fashion-MNIST models, then its report (docs/results-points.md).
import { join } from 'node:path';
import { runOperatingPoints } from '../study/operating-points.js';
import { writeOperatingPointsReport } from '../study/operating-points-report.js';
import { packageRoot, shippedPath } from '../util/package-root.js';
import { progressReporter } from './progress.js';

export async function pointsCommand(): Promise<string> {
  const bar = progressReporter();
  try {
    const r = await runOperatingPoints({
      out: join(packageRoot, 'runs', 'fmnist-points'),
      runs: { ctf: shippedPath('models/fashion-mnist/ctf'), baseline: shippedPath('models/fashion-mnist/baseline') },
      classifier: shippedPath('models/fashion-mnist-classifier.safetensors'),
      validation: 'fashion-mnist:test@0:5000',
      report: 'fashion-mnist:test@5000:10000',
      cfg: [1, 1.25, 1.5, 1.75, 2, 2.5, 3],
      temperatures: [1.0, 1.1],
      sweepN: 1000,
      headlineN: 5000,
      seeds: [0, 1, 2],
      onProgress: bar,
    });
    bar.stop();
    return await writeOperatingPointsReport(r, join(packageRoot, 'docs', 'results-points.md'), join(packageRoot, 'docs', 'figures'));
  } finally {
    bar.stop();
  }
}
