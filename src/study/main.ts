// `npm run study`: runs (or resumes) the Fashion-MNIST study and rewrites docs/results.md.
import { mkdirSync } from 'node:fs';
import { FIG, ROOT, studySteps } from './fashion-mnist.js';
import { writeReport } from './report.js';
import { runStudy, StudyLog } from './runner.js';

mkdirSync(ROOT, { recursive: true });
mkdirSync(FIG, { recursive: true });
const log = new StudyLog('docs/study-log.json');
const reportOnly = process.argv.includes('--report-only');
const ok = reportOnly || runStudy(studySteps(), log);
await writeReport(log);
console.log('wrote docs/results.md');
if (!ok) process.exitCode = 1;
