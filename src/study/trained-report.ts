// The report of study v2 part B (trained-measurements.ts): the claims table first, then the
// aux-size curve, the convergence curve, and the operating-points tables of the main runs.
import { dirname, join, relative } from 'node:path';
import { datasetPart } from '../data/open.js';
import { writeFileAtomic } from '../io/index.js';
import { linePlot } from '../viz/index.js';
import {
  HEAD,
  mean,
  noiseFloor,
  pct,
  pm,
  pointsClaimRows,
  pointsSections,
  protocol,
  row,
  sd,
  seedVerdict,
  shown,
  writeSweepFigure,
} from './operating-points-report.js';
import { settingsLabel } from './operating-points.js';
import type { StepRecord } from './runner.js';
import type { CoarseRow, CurvePoint, Stage2Row, TrainedStudyResult } from './trained-measurements.js';
import { shippedChoice, type ShippedCandidate } from './ship.js';
import { baselineRun, smallTokenizer, stage2Run } from './trained-study.js';

const millions = (n: number) => `${(n / 1e6).toFixed(2)}M`;

/** A claim's verdict from the FID it predicts a gain of (positive: the claim's direction), against the one-seed noise floor. */
function byFloor(gain: number, floor: number, what: string): string {
  const d = Math.abs(gain).toFixed(1);
  return gain > floor
    ? `reproduced (${what}: ${d} FID better)`
    : gain < -floor
      ? `not reproduced (${what}: ${d} FID worse)`
      : `inconclusive (${what}: a difference of ${d} FID, within the noise floor ${floor.toFixed(1)})`;
}

/**
 * The FID difference two trained runs of one seed each must exceed to count: the sampling noise
 * floor or, with several training seeds of the headline systems, twice the larger of their
 * training-seed sds, whichever is larger (a retrained run moves more than a resampled one).
 */
function runFloor(r: TrainedStudyResult): number {
  const bySeed = (s: 'ctf' | 'baseline') => sd(r.trainingSeeds.map((x) => x[s].fid));
  return Math.max(noiseFloor(r.points), 2 * Math.max(bySeed('ctf'), bySeed('baseline')));
}

function floorNote(r: TrainedStudyResult): string[] {
  const [sampling, run] = [noiseFloor(r.points), runFloor(r)];
  return run > sampling
    ? [
        '',
        `The rows comparing trained runs (the convergence snapshots, stage 2 size, K, random clusters, the control) count a difference only beyond ${run.toFixed(1)} FID: twice the larger training-seed sd of the headline systems (${r.trainingSeeds.length} training seeds, see "Training seeds"), above the sampling-seed floor of ${sampling.toFixed(1)}.`,
      ]
    : [];
}

/** A system's curve FIDs at a step, one per training seed. */
const curveAt = (r: TrainedStudyResult, s: CurvePoint['system'], step: number): number[] =>
  r.curve.filter((p) => p.system === s && p.step === step).map((p) => p.m.fid);
const trainingSeedsOf = (r: TrainedStudyResult): number[] => r.trainingSeeds.map((x) => x.seed);

function convergenceVerdict(r: TrainedStudyResult): { numbers: string; verdict: string } {
  const at = (s: CurvePoint['system'], step: number) => mean(curveAt(r, s, step));
  const steps = [...new Set(r.curve.map((p) => p.step))];
  const diffs = steps.map((s) => at('baseline', s) - at('ctf', s));
  // the snapshots are single trained runs per seed: a retrained run moves more than a resampled one
  const floor = runFloor(r);
  const seeds = trainingSeedsOf(r).length;
  const numbers = `${steps.map((s) => `step ${s}: CTF ${at('ctf', s).toFixed(1)} vs ${at('baseline', s).toFixed(1)}`).join('; ')} (${seeds === 1 ? 'one training seed' : `means of ${seeds} training seeds`}, ${r.options.curveN} images each)`;
  const early = diffs.slice(0, -1);
  const verdict = early.every((d) => d > floor)
    ? 'reproduced (CTF lower at every earlier snapshot)'
    : early.every((d) => d < -floor)
      ? 'not reproduced (the baseline is lower at every earlier snapshot)'
      : `inconclusive (differences within ${floor.toFixed(1)} FID, the noise floor, or of both signs)`;
  return { numbers, verdict };
}

/** The stage 2s of the size curve (no design flags), smallest first. */
const sizeRows = (r: TrainedStudyResult): Stage2Row[] =>
  r.stage2.filter((a) => !a.run.flags?.length).sort((a, b) => a.params.blocks - b.params.blocks);

function auxVerdict(r: TrainedStudyResult): { numbers: string; verdict: string } {
  const rows = sizeRows(r);
  const small = rows[0]!;
  const large = rows[rows.length - 1]!;
  const floor = runFloor(r);
  const numbers = rows
    .map(
      (a) =>
        `${a.run.name}: stage 2 alone ${a.trueCoarse.fid.toFixed(1)}, full CTF ${a.full.fid.toFixed(1)}, val loss ${a.valLoss.toFixed(3)}`,
    )
    .join('; ');
  const verdict = `${byFloor(small.full.fid - large.full.fid, floor, `full CTF from ${small.run.name} to ${large.run.name}`)}; stage 2 alone: ${small.trueCoarse.fid.toFixed(1)} → ${large.trueCoarse.fid.toFixed(1)}`;
  return { numbers, verdict };
}

const designNote = (r: TrainedStudyResult): string => {
  const v = r.stage2.filter((a) => a.run.flags?.length);
  return v.length === 0 ? '' : ` Design variants: ${v.map((a) => `${a.run.name} (\`${a.run.flags!.join(' ')}\`)`).join(', ')}.`;
};

/** What the study could train with one more config entry but did not, each with where that entry goes. */
function notTrained(r: TrainedStudyResult): string[] {
  const k = r.config.k;
  const labellings = [
    ['random clusters', r.coarse.some((x) => x.run.method === 'random')],
    [`K below ${k}`, r.coarse.some((x) => x.run.method === 'kmeans' && x.run.k < k)],
    [`K above ${k}`, r.coarse.some((x) => x.run.method === 'kmeans' && x.run.k > k)],
  ].flatMap(([what, tried]) => (tried ? [] : [what as string]));
  const designs = [
    ['--stage2-causal', 'causal attention'],
    ['--stage2-mask', 'the masked loss'],
  ].flatMap(([flag, what]) => (r.stage2.some((a) => a.run.flags?.includes(flag!)) ? [] : [what!]));
  const missing = [
    ...(labellings.length ? [`${labellings.join(', ')} (entries in \`coarse\` of \`src/study/fashion-mnist-v2.ts\`)`] : []),
    ...(designs.length ? [`stage 2 with ${designs.join(' or ')} (entries with flags in \`stage2\`)`] : []),
    r.trainingSeeds.length < 2
      ? "other seeds of the training runs (the spread in this report is the sampling seeds'; entries in `trainingSeeds`)"
      : `other training seeds of the ablations (only the headline systems have ${r.trainingSeeds.length})`,
  ];
  return [
    `- Not trained (CPU time): ${missing.join(', ')}. Each is one more config entry; the runner resumes the study and measures the new runs.`,
  ];
}

/** Stage 2 designs over the same stage 1 at the smallest size (causal attention, masked loss), when the study trained any. */
function designTable(r: TrainedStudyResult): string[] {
  const small = sizeRows(r)[0]!;
  const rows = r.stage2.filter((a) => a.params.blocks === small.params.blocks);
  if (rows.length < 2) return [];
  return [
    `The paper leaves open whether stage 2 should attend causally and whether its loss should be restricted to the members of each position's coarse label; these runs compare the designs over the same stage 1 (one training seed: FID differences within ${runFloor(r).toFixed(1)} are no difference).${rows.some((a) => a.run.flags?.includes('--stage2-mask')) ? " A masked run's losses are over its cluster's members only, so they are lower by construction: compare its FIDs." : ''}`,
    '',
    '| stage 2 | final validation loss | validation accuracy | FID, stage 2 alone | FID, full CTF | KID, full CTF | class acc |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (a) =>
        `| ${a.run.name}${a.run.flags?.length ? ` (\`${a.run.flags.join(' ')}\`)` : ' (full attention, unmasked loss)'} | ${a.valLoss.toFixed(4)} | ${(100 * a.valAcc).toFixed(1)}% | ${a.trueCoarse.fid.toFixed(2)} | ${a.full.fid.toFixed(2)} | ${a.full.kid.toFixed(2)} | ${(100 * a.full.classAccuracy).toFixed(1)}% |`,
    ),
    '',
  ];
}

const coarseLabel = (x: CoarseRow) => `${x.run.method === 'random' ? 'random' : 'k-means'} K = ${x.run.k}`;
const atChosen = (x: CoarseRow) => `${coarseLabel(x)}: ${x.chosen.report.fid.toFixed(1)} (${settingsLabel(x.chosen.report)})`;

/** The k-means labellings, and the K chosen among them on the validation range. */
function kChoice(r: TrainedStudyResult): CoarseRow | null {
  const rows = r.coarse.filter((x) => x.run.method === 'kmeans');
  return rows.length === 0 ? null : rows.reduce((a, b) => (b.chosen.validation.fid < a.chosen.validation.fid ? b : a));
}

function coarseClaimRows(r: TrainedStudyResult): string[] {
  const [main, ...variants] = r.coarse;
  if (!main) return ['| too-small K fails; random clusters fail | no coarse-label variants trained | not tested |'];
  const floor = runFloor(r);
  const how = 'full CTF with a 1x stage 2, each at its CFG chosen on the validation range, seed 0';
  const small = variants.filter((v) => v.run.method === 'kmeans' && v.run.k < main.run.k).sort((a, b) => a.run.k - b.run.k)[0];
  const large = variants.filter((v) => v.run.method === 'kmeans' && v.run.k > main.run.k).sort((a, b) => a.run.k - b.run.k)[0];
  const random = variants.find((v) => v.run.method === 'random');
  return [
    ...(small
      ? [
          `| too-small K fails (the paper: K = 128 of 16,384 codes, FID 11.23 against 5.51 at K = 512) | ${how}: ${atChosen(small)} (${r.codebookSize / small.run.k} codes per cluster) vs ${atChosen(main)} (${r.codebookSize / main.run.k}) | ${byFloor(small.chosen.report.fid - main.chosen.report.fid, floor, `K = ${main.run.k} against K = ${small.run.k}`)} |`,
        ]
      : []),
    ...(large
      ? [
          `| more clusters than the main K help a little (the paper: K = 1024 of 16,384 codes, FID 5.38 against 5.51 at K = 512) | ${how}: ${atChosen(large)} (${r.codebookSize / large.run.k} codes per cluster) vs ${atChosen(main)} (${r.codebookSize / main.run.k}) | ${byFloor(main.chosen.report.fid - large.chosen.report.fid, floor, `K = ${large.run.k} against K = ${main.run.k}`)} |`,
        ]
      : []),
    random
      ? `| random clusters fail (stage 2 can no longer recover the fine tokens) | stage 2 validation accuracy ${pct(random.stage2.valAcc)} vs ${pct(main.stage2.valAcc)} (k-means); stage 2 alone ${random.trueCoarse.fid.toFixed(1)} vs ${main.trueCoarse.fid.toFixed(1)}; ${how}: ${atChosen(random)} vs ${atChosen(main)} | ${byFloor(random.chosen.report.fid - main.chosen.report.fid, floor, 'k-means against random clusters, full CTF')} |`
      : '| random clusters fail | not trained in part B; the short-budget random-cluster run of [results.md](results.md) is the evidence so far | not tested in part B |',
  ];
}

function controlClaimRow(r: TrainedStudyResult): string[] {
  const s = r.smallCodebook;
  if (!s) return [];
  const ctf = r.points.best.ctf.report[0]!;
  const control = s.chosen.report;
  return [
    `| (the key control) CTF beats simply using a small codebook: the baseline over a ${s.codes}-code tokenizer | seed 0: CTF ${ctf.fid.toFixed(1)} (${settingsLabel(ctf)}) vs the ${s.codes}-code baseline ${control.fid.toFixed(1)} (${settingsLabel(control)}, chosen on the validation range); reconstructions ${s.reconstruction.fid.toFixed(1)} with ${s.codes} codes vs ${r.points.references.reconstruction.fid.toFixed(1)} with ${r.codebookSize} | ${byFloor(control.fid - ctf.fid, runFloor(r), 'CTF against the small codebook')} |`,
  ];
}

function coarseSection(r: TrainedStudyResult): string[] {
  const chosen = kChoice(r);
  if (!chosen) return [];
  const [main] = r.coarse;
  return [
    '## Coarse labels: K and random clusters (report set)',
    '',
    `Each row is a stage 1 and a stage 2 of stage 1's size trained over those coarse labels with the main runs' budget (the first row: the main clusters, with the main stage 1 and stage 2 ${main!.run.name}). Each has its own CFG chosen on the validation range (τ ${r.coarse[0]!.chosen.validation.settings!.temperature}, ${r.options.sweepN} images); the report set gets ${r.options.headlineN} images at that setting, seed ${r.options.seeds[0]}. Stage 2 alone: the true coarse maps of the validation images through that stage 2.`,
    '',
    ...(r.coarse.some((x) => x.run.method === 'random')
      ? [
          "Stage 2's validation accuracy counts exact codes: with random clusters a wrong code is an unrelated one, with k-means a near neighbour that decodes alike, so a higher accuracy can come with a far worse FID (stage 2 alone). Compare the FIDs.",
          '',
        ]
      : []),
    `**K chosen on the validation range: K = ${chosen.run.k}** (validation FID at each K's chosen CFG: ${r.coarse
      .filter((x) => x.run.method === 'kmeans')
      .map((x) => `K = ${x.run.k}: ${x.chosen.validation.fid.toFixed(1)}`)
      .join(', ')}).`,
    '',
    '| coarse labels | codes per cluster | stage 1 validation loss / accuracy | stage 2 validation loss / accuracy | FID, stage 2 alone | chosen CFG (validation FID) | FID, full CTF | KID | IS | class acc |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...r.coarse.map(
      (x) =>
        `| ${coarseLabel(x)} (\`${shown(x.dir)}\`) | ${r.codebookSize / x.run.k} | ${x.stage1.valLoss.toFixed(4)} / ${pct(x.stage1.valAcc)} | ${x.stage2.valLoss.toFixed(4)} / ${pct(x.stage2.valAcc)} | ${x.trueCoarse.fid.toFixed(2)} | ${x.chosen.validation.settings!.cfg} (${x.chosen.validation.fid.toFixed(2)}) | ${x.chosen.report.fid.toFixed(2)} | ${x.chosen.report.kid.toFixed(2)} | ${x.chosen.report.isMean.toFixed(2)} | ${pct(x.chosen.report.classAccuracy)} |`,
    ),
    '',
  ];
}

function seedsClaimRow(r: TrainedStudyResult): string[] {
  const rows = r.trainingSeeds;
  if (rows.length < 2) return [];
  const [ctf, baseline] = [rows.map((x) => x.ctf.fid), rows.map((x) => x.baseline.fid)];
  return [
    `| CTF has better FID than the baseline, across training seeds | ${rows.map((x) => `training seed ${x.seed}: CTF ${x.ctf.fid.toFixed(1)} vs ${x.baseline.fid.toFixed(1)}`).join('; ')}; CTF ${pm(ctf, 2)} vs baseline ${pm(baseline, 2)} (each at seed 0's chosen setting, sampling seed ${r.options.seeds[0]}) | ${seedVerdict(ctf, baseline, true)} |`,
  ];
}

function seedsSection(r: TrainedStudyResult): string[] {
  const rows = r.trainingSeeds;
  if (rows.length < 2) return [];
  const b = r.points.best;
  return [
    '## Training seeds (report set)',
    '',
    `The headline systems trained again with other seeds (\`--seed\`: other initial weights and data order; the same data, budget and schedule), each measured at the setting chosen for seed 0 on the validation range (CTF ${settingsLabel(b.ctf.validation)}, baseline ${settingsLabel(b.baseline.validation)}), ${r.options.headlineN} images, sampling seed ${r.options.seeds[0]}. Seed 0 is the main runs; the spread here is the training's, the headline table's the sampling's.`,
    '',
    '| training seed | CTF FID | baseline FID | baseline − CTF | CTF KID | baseline KID | validation loss: stage 1 / stage 2 / baseline |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (x) =>
        `| ${x.seed} | ${x.ctf.fid.toFixed(2)} | ${x.baseline.fid.toFixed(2)} | ${(x.baseline.fid - x.ctf.fid).toFixed(2)} | ${x.ctf.kid.toFixed(2)} | ${x.baseline.kid.toFixed(2)} | ${x.valLoss.stage1.toFixed(4)} / ${x.valLoss.stage2.toFixed(4)} / ${x.valLoss.baseline.toFixed(4)} |`,
    ),
    `| mean ± sd | ${pm(
      rows.map((x) => x.ctf.fid),
      2,
    )} | ${pm(
      rows.map((x) => x.baseline.fid),
      2,
    )} | ${pm(
      rows.map((x) => x.baseline.fid - x.ctf.fid),
      2,
    )} | | | |`,
    '',
  ];
}

function controlSection(r: TrainedStudyResult): string[] {
  const s = r.smallCodebook;
  if (!s) return [];
  const c = r.config;
  return [
    `## The key control: the baseline over a ${s.codes}-code tokenizer (report set)`,
    '',
    `Does CTF beat simply using a small codebook? \`${shown(smallTokenizer(c, s.codes))}\` is trained as the shipped tokenizer was (\`${c.smallCodebook!.train.join(' ')}\`) but with ${s.codes} codes (K); the baseline over it (\`${shown(baselineRun(c, s.codes))}\`) is trained as the main baseline; its CFG is chosen on the validation range (τ ${s.chosen.validation.settings!.temperature}, ${r.options.sweepN} images). Seed ${r.options.seeds[0]}, ${r.options.headlineN} images.`,
    '',
    HEAD,
    row(`reconstructions, the shipped ${r.codebookSize}-code tokenizer`, r.points.references.reconstruction),
    row(`reconstructions, the ${s.codes}-code tokenizer`, s.reconstruction),
    row(`baseline over ${s.codes} codes, ${settingsLabel(s.chosen.report)}`, s.chosen.report),
    row(`baseline over ${r.codebookSize} codes, ${settingsLabel(r.points.best.baseline.report[0]!)}`, r.points.best.baseline.report[0]!),
    row(`CTF (${r.stage2[0]!.run.name}), ${settingsLabel(r.points.best.ctf.report[0]!)}`, r.points.best.ctf.report[0]!),
    '',
  ];
}

/** Which runs the study exported as the package's models, and the validation FIDs that chose them. */
function shippedNote(r: TrainedStudyResult): string[] {
  if (!r.config.shipped) return [];
  const { ctf, baseline } = shippedChoice(r);
  const at = (x: ShippedCandidate) => `\`${shown(x.dir)}\` (${x.validation.fid.toFixed(2)} at ${settingsLabel(x.validation)})`;
  return [
    `- **Shipped models** (\`${r.config.shipped}\`: what \`npm run demo\`, \`ctfgen serve\` and part A use): the CTF configuration with the lowest FID on the validation range, ${at(ctf[0]!)}${ctf.length > 1 ? `, ahead of ${ctf.slice(1).map(at).join(', ')}` : ''}; and the baseline ${at(baseline)}. ${r.options.sweepN} validation images each, so configurations within the sampling noise could swap places.`,
  ];
}

export async function writeTrainedReport(
  r: TrainedStudyResult,
  log: Record<string, StepRecord>,
  reportPath: string,
  figDir: string,
): Promise<string> {
  const c = r.config;
  const sweepFig = join(figDir, 'v2-sweep.png');
  const curveFig = join(figDir, 'v2-convergence.png');
  const auxFig = join(figDir, 'v2-aux-size.png');
  await writeSweepFigure(r.points, sweepFig);
  await linePlot({
    title: `FID against training steps (report set, ${r.options.curveN} images)`,
    xLabel: `optimizer steps (${c.batchSize} images each)`,
    yLabel: 'FID',
    series: trainingSeedsOf(r).flatMap((seed, i) =>
      (['ctf', 'baseline'] as const).map((s) => {
        const pts = r.curve.filter((p) => p.system === s && p.seed === seed);
        const color = s === 'ctf' ? ['#1f77b4', '#6baed6', '#c6dbef'] : ['#d62728', '#f4a582', '#fddbc7'];
        return {
          name: seed === 0 ? s : `${s}, seed ${seed}`,
          x: pts.map((p) => p.step),
          y: pts.map((p) => p.m.fid),
          color: color[Math.min(i, 2)]!,
        };
      }),
    ),
  }).savePng(curveFig);
  const byBlocks = sizeRows(r);
  const ratio = (n: number) => n / r.params.stage1.blocks;
  await linePlot({
    title: 'FID against stage 2 size (report set)',
    // room above the lines for the legend
    yRange: [0, 1.3 * Math.max(...byBlocks.map((a) => a.full.fid))],
    xLabel: "stage 2's transformer parameters / stage 1's",
    yLabel: 'FID',
    series: [
      { name: 'full CTF', x: byBlocks.map((a) => ratio(a.params.blocks)), y: byBlocks.map((a) => a.full.fid), color: '#1f77b4' },
      {
        name: 'stage 2 alone',
        x: byBlocks.map((a) => ratio(a.params.blocks)),
        y: byBlocks.map((a) => a.trueCoarse.fid),
        color: '#2ca02c',
      },
    ],
  }).savePng(auxFig);

  // the stage models, the baselines and the control's tokenizer
  const trainSeconds = Object.values(log)
    .filter((s) => /^npx ctfgen (tokenizer )?train /.test(s.command))
    .reduce((a, s) => a + s.seconds, 0);
  const allSeconds = Object.values(log).reduce((a, s) => a + s.seconds, 0);
  // the headline systems' training: stage 1 and stage 2 of the main CTF run, and the baseline
  const headlineRuns = [stage2Run(c, r.stage2[0]!.run.name), baselineRun(c)];
  const headlineSeconds = Object.values(log)
    .filter((s) => /^npx ctfgen train /.test(s.command) && headlineRuns.some((dir) => s.command.includes(`--run ${dir} `)))
    .reduce((a, s) => a + s.seconds, 0);
  const conv = convergenceVerdict(r);
  const aux = auxVerdict(r);
  const main = r.stage2[0]!;
  const part = datasetPart(c.data.train).part;
  const epochs = (steps: number) => (part?.kind === 'range' ? ((steps * c.batchSize) / (part.to - part.from)).toFixed(2) : '?');
  const steps = [...new Set(r.curve.map((p) => p.step))];
  const lines = [
    "# Study v2, part B: trained at the paper's proportions",
    '',
    `Generated by \`npx ctfgen study fashion-mnist-v2\` (resumable: training steps resume from their checkpoints, measurements are files under \`${shown(join(c.root, 'measurements'))}\`; commands and times in \`docs/study-log-v2.json\`). ` +
      `CPU time on the shared 2-core machine: ${(trainSeconds / 3600).toFixed(2)} h of training (stage models, baselines, the control's tokenizer), ${(allSeconds / 3600).toFixed(2)} h in all logged steps.`,
    '',
    `- **Data**: stage models train on **${c.data.train}** and validate on **${c.data.validation}** (held out from training); every setting is chosen on that validation range and every headline number is measured on **${c.data.report}**. ${c.provenance} Tokenizer \`${shown(c.tokenizer)}\`, feature network \`${shown(c.classifier)}\`.`,
    `- **Runs** (one code version, seed 0, ${c.steps} steps of ${c.batchSize} images = ${epochs(c.steps)} epochs of the ${c.data.train} images, \`${c.budget.join(' ')}\`, snapshots every ${c.keepEvery} steps): stage 1 over K = ${c.k} k-means coarse labels (${millions(r.params.stage1.total)} parameters, ${millions(r.params.stage1.blocks)} in its blocks); the baseline at the same size (${millions(r.params.baseline.total)}); stage 2 at ${byBlocks.map((a) => `${a.run.name} (${millions(a.params.blocks)} in its blocks, ${ratio(a.params.blocks).toFixed(2)}x stage 1's)`).join(', ')}, all sharing that one stage 1.${designNote(r)}${r.coarse.length > 1 ? ` CTF over other coarse labels: ${r.coarse.slice(1).map(coarseLabel).join(', ')}, each with its own stage 1 and a stage 2 of stage 1's size.` : ''}${r.smallCodebook ? ` The control: the baseline at stage 1's size over a tokenizer with ${r.smallCodebook.codes} codes.` : ''} The main CTF run is ${main.run.name} (\`${shown(stage2Run(c, main.run.name))}\`), the baseline \`${shown(baselineRun(c))}\`.`,
    `- **Protocol**: ${protocol(r.points)}`,
    ...shippedNote(r),
    '',
    '## Claims',
    '',
    `| claim of the paper | our numbers (report set; mean ± sd over seeds where there are seeds) | verdict |`,
    '|---|---|---|',
    ...pointsClaimRows(r.points),
    `| CTF converges faster (FID against steps) | ${conv.numbers} | ${conv.verdict} |`,
    `| a larger stage 2 helps | ${aux.numbers} | ${aux.verdict} |`,
    `| (robustness) the FID ranking holds under a second feature network | second network, seed 0: CTF ${r.secondNetwork.best.ctf.fid.toFixed(2)} vs baseline ${r.secondNetwork.best.baseline.fid.toFixed(2)}; first network CTF ${r.points.best.ctf.report[0]!.fid.toFixed(2)} vs ${r.points.best.baseline.report[0]!.fid.toFixed(2)} | ${Math.sign(r.secondNetwork.best.ctf.fid - r.secondNetwork.best.baseline.fid) === Math.sign(r.points.best.ctf.report[0]!.fid - r.points.best.baseline.report[0]!.fid) ? 'the same ranking' : 'the ranking flips: no FID verdict rests on one network'} |`,
    ...coarseClaimRows(r),
    ...controlClaimRow(r),
    ...seedsClaimRow(r),
    ...floorNote(r),
    '',
    '## Stage 2 size (report set)',
    '',
    `Stage 2 alone: the true coarse maps of the ${c.data.validation} images through each stage 2 (sampled). Full CTF: the shared stage 1 at the main run's best setting, then each stage 2, ${r.options.headlineN} images, seed ${r.options.seeds[0]}.`,
    '',
    `![FID against stage 2 size](${relative(dirname(reportPath), auxFig)})`,
    '',
    '| stage 2 | block parameters (x stage 1) | final validation loss | validation accuracy | FID, stage 2 alone | FID, full CTF | KID, full CTF | IS, full CTF | class acc |',
    '|---|---|---|---|---|---|---|---|---|',
    ...byBlocks.map(
      (a) =>
        `| ${a.run.name} | ${millions(a.params.blocks)} (${ratio(a.params.blocks).toFixed(2)}x) | ${a.valLoss.toFixed(4)} | ${(100 * a.valAcc).toFixed(1)}% | ${a.trueCoarse.fid.toFixed(2)} | ${a.full.fid.toFixed(2)} | ${a.full.kid.toFixed(2)} | ${a.full.isMean.toFixed(2)} | ${(100 * a.full.classAccuracy).toFixed(1)}% |`,
    ),
    '',
    ...coarseSection(r),
    ...controlSection(r),
    ...seedsSection(r),
    '## Stage 2 design and sampling (beyond the paper; report set)',
    '',
    ...designTable(r),
    `The main stage 2 on the true coarse maps with other draws: restricted to the cluster (default), from every code, from the 32 likeliest, argmax.`,
    '',
    HEAD,
    row(`${main.run.name}: sampled within the cluster (default)`, r.points.breakdown.stage2Sampled),
    row(`${main.run.name}: sampled from every code (\`--no-stage2-restrict\`)`, r.stage2Sampling.unrestricted),
    row(`${main.run.name}: top-k 32 within the cluster`, r.stage2Sampling.topK32),
    row(`${main.run.name}: argmax`, r.points.breakdown.stage2Argmax),
    '',
    '## A second feature network (report set, seed ' + r.options.seeds[0] + ')',
    '',
    `The same images' kind measured with \`${shown(c.root)}/classifier-2.safetensors\` (network ${r.secondNetwork.id}: ${c.secondNetwork.join(' ')}), so the ranking is not one network's: fresh draws at each system's best setting.`,
    '',
    HEAD,
    row('held-out real images (validation set)', r.secondNetwork.real),
    row(`ctf ${settingsLabel(r.secondNetwork.best.ctf)}`, r.secondNetwork.best.ctf),
    row(`baseline ${settingsLabel(r.secondNetwork.best.baseline)}`, r.secondNetwork.best.baseline),
    '',
    '## Convergence (report set)',
    '',
    `Each system's snapshots at its best validation setting (CTF ${settingsLabel(r.points.best.ctf.validation)}, baseline ${settingsLabel(r.points.best.baseline.validation)}), ${r.options.curveN} images, sampling seed ${r.options.seeds[0]}, for training seed${trainingSeedsOf(r).length > 1 ? 's' : ''} ${trainingSeedsOf(r).join(' / ')} (FIDs in that order); validation losses (training seed 0) from the runs' metrics logs. Is the training converged? Compare the validation losses of the last two snapshots.`,
    '',
    `![FID against training steps](${relative(dirname(reportPath), curveFig)})`,
    '',
    '| step | epochs | CTF FID | baseline FID | CTF stage 1 / stage 2 validation loss | baseline validation loss |',
    '|---|---|---|---|---|---|',
    ...steps.map((s) => {
      const p = (sys: CurvePoint['system']) => r.curve.find((x) => x.system === sys && x.step === s && x.seed === 0)!;
      const fids = (sys: CurvePoint['system']) =>
        curveAt(r, sys, s)
          .map((f) => f.toFixed(2))
          .join(' / ');
      const [a, b] = [p('ctf'), p('baseline')];
      return `| ${s} | ${epochs(s)} | ${fids('ctf')} | ${fids('baseline')} | ${a.valLoss.stage1!.toFixed(4)} / ${a.valLoss.stage2!.toFixed(4)} | ${b.valLoss.baseline!.toFixed(4)} |`;
    }),
    '',
    ...pointsSections(r.points, reportPath, sweepFig),
    '## Not done in part B, and why',
    '',
    `- Training to convergence: ${c.steps} steps per run (${epochs(c.steps)} epochs) is what this session's CPU time allowed; the table above shows whether the validation losses still fall.${part?.kind === 'range' ? ` The headline systems alone (stage 1, stage 2 ${r.stage2[0]!.run.name}, the baseline) took ${(headlineSeconds / 3600).toFixed(2)} h of training for those ${epochs(c.steps)} epochs, so 10 epochs of them would take about ${((10 * headlineSeconds) / 3600 / Number(epochs(c.steps))).toFixed(0)} h on this machine, the ablations as much again.` : ''}`,
    ...notTrained(r),
    '',
  ];
  await writeFileAtomic(reportPath, lines.join('\n'));
  return reportPath;
}
