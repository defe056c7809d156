// The whole pipeline as a user runs it, through the CLI on the committed fixture, at toy sizes:
// tokenizer → eval → token cache → clusters → stage 1 + stage 2 + baseline → samples →
// feature classifier → evaluation with a sweep → export with a shared tokenizer. Exported runs
// must sample exactly what the trained runs sample.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { packageRoot } from '../../src/util/package-root.js';
import { readSafetensorsHeader, OPTIM_PREFIX } from '../../src/io/index.js';
import type { RunEvaluation } from '../../src/eval/evaluate-run.js';

const d = mkdtempSync(join(tmpdir(), 'ctf-pipeline-'));
const cli = join(packageRoot, 'dist', 'src', 'cli', 'main.js');
const p = (name: string) => join(d, name);

function ctfgen(...args: string[]): string {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `ctfgen ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}
function ctfgenFails(...args: string[]): string {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  assert.notEqual(r.status, 0, `ctfgen ${args.join(' ')} should have failed`);
  return r.stderr;
}
const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const toy = ['--dim', '32', '--layers', '1', '--heads', '2', '--steps', '3', '--batch-size', '8', '--validate-every', '3'];

test('CLI pipeline: train every stage on the fixture, sample, evaluate, export and sample the export', async () => {
  ctfgen('tokenizer', 'train', '--preset', 'tiny', '--steps', '3', '--out', p('tok.safetensors'));
  ctfgen('tokenizer', 'eval', '--tokenizer', p('tok.safetensors'), '--data', 'fixture', '--out', p('tok-eval.json'));
  const tokStats = readJson<{ n: number; psnr: number; usage: number }>(p('tok-eval.json'));
  assert.equal(tokStats.n, 300);
  assert.ok(Number.isFinite(tokStats.psnr) && tokStats.usage > 0 && tokStats.usage <= 1);

  ctfgen('tokenizer', 'encode', '--tokenizer', p('tok.safetensors'), '--data', 'fixture', '--out', p('codes.safetensors'));
  ctfgen('cluster', '--tokenizer', p('tok.safetensors'), '--clusters', '8', '--out', p('clusters.safetensors'));
  const data = ['--tokenizer', p('tok.safetensors'), '--train-cache', p('codes.safetensors'), '--val-cache', p('codes.safetensors')];
  // stage 1 through its old name `ar` (kept as an alias), stage 2 through its name
  for (const stage of ['ar', 'stage2']) ctfgen('train', stage, '--run', p('ctf'), ...data, ...toy, '--clusters', p('clusters.safetensors'));
  assert.ok(existsSync(p('ctf/stage1.safetensors')) && existsSync(p('ctf/stage2.safetensors')));
  ctfgen('train', 'baseline', '--run', p('base'), ...data, ...toy, '--keep-every', '2');

  for (const run of ['ctf', 'base']) {
    ctfgen('sample', '--run', p(run), '--class', 'all', '--n', '2', '--out', p(`${run}.png`));
    const png = PNG.sync.read(readFileSync(p(`${run}.png`)));
    assert.ok(png.width >= 2 * 32 && png.height >= 10 * 32, `${run} grid ${png.width}x${png.height}`);
  }
  // the weights kept at step 2 of 3 draw other images from the same seeds
  ctfgen('sample', '--run', p('base'), '--step', '2', '--class', 'all', '--n', '2', '--out', p('base-step2.png'));
  assert.notDeepEqual(readFileSync(p('base-step2.png')), readFileSync(p('base.png')));
  assert.match(
    ctfgenFails('sample', '--run', p('base'), '--step', '1', '--out', p('x.png')),
    /no baseline snapshot at step 1 .*kept steps are 2/,
  );

  ctfgen('eval', 'classifier', 'train', '--data', 'fixture', '--test', 'fixture', '--epochs', '1', '--out', p('cls.safetensors'));
  ctfgen(
    'eval',
    '--run',
    p('ctf'),
    '--n',
    '20',
    '--classifier',
    p('cls.safetensors'),
    '--reference',
    'fixture',
    '--sweep',
    'cfg=1,2',
    '--out',
    p('eval.json'),
  );
  const evals = readJson<RunEvaluation[]>(p('eval.json'));
  assert.deepEqual(
    evals.map((e) => e.settings.cfg),
    [1, 2],
  );
  for (const e of evals) {
    assert.equal(e.system, 'ctf');
    assert.ok(Number.isFinite(e.fid) && e.fid >= 0, `FID ${e.fid}`);
    assert.ok(e.isMean >= 1 && e.isMean <= 10, `IS ${e.isMean}`);
    assert.ok(e.precision >= 0 && e.precision <= 1 && e.recall >= 0 && e.recall <= 1);
    assert.ok(e.imagesPerSecond > 0 && e.seconds.stage2 > 0);
  }

  // a run pointed at a cluster file with another label count is refused, naming both
  ctfgen('cluster', '--tokenizer', p('tok.safetensors'), '--clusters', '4', '--out', p('clusters4.safetensors'));
  cpSync(p('ctf'), p('ctf-k4'), { recursive: true });
  const info = readJson<Record<string, unknown>>(p('ctf-k4/run.json'));
  writeFileSync(p('ctf-k4/run.json'), JSON.stringify({ ...info, clusters: '../clusters4.safetensors' }));
  assert.match(
    ctfgenFails('sample', '--run', p('ctf-k4'), '--out', p('bad.png')),
    /predicts 8 coarse labels but .*clusters4\.safetensors has 4/,
  );

  // both exports share one tokenizer file; weights only; the same seed samples the same grid
  const shared = p('ship/tokenizer.safetensors');
  for (const run of ['ctf', 'base']) ctfgen('export', '--run', p(run), '--out', p(`ship/${run}`), '--tokenizer-out', shared);
  assert.ok(existsSync(shared) && !existsSync(p('ship/ctf/tokenizer.safetensors')));
  assert.equal(readJson<{ tokenizer: string }>(p('ship/ctf/run.json')).tokenizer, '../tokenizer.safetensors');
  for (const f of ['ship/ctf/stage1.safetensors', 'ship/ctf/stage2.safetensors', 'ship/base/baseline.safetensors']) {
    const { entries } = await readSafetensorsHeader(p(f));
    assert.ok(entries.length > 0 && !entries.some((e) => e.name.startsWith(OPTIM_PREFIX)), `${f} holds optimizer state`);
  }
  for (const run of ['ctf', 'base']) {
    ctfgen('sample', '--run', p(`ship/${run}`), '--class', 'all', '--n', '2', '--out', p(`ship-${run}.png`));
    assert.deepEqual(PNG.sync.read(readFileSync(p(`ship-${run}.png`))).data, PNG.sync.read(readFileSync(p(`${run}.png`))).data);
  }
});
