// `npm run study [-- fashion-mnist|emoji] [--report-only]`: runs (or resumes) a study and rewrites
// its report.
import { mkdirSync } from 'node:fs';
import { writeReport } from './report.js';
import { runStudy, StudyLog } from './runner.js';
import { studySteps } from './steps.js';
import { studyConfig } from './studies.js';

const args = process.argv.slice(2);
const c = studyConfig(args.find((a) => !a.startsWith('--')) ?? 'fashion-mnist');
mkdirSync(c.root, { recursive: true });
mkdirSync(c.fig, { recursive: true });
const log = new StudyLog(c.log);
const ok = args.includes('--report-only') || runStudy(studySteps(c), log);
await writeReport(c, log);
console.log(`wrote ${c.report}`);
if (!ok) process.exitCode = 1;
