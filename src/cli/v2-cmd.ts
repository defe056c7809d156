// `ctfgen study fashion-mnist-v2`: study v2 part B — the trained runs (study/trained-study.ts),
// their measurements (study/trained-measurements.ts) and the report (docs/results-v2.md).
import { join } from 'node:path';
import { FASHION_MNIST_V2 } from '../study/fashion-mnist-v2.js';
import { runStudy, StudyLog } from '../study/runner.js';
import { shipModels, shippedChoice } from '../study/ship.js';
import { measureTrainedStudy } from '../study/trained-measurements.js';
import { writeTrainedReport } from '../study/trained-report.js';
import { trainedStudySteps } from '../study/trained-study.js';
import { packageRoot } from '../util/package-root.js';
import { progressReporter } from './progress.js';

export async function trainedStudyCommand(): Promise<string> {
  process.chdir(packageRoot);
  const c = FASHION_MNIST_V2;
  const log = new StudyLog(join('docs', 'study-log-v2.json'));
  if (!runStudy(trainedStudySteps(c), log)) throw new Error('study fashion-mnist-v2 stopped at a failed step (rerun to continue)');
  const bar = progressReporter();
  try {
    const t0 = Date.now();
    const r = await measureTrainedStudy(c, {
      cfg: [1, 1.25, 1.5, 1.75, 2, 2.5, 3],
      temperatures: [1.0, 1.1],
      sweepN: 1000,
      headlineN: 5000,
      seeds: [0, 1, 2],
      curveN: 2000,
      onProgress: bar,
    });
    bar.stop();
    const seconds = (Date.now() - t0) / 1000;
    // a resumed run adds its time to the earlier runs' (one that reads every file back adds nothing)
    const before = log.records.measurements?.seconds ?? 0;
    if (seconds > 60 || before === 0)
      log.add({
        name: 'measurements',
        command: 'npx ctfgen study fashion-mnist-v2',
        seconds: before + seconds,
        finishedAt: new Date().toISOString(),
      });
    if (c.shipped) for (const f of await shipModels(shippedChoice(r), c.shipped)) console.log(`shipped ${f}`);
    return await writeTrainedReport(r, log.records, join('docs', 'results-v2.md'), join('docs', 'figures'));
  } finally {
    bar.stop();
  }
}
