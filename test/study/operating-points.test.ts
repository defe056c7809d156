// Study v2 part A end to end on a small scale: the shipped models, halves of the fixture as the
// validation and report sets; every measurement lands in a file, and a second run reads them back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomMembers, runOperatingPoints, type OperatingPointsConfig } from '../../src/study/operating-points.js';
import { writeOperatingPointsReport } from '../../src/study/operating-points-report.js';
import { shippedPath } from '../../src/util/package-root.js';

const ctf = shippedPath('models/fashion-mnist/ctf');
const shipped = existsSync(join(ctf, 'run.json'));

test('randomMembers replaces every coarse label by a code of its cluster, the same for the same seed', () => {
  const codeToLabel = Int32Array.from([0, 1, 0, 2, 1, 0]);
  const coarse = Int32Array.from({ length: 600 }, (_, i) => i % 3);
  const a = randomMembers(coarse, codeToLabel, 3);
  assert.deepEqual(a, randomMembers(coarse, codeToLabel, 3));
  a.forEach((code, i) => assert.equal(codeToLabel[code], coarse[i]));
  // every member of label 0 (codes 0, 2, 5) is drawn
  assert.deepEqual(new Set(Array.from(a).filter((_, i) => coarse[i] === 0)), new Set([0, 2, 5]));
  assert.throws(() => randomMembers(Int32Array.from([3]), codeToLabel, 0), /coarse label 3 has no codes/);
});

test(
  'operating points: settings chosen on the validation half, reported on the other; resumable',
  { skip: !shipped && 'no shipped models' },
  async () => {
    const out = mkdtempSync(join(tmpdir(), 'ctf-points-'));
    const c: OperatingPointsConfig = {
      out,
      runs: { ctf, baseline: shippedPath('models/fashion-mnist/baseline') },
      classifier: shippedPath('models/fashion-mnist-classifier.safetensors'),
      validation: 'fixture@0:150',
      report: 'fixture@150:300',
      cfg: [1, 3],
      temperatures: [1],
      sweepN: 20,
      headlineN: 20,
      seeds: [0, 1],
      batchSize: 10,
    };
    const r = await runOperatingPoints(c);
    for (const s of ['ctf', 'baseline'] as const) {
      assert.equal(r.sweep[s].length, 2);
      assert.ok(r.sweep[s].every((m) => m.against === 'validation' && m.n === 20));
      const best = r.sweep[s].reduce((a, b) => (b.fid < a.fid ? b : a));
      assert.deepEqual(r.best[s].settings, { cfg: best.settings!.cfg, temperature: best.settings!.temperature });
      assert.ok(r.best[s].report.every((m) => m.against === 'report' && m.settings!.cfg === best.settings!.cfg));
      assert.notEqual(r.best[s].report[0]!.fid, r.best[s].report[1]!.fid, 'the seeds draw different images');
    }
    const { real, reconstruction } = r.references;
    assert.equal(real.n, 150);
    for (const m of [real, reconstruction, r.breakdown.stage2Sampled, r.breakdown.stage2Argmax, r.breakdown.randomMember])
      assert.ok(Math.abs(m.fidTerms!.mean + m.fidTerms!.cov - m.fid) < 1e-9 * Math.max(1, m.fid), `${m.name}: FID = mean + cov terms`);
    assert.ok(real.fid < reconstruction.fid, 'held-out real images are closer to the report half than their reconstructions');
    const files = readdirSync(out).filter((f) => f.endsWith('.json'));
    assert.equal(files.length, 2 + 2 * (2 + 2 + 1) + 3 + 1, 'the measurements and sources.json');
    const again = await runOperatingPoints(c);
    assert.deepEqual(again.best, r.best, 'a second run reads the measurements back');
    // a file made for another setting under the same name (the validation choice moved) is measured again
    const file = join(out, 'best-ctf-seed0.json');
    const stale = JSON.parse(readFileSync(file, 'utf8')) as { settings: { cfg: number }; fid: number };
    writeFileSync(file, JSON.stringify({ ...stale, settings: { ...stale.settings, cfg: 99 }, fid: -1 }));
    const third = await runOperatingPoints(c);
    const { seconds: _remadeIn, ...remade } = third.best.ctf.report[0]!;
    const { seconds: _madeIn, ...original } = r.best.ctf.report[0]!;
    assert.deepEqual(remade, original, 'measured again at the chosen setting: the same images, the same numbers');
    const report = await writeOperatingPointsReport(r, join(out, 'report.md'), join(out, 'figures'));
    const text = readFileSync(report, 'utf8');
    assert.match(text, /\| CTF has better FID than the baseline \(best against best\) \| CTF [\d.]+ ± [\d.]+/);
    assert.ok(existsSync(join(out, 'figures', 'operating-points-sweep.png')));
  },
);
