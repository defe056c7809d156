// Training runs that cannot trample each other or lose work: an exclusive lock per run folder (and
// per output checkpoint) naming its holder, stale locks of killed trainers taken over, no silent
// replacement of a finished checkpoint, a torn last metrics line tolerated on resume, leftover
// temporary files of killed saves removed, and a batch size capped by the dataset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LockError, acquireLock, readSafetensorsHeader, writeFileAtomic } from '../../src/io/index.js';
import { MetricsLog } from '../../src/train/metrics-log.js';
import { trainTokens, type TokenTrainOptions } from '../../src/train/train-tokens.js';
import { packageRoot } from '../../src/util/package-root.js';
import { syntheticSetup, type SyntheticSetup } from '../train/synthetic.js';
import { ctfgen, scratch, startCtfgen } from './helpers.js';

let setup: SyntheticSetup;
test.before(async () => {
  setup = await syntheticSetup();
});
const toy = ['--dim', '32', '--layers', '1', '--heads', '2'];
const data = () => ['--tokenizer', setup.tokenizer, '--train-cache', setup.train];
const trainArgs = (run: string) => [
  'train',
  'stage1',
  '--run',
  run,
  ...data(),
  '--clusters',
  setup.clustersPath,
  ...toy,
  '--batch-size',
  '8',
];
const options = (run: string, steps: number): TokenTrainOptions => ({
  stage: 'stage1',
  run,
  tokenizer: setup.tokenizer,
  trainCache: setup.train,
  clusters: setup.clustersPath,
  model: { dim: 32, nLayer: 1, nHead: 2 },
  steps,
  batchSize: 8,
  saveEvery: 2,
});
const stepsLogged = (path: string) =>
  new MetricsLog(path)
    .read()
    .filter((r) => typeof r.loss === 'number')
    .map((r) => r.step);

/** The PID of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

test('lock file: one holder; the next is refused naming it; stale, recycled-PID and torn locks are taken over', () => {
  const dir = scratch('lock');
  const path = join(dir, 'x.lock');
  const a = acquireLock(path, 'test A');
  assert.throws(
    () => acquireLock(path, 'test B'),
    (e: Error) => e instanceof LockError && new RegExp(`held by PID ${process.pid} on ${hostname()} \\(test A, since `).test(e.message),
  );
  a.release();
  a.release(); // idempotent, and never removes another holder's lock
  const b = acquireLock(path, 'test B');
  a.release();
  assert.ok(existsSync(path));
  b.release();
  assert.ok(!existsSync(path));

  const write = (holder: Record<string, unknown>) =>
    writeFileSync(path, JSON.stringify({ host: hostname(), startedAt: 'then', purpose: 'old', token: 't', ...holder }));
  // a killed holder
  write({ pid: deadPid() });
  acquireLock(path, 'after a dead holder').release();
  // a live PID that started after the lock was taken: the PID was recycled
  write({ pid: process.ppid, processStart: '1' });
  acquireLock(path, 'after a recycled PID').release();
  // a holder on another machine cannot be checked: it is respected, and the message says how to clear it
  write({ pid: 1, host: 'elsewhere' });
  assert.throws(
    () => acquireLock(path, 'c'),
    new RegExp(`held by PID 1 on elsewhere .* delete ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
  );
  // a lock file without a record: being written just now, or left by a writer that died
  writeFileSync(path, '');
  assert.throws(() => acquireLock(path, 'c'), /is being taken by another process just now/);
  utimesSync(path, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
  acquireLock(path, 'after a torn lock').release();
});

test("two trainers on one run folder: the second fails at once naming the first PID; a killed trainer's lock is taken over", async () => {
  const run = join(setup.dir, 'shared-run');
  const first = startCtfgen([...trainArgs(run), '--steps', '100000', '--save-every', '5']);
  try {
    const metrics = join(run, 'stage1.metrics.jsonl');
    for (let i = 0; i < 600 && !(existsSync(metrics) && statSync(metrics).size > 0); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(existsSync(join(run, 'run.lock')), 'the first trainer holds run.lock');
    const second = ctfgen([...trainArgs(run), '--steps', '3', '--resume']);
    assert.equal(second.status, 1);
    assert.match(second.stderr, new RegExp(`run\\.lock is held by PID ${first.pid} on ${hostname()} \\(train stage1, since `));
    assert.ok(existsSync(join(run, 'run.lock')), 'the first trainer still holds its lock');
  } finally {
    first.kill('SIGKILL');
  }
  const killed = await first.done;
  assert.equal(killed.signal, 'SIGKILL');
  assert.ok(existsSync(join(run, 'run.lock')), 'SIGKILL leaves the lock file');
  // the next trainer finds its holder gone and takes it over; the log holds each step once
  const third = ctfgen([...trainArgs(run), '--steps', '3', '--overwrite']);
  assert.equal(third.status, 0, third.stderr);
  assert.deepEqual(stepsLogged(join(run, 'stage1.metrics.jsonl')), [1, 2, 3]);
  assert.ok(!existsSync(join(run, 'run.lock')));
});

test('training over an existing checkpoint needs --resume or --overwrite (stages, tokenizer, classifier)', () => {
  const run = join(setup.dir, 'finished');
  assert.equal(ctfgen([...trainArgs(run), '--steps', '2']).status, 0);
  const ckpt = join(run, 'stage1.safetensors');
  const before = readFileSync(ckpt);
  const again = ctfgen([...trainArgs(run), '--steps', '2', '--seed', '5']);
  assert.equal(again.status, 1);
  assert.match(
    again.stderr,
    /stage1\.safetensors already exists; pass --resume to continue its training or --overwrite to start over and replace it/,
  );
  assert.deepEqual(readFileSync(ckpt), before, 'the checkpoint is untouched');
  assert.equal(ctfgen([...trainArgs(run), '--steps', '2', '--seed', '5', '--overwrite']).status, 0);
  assert.notDeepEqual(readFileSync(ckpt), before);
  // the tokenizer's and classifier's outputs are claimed the same way, before any data is read
  const out = join(setup.dir, 'existing.safetensors');
  writeFileSync(out, 'a finished checkpoint');
  for (const args of [
    ['tokenizer', 'train', '--preset', 'tiny', '--out', out],
    ['eval', 'classifier', 'train', '--data', 'fixture', '--test', 'fixture', '--out', out],
  ]) {
    const r = ctfgen(args);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /existing\.safetensors already exists; pass --resume .* or --overwrite/);
  }
  assert.equal(readFileSync(out, 'utf8'), 'a finished checkpoint');
});

test('resume tolerates a torn last metrics line (dropped, the rest kept, and said); a bad line elsewhere names file and line', async () => {
  const run = join(setup.dir, 'torn');
  (await trainTokens({ ...options(run, 6), untilStep: 4 })).model.dispose();
  const metrics = join(run, 'stage1.metrics.jsonl');
  appendFileSync(metrics, '{"step":5,"lo'); // the issue: "Unterminated string in JSON at position 13", no file named
  const warnings: string[] = [];
  const r = await trainTokens({ ...options(run, 6), resume: true, onWarning: (m) => warnings.push(m) });
  r.model.dispose();
  assert.equal(r.resumedFrom, 4);
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0]!,
    /stage1\.metrics\.jsonl: dropped a torn last line \("\{\\"step\\":5,\\"lo"…\), left by an interrupted write; the 4 records before it are kept/,
  );
  assert.deepEqual(stepsLogged(metrics), [1, 2, 3, 4, 5, 6]);
  assert.ok(readFileSync(metrics, 'utf8').endsWith('}\n'));
  writeFileSync(metrics, '{"step":1,"loss":1}\n{"step":2,"lo\n{"step":3,"loss":1}\n');
  assert.throws(() => new MetricsLog(metrics).read(), /stage1\.metrics\.jsonl, line 2: not a JSON record .*; fix or delete that line/);
});

test('a save killed before its rename leaves a temporary file; the next save into that folder removes it', async () => {
  const dir = scratch('atomic');
  const target = join(dir, 'stage1.safetensors');
  // a writer streaming a large file, killed (SIGKILL) while its temporary file is being written
  const atomic = join(packageRoot, 'dist', 'src', 'io', 'atomic.js');
  const script = `import { writeFileAtomic } from ${JSON.stringify(atomic)};
    async function* slow() { for (;;) { yield new Uint8Array(1 << 20); await new Promise((r) => setTimeout(r, 20)); } }
    await writeFileAtomic(${JSON.stringify(target)}, slow());`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script]);
  const temps = () => readdirSync(dir).filter((f) => f.endsWith('.tmp'));
  for (let i = 0; i < 300 && !(temps().length && statSync(join(dir, temps()[0]!)).size >= 4 << 20); i++)
    await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGKILL');
  await new Promise((r) => child.on('close', r));
  const left = temps();
  assert.equal(left.length, 1, 'the killed writer left its temporary file');
  const m = new RegExp(`^\\.stage1\\.safetensors\\.${child.pid}\\.([0-9a-f]{6})\\.[0-9a-f]{12}\\.tmp$`).exec(left[0]!);
  assert.ok(m, left[0]);
  // left alone: a live writer's temporary file (here: the test runner's, our parent) and a dead PID's from another machine
  const live = `.other.bin.${process.ppid}.${m[1]}.0123456789ab.tmp`;
  const otherHost = `.other.bin.${deadPid()}.${m[1] === 'ffffff' ? '000000' : 'ffffff'}.0123456789ab.tmp`;
  for (const f of [live, otherHost]) writeFileSync(join(dir, f), 'in progress');
  await writeFileAtomic(target, 'the next save');
  assert.deepEqual(readdirSync(dir).sort(), [live, otherHost, 'stage1.safetensors'].sort());
});

test('a batch larger than the dataset is capped at its size with a warning (the issue: --batch-size 100000 took 8 GB)', async () => {
  const run = join(setup.dir, 'big-batch');
  const r = ctfgen(['train', 'baseline', '--run', run, ...data(), ...toy, '--steps', '1', '--batch-size', '100000']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    /warning: batch size 100000 is larger than the training cache .*train\.tokens\.safetensors \(240 items\); using 240/,
  );
  // 100,000 sequences of 49 tokens would need several GB; 240 need little beyond libtorch itself (~210 MiB)
  assert.ok(r.maxRssMiB < 768, `peak RSS ${r.maxRssMiB.toFixed(0)} MiB`);
  const { metadata } = await readSafetensorsHeader(join(run, 'baseline.safetensors'));
  assert.equal(
    (JSON.parse(metadata.ctfgen!) as { train: { batchSize: number } }).train.batchSize,
    240,
    'the checkpoint records the batch size used',
  );
});
