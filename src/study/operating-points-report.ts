// The report of the operating-points study (operating-points.ts): a claims table first, then the
// tables every claim's numbers come from, and the sweep as a figure (FID against class accuracy).
import { mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { writeFileAtomic } from '../io/index.js';
import { packageRoot } from '../util/package-root.js';
import { linePlot } from '../viz/index.js';
import type { Measurement, OperatingPointsResult } from './operating-points.js';
import { settingsLabel } from './operating-points.js';

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
export const sd = (xs: number[]) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));
export const pm = (xs: number[], d: number) => `${mean(xs).toFixed(d)} ± ${sd(xs).toFixed(d)}`;
/** A path as the package's docs show it (relative to the package). */
export const shown = (p: string) => relative(packageRoot, p) || p;
export const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export function row(label: string, m: Measurement): string {
  return `| ${label} | ${m.fid.toFixed(2)} | ${(m.fidTerms?.mean ?? NaN).toFixed(2)} | ${(m.fidTerms?.cov ?? NaN).toFixed(2)} | ${m.kid.toFixed(2)} | ${m.isMean.toFixed(2)} | ${m.precision.toFixed(3)} | ${m.recall.toFixed(3)} | ${pct(m.classAccuracy)} | ${m.n} |`;
}
export const HEAD =
  '| | FID ↓ | mean term | cov term | KID ↓ | IS ↑ | precision | recall | class acc | n |\n|---|---|---|---|---|---|---|---|---|---|';

/** How far each system's class accuracy goes in the sweep, and its FID there. */
function reach(r: OperatingPointsResult): string {
  const top = (s: 'ctf' | 'baseline') => r.sweep[s].reduce((a, b) => (b.classAccuracy > a.classAccuracy ? b : a));
  const [c, b] = [top('ctf'), top('baseline')];
  const beyond = r.sweep.ctf.filter((m) => m.classAccuracy > b.classAccuracy);
  const bestBeyond = beyond.length > 0 ? beyond.reduce((a, m) => (m.fid < a.fid ? m : a)) : null;
  return (
    `The highest class accuracy in the sweep: CTF ${pct(c.classAccuracy)} (${settingsLabel(c)}, FID ${c.fid.toFixed(1)}), the baseline ` +
    `${pct(b.classAccuracy)} (${settingsLabel(b)}, FID ${b.fid.toFixed(1)}).` +
    (bestBeyond
      ? ` Above the baseline's highest, CTF's best is FID ${bestBeyond.fid.toFixed(1)} at ${pct(bestBeyond.classAccuracy)} (${settingsLabel(bestBeyond)}): operating points only CTF reaches.`
      : '')
  );
}

/** What the breakdown says, in words that follow the numbers. */
/**
 * Differences below this many FID points between two one-seed measurements of 5,000 images are not
 * read as a difference: twice the larger seed sd of the headline rows.
 */
export function noiseFloor(r: OperatingPointsResult): number {
  const fids = (s: 'ctf' | 'baseline') => r.best[s].report.map((m) => m.fid);
  return 2 * Math.max(sd(fids('ctf')), sd(fids('baseline')));
}

/** A difference to one decimal with its sign (+1.2, -0.4; 0.0 when it rounds to zero). */
function signed(x: number): string {
  const v = Number(x.toFixed(1)) || 0;
  return `${v > 0 ? '+' : ''}${v.toFixed(1)}`;
}

function reading(r: OperatingPointsResult, fullCtf: number): string {
  const { real, reconstruction: recon } = r.references;
  const { stage2Sampled: c, randomMember: d } = r.breakdown;
  const [tokenizer, stage2, stage1] = [recon.fid - real.fid, c.fid - recon.fid, fullCtf - c.fid];
  const where = stage1 > stage2 ? 'in stage 1 (the coarse maps), not in stage 2' : 'in stage 2 as much as in stage 1';
  const dMean = d.fidTerms!.mean - c.fidTerms!.mean;
  const dCov = d.fidTerms!.cov - c.fidTerms!.cov;
  return (
    `Reading: the tokenizer costs ${tokenizer.toFixed(1)} FID points (a → b), stage 2 drawing fine tokens from the true coarse maps ` +
    `${stage2.toFixed(1)} more (b → c), and stage 1's own coarse maps the remaining ${stage1.toFixed(1)} (c → e, mean over seeds): ` +
    `at this scale CTF's FID is lost ${where}. A random member of the true cluster (d) scores ${d.fid.toFixed(2)} against stage 2's ` +
    `draw's ${c.fid.toFixed(2)} (${signed(d.fid - c.fid)}: mean term ${signed(dMean)}, covariance term ${signed(dCov)})` +
    (d.fid - c.fid > noiseFloor(r)
      ? ': stage 2 learns which member of a cluster fits its neighbours.'
      : `: within the noise (${noiseFloor(r).toFixed(1)}), stage 2's draw is no measurably better than a random member.`)
  );
}

/** The sweep as a figure: FID against class accuracy, a line per system and stage-1 temperature. */
export async function writeSweepFigure(r: OperatingPointsResult, fig: string): Promise<void> {
  mkdirSync(dirname(fig), { recursive: true });
  await linePlot({
    title: 'validation set: FID against class accuracy (CFG sweep)',
    xLabel: 'class accuracy',
    yLabel: 'FID',
    series: (['ctf', 'baseline'] as const).flatMap((s) =>
      r.config.temperatures.map((t, i) => {
        const pts = r.sweep[s].filter((m) => m.settings!.temperature === t);
        return {
          name: `${s} tau ${t}`,
          x: pts.map((m) => m.classAccuracy),
          y: pts.map((m) => m.fid),
          color: s === 'ctf' ? (i === 0 ? '#1f77b4' : '#7fb8e0') : i === 0 ? '#d62728' : '#f0a0a0',
        };
      }),
    ),
  }).savePng(fig);
}

/** A verdict from seeds: reproduced / not reproduced / inconclusive when the difference is within the spread. */
export function seedVerdict(ours: number[], theirs: number[], lowerBetter: boolean): string {
  const d = mean(ours) - mean(theirs);
  const spread = sd(ours) + sd(theirs);
  if (Math.abs(d) <= spread) return `inconclusive (difference ${Math.abs(d).toFixed(2)} within the seed spread ${spread.toFixed(2)})`;
  return d < 0 === lowerBetter ? 'reproduced' : 'not reproduced (the baseline is better)';
}

/** The claims table's rows the operating points decide (best against best, matched accuracy, speed, stage-2 sampling). */
export function pointsClaimRows(r: OperatingPointsResult): string[] {
  const b = r.best;
  const fids = (s: 'ctf' | 'baseline') => b[s].report.map((m) => m.fid);
  const field = (s: 'ctf' | 'baseline', k: 'isMean' | 'kid' | 'precision' | 'recall' | 'classAccuracy') => b[s].report.map((m) => m[k]);
  const ips = (s: 'ctf' | 'baseline') => b[s].report.map((m) => m.n / m.seconds);
  const bd = r.breakdown;
  return [
    `| CTF has better FID than the baseline (best against best) | CTF ${pm(fids('ctf'), 2)} (${settingsLabel(b.ctf.validation)}) vs baseline ${pm(fids('baseline'), 2)} (${settingsLabel(b.baseline.validation)}) | ${seedVerdict(fids('ctf'), fids('baseline'), true)} |`,
    `| CTF has better KID (best against best) | CTF ${pm(field('ctf', 'kid'), 2)} vs ${pm(field('baseline', 'kid'), 2)} | ${seedVerdict(field('ctf', 'kid'), field('baseline', 'kid'), true)} |`,
    `| CTF has better IS | ${pm(field('ctf', 'isMean'), 2)} vs ${pm(field('baseline', 'isMean'), 2)} | ${seedVerdict(field('ctf', 'isMean'), field('baseline', 'isMean'), false)} |`,
    `| at matched class accuracy CTF has better FID | CTF ${r.matched.ctf.report.fid.toFixed(2)} at ${pct(r.matched.ctf.report.classAccuracy)} (${settingsLabel(r.matched.ctf.validation)}, target ${pct(r.matched.ctf.target)}) vs baseline at its best ${pm(fids('baseline'), 2)} at ${pct(mean(field('baseline', 'classAccuracy')))}; baseline ${r.matched.baseline.report.fid.toFixed(2)} at ${pct(r.matched.baseline.report.classAccuracy)} (${settingsLabel(r.matched.baseline.validation)}) vs CTF at its best ${pm(fids('ctf'), 2)} at ${pct(mean(field('ctf', 'classAccuracy')))} | ${r.matched.ctf.report.fid < mean(fids('baseline')) && mean(fids('ctf')) < r.matched.baseline.report.fid ? 'reproduced at both points' : r.matched.ctf.report.fid > mean(fids('baseline')) && mean(fids('ctf')) > r.matched.baseline.report.fid ? 'not reproduced at either point' : 'mixed (one seed each: see the table)'} |`,
    `| CTF samples faster | images/s of generation (stage 1, stage 2, VQ decode; batch 100; on the shared 2-core machine, so noisy: \`node dist/bench/sampling.js\` times the stages under control): CTF ${pm(ips('ctf'), 1)} vs ${pm(ips('baseline'), 1)} | ${seedVerdict(ips('ctf'), ips('baseline'), false)} |`,
    `| sampled stage 2 beats argmax stage 2 | true coarse maps through stage 2: sampled FID ${bd.stage2Sampled.fid.toFixed(2)}, argmax ${bd.stage2Argmax.fid.toFixed(2)} | ${bd.stage2Argmax.fid - bd.stage2Sampled.fid > noiseFloor(r) ? 'reproduced' : bd.stage2Sampled.fid - bd.stage2Argmax.fid > noiseFloor(r) ? 'not reproduced' : `inconclusive (within ${noiseFloor(r).toFixed(1)}, twice the headline seed sd)`} (one seed) |`,
  ];
}

/** The tables the claims come from: reference rows and breakdown, best against best, matched accuracy, the sweep (its figure at `fig`). */
export function pointsSections(r: OperatingPointsResult, reportPath: string, fig: string): string[] {
  const b = r.best;
  const bd = r.breakdown;
  return [
    "## Reference rows and where CTF's FID goes (report set)",
    '',
    'Each row replaces one more part of the pipeline by the model; the validation images supply the true token and coarse maps. FID = mean term (‖μ₁ − μ₂‖²) + covariance term.',
    '',
    HEAD,
    row('(a) held-out real images (validation set)', r.references.real),
    row('(b) their tokenizer reconstructions', r.references.reconstruction),
    row('(c) true coarse maps → stage 2, sampled', bd.stage2Sampled),
    row('(c′) true coarse maps → stage 2, argmax', bd.stage2Argmax),
    row('(d) true coarse maps, a random code of each cluster', bd.randomMember),
    ...b.ctf.report.map((m, i) => row(`(e) full CTF, seed ${r.config.seeds[i]}`, m)),
    '',
    reading(r, mean(b.ctf.report.map((m) => m.fid))),
    '',
    '## Best against best (report set)',
    '',
    HEAD,
    ...(['ctf', 'baseline'] as const).flatMap((s) =>
      b[s].report.map((m, i) => row(`${s} ${settingsLabel(m)}, seed ${r.config.seeds[i]}`, m)),
    ),
    '',
    '## Matched class accuracy (report set, seed ' + r.config.seeds[0] + ')',
    '',
    HEAD,
    ...(['ctf', 'baseline'] as const).map((s) =>
      row(
        `${s} ${settingsLabel(r.matched[s].validation)} (validation accuracy ${pct(r.matched[s].validation.classAccuracy)}, target ${pct(r.matched[s].target)})`,
        r.matched[s].report,
      ),
    ),
    '',
    '## The sweep (validation set)',
    '',
    `![FID against class accuracy](${relative(dirname(reportPath), fig)})`,
    '',
    reach(r),
    '',
    HEAD,
    ...(['ctf', 'baseline'] as const).flatMap((s) => r.sweep[s].map((m) => row(`${s} ${settingsLabel(m)}`, m))),
    '',
  ];
}

/** Writes part A's Markdown report and its figure; returns the report's path. */
export async function writeOperatingPointsReport(r: OperatingPointsResult, reportPath: string, figDir: string): Promise<string> {
  const fig = join(figDir, 'operating-points-sweep.png');
  await writeSweepFigure(r, fig);
  const lines = [
    '# Study v2, part A: operating points, reference rows and where the FID goes',
    '',
    `Generated by \`npx ctfgen study fashion-mnist-points\` (resumable; measurements under \`${shown(r.config.out)}\`). No training: the shipped Fashion-MNIST models (\`${shown(r.config.runs.ctf)}\`, \`${shown(r.config.runs.baseline)}\`), feature network \`${shown(r.config.classifier)}\`. Settings are chosen on **${r.config.validation}** (validation) and reported on **${r.config.report}** (report), two disjoint halves of the test split. ${protocol(r)} Part B, the trained runs at the paper's proportions, is in [results-v2.md](results-v2.md).`,
    '',
    '## Claims',
    '',
    '| claim of the paper | our numbers (report set, mean ± sd over seeds) | verdict |',
    '|---|---|---|',
    ...pointsClaimRows(r),
    '| faster convergence; too-small K fails; random clusters fail; larger stage 2 helps | need training runs: part B ([results-v2.md](results-v2.md)) | not tested here |',
    '',
    ...pointsSections(r, reportPath, fig),
  ];
  await writeFileAtomic(reportPath, lines.join('\n'));
  return reportPath;
}

/** The sweep and headline protocol in one sentence. */
export function protocol(r: OperatingPointsResult): string {
  return `Sweep: CFG ∈ {${r.config.cfg.join(', ')}} × τ1 ∈ {${r.config.temperatures.join(', ')}}, ${r.config.sweepN} images each (seed 0); headline rows ${r.config.headlineN} images × seeds {${r.config.seeds.join(', ')}}; precision/recall on equal-sized sets; KID over subsets (unbiased, cubic kernel).`;
}
