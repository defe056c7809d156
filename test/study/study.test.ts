// The study definitions and the report: every run gets its training and evaluation commands in
// dependency order, and the report's tables and reading follow the numbers in the result files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { studyRuns, evalPath, type StudyConfig } from '../../src/study/config.js';
import { studySteps } from '../../src/study/steps.js';
import { STUDIES, studyConfig } from '../../src/study/studies.js';
import { writeReport } from '../../src/study/report.js';
import { StudyLog } from '../../src/study/runner.js';
import type { RunEvaluation } from '../../src/eval/evaluate-run.js';
import { resolveSampling } from '../../src/ctf/index.js';

const index = (names: string[], name: string) => {
  const i = names.indexOf(name);
  assert.ok(i >= 0, `step '${name}' missing`);
  return i;
};

test('study steps: each stage after its inputs; every run trained, evaluated; confirm runs after the ablations', () => {
  for (const c of Object.values(STUDIES)) {
    const steps = studySteps(c);
    const names = steps.map((s) => s.name);
    assert.equal(new Set(names).size, names.length, `${c.name}: step names are unique`);
    const afterAll = (later: string, ...earlier: string[]) =>
      earlier.forEach((e) => assert.ok(index(names, e) < index(names, later), `${c.name}: ${e} before ${later}`));
    afterAll('encode train', 'tokenizer');
    for (const r of studyRuns(c)) {
      const train = r.system === 'ctf' ? [`train ${r.name} stage1`, `train ${r.name} stage2`] : [`train ${r.name}`];
      afterAll(`eval ${r.name}`, ...train, 'encode train', 'encode test', 'classifier');
      const evalStep = steps[index(names, `eval ${r.name}`)]!;
      assert.deepEqual(evalStep.outputs, [evalPath(r)]);
      assert.ok(evalStep.args.includes(c.data.reference));
      if (r.clusters) assert.ok(steps[index(names, train[0]!)]!.args.includes(r.clusters));
      if (r.budget === 'main') index(names, `cfg sweep ${r.name}`);
    }
    for (const r of studyRuns(c).filter((x) => x.confirm))
      for (const a of studyRuns(c).filter((x) => x.budget === 'ablation')) afterAll(`train ${r.name} stage1`, `eval ${a.name}`);
  }
  const fm = studyConfig('fashion-mnist');
  assert.deepEqual(
    studyRuns(fm).map((r) => r.name),
    ['baseline', 'ctf-k128', 'ctf-random-k128', 'ctf-k128-short', 'ctf-k32', 'ctf-k512', 'ctf-k32-main'],
  );
  assert.deepEqual(
    studyRuns(studyConfig('emoji')).map((r) => r.name),
    ['baseline', 'ctf-k128'],
  );
  assert.throws(() => studyConfig('cifar'), /unknown study 'cifar' \(use fashion-mnist, emoji\)/);
});

function fakeEvaluation(fid: number, isMean: number, precision: number, recall: number, cfgScale = 2): RunEvaluation {
  return {
    fid,
    sfid: NaN,
    kid: NaN,
    kidStd: NaN,
    isMean,
    isStd: 0.1,
    precision,
    recall,
    classAccuracy: 0.5,
    n: 100,
    run: 'x',
    system: 'ctf',
    settings: { ...resolveSampling({ cfg: cfgScale }), seed: 0 },
    imagesPerSecond: 10,
    seconds: { stage1: 1, stage2: 1, decode: 1, total: 3 },
    reference: 'fixture',
    classifier: 'c',
  };
}

test('report: tables carry the numbers of the result files, the reading follows them, commands are cited', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctf-report-'));
  const c: StudyConfig = {
    ...studyConfig('fashion-mnist'),
    name: 'toy',
    root: join(dir, 'runs'),
    fig: join(dir, 'docs', 'figures'),
    report: join(dir, 'docs', 'results.md'),
    log: join(dir, 'docs', 'log.json'),
    discussion: join(dir, 'docs', 'discussion.md'),
    confirmKs: [],
  };
  const runs = studyRuns(c);
  const put = (name: string, tag: string, e: RunEvaluation[]) => {
    const r = runs.find((x) => x.name === name)!;
    mkdirSync(r.dir, { recursive: true });
    writeFileSync(evalPath(r, tag), JSON.stringify(e));
  };
  put('baseline', 'cfg2', [fakeEvaluation(40.5, 3.25, 0.5, 0.6)]);
  put('baseline', 'seed1', [fakeEvaluation(42.5, 3.25, 0.5, 0.6)]);
  put('baseline', 'seed2', [fakeEvaluation(44.5, 3.25, 0.5, 0.6)]);
  put('ctf-k128', 'cfg2', [fakeEvaluation(30.25, 4.5, 0.7, 0.4)]);
  put('ctf-k128', 'sweep', [fakeEvaluation(33, 4, 0.6, 0.5, 1), fakeEvaluation(30.25, 4.5, 0.7, 0.4, 2)]);
  put('ctf-k128-short', 'cfg2', [fakeEvaluation(50, 3, 0.5, 0.5)]);
  put('ctf-random-k128', 'cfg2', [fakeEvaluation(90, 2, 0.3, 0.1)]);
  put('ctf-k32', 'cfg2', [fakeEvaluation(45, 3.5, 0.5, 0.5)]);
  mkdirSync(join(dir, 'docs'), { recursive: true });
  writeFileSync(c.discussion, 'Hand-written words.\n');
  const log = new StudyLog(c.log);
  log.add({ name: 'eval baseline', command: 'npx ctfgen eval --run B', seconds: 60, finishedAt: 'now' });
  await writeReport(c, log);
  const md = readFileSync(c.report, 'utf8');
  assert.match(
    md,
    /\| baseline \(fine-token GPT\) \| 40\.50 \| 3\.25 ± 0\.10 \| 0\.500 \| 0\.600 \|.*`npx ctfgen eval --run B` \(1\.0 min\)/,
  );
  assert.match(md, /\| CTF, K = 128 \(k-means\) \| 30\.25 \|/);
  assert.match(md, /FID: CTF 30\.25 vs baseline 40\.50: CTF is better/);
  assert.match(md, /IS: CTF 4\.50 vs baseline 3\.25: CTF is better/);
  assert.match(md, /recall 0\.400 vs 0\.600 \(CTF worse\)/);
  assert.match(md, /Random clusters vs k-means \(K = 128, short budget\): FID 90\.00 vs 50\.00/);
  assert.match(md, /K = 32: 45\.00, K = 128: 50\.00; the lowest is K = 32/);
  assert.match(md, /\| CTF, K = 128 \(k-means\) \| 1 \| 33\.00 \|/);
  assert.match(md, /\| baseline \(fine-token GPT\) \| 40\.50 \| 42\.50 \| 44\.50 \| 42\.50 ± 2\.00 \| 3\.25 ± 0\.00 \|/);
  assert.doesNotMatch(md, /\| CTF, K = 128 \(k-means\) \| 30\.25 \| 3\d\.\d\d \|/, 'no noise row without the seed files');
  assert.match(md, /## 8\. Discussion\n\nHand-written words\./);
  assert.match(md, /\(not run yet\)/);
  assert.match(md, /!\[FID\]\(figures\/fid\.png\)/);
  // the evaluation files travel with the figures
  assert.deepEqual(JSON.parse(readFileSync(join(c.fig, 'evaluations', 'ctf-k32-eval-cfg2.json'), 'utf8'))[0].fid, 45);
});
