// Sampling and evaluation shared over processes (real ones, on loopback): image i is drawn from
// (seed, i), in the batch one process would draw it in, so 1 and 2 or 3 processes (with uneven
// shares) write identical PNGs and measure identical scores; rank 0 alone writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/package-root.js';
import { ctfgen, freePort } from './helpers.js';

const run = join(packageRoot, 'models', 'fashion-mnist', 'ctf');
const classifier = join(packageRoot, 'models', 'fashion-mnist-classifier.safetensors');
const shipped = existsSync(join(run, 'run.json')) && existsSync(classifier);
const d = mkdtempSync(join(tmpdir(), 'ctf-sample-ddp-'));

// one thread everywhere: a launch shares the cores out, and float sums (FID's) depend on the thread count
const env = { CTFGEN_THREADS: '1' };

async function both(args: (tag: string) => string[], n: number): Promise<void> {
  ctfgen(args('one'), env, d);
  const r = ctfgen(
    ['launch', '--nproc-per-node', String(n), '--master-port', String(await freePort()), '--', 'ctfgen', ...args('many')],
    env,
    d,
  );
  assert.doesNotMatch(r.stdout, /^\[[1-9]\]/m, 'only rank 0 reports');
}

test('sampling in 2 processes writes the same grid and images as 1', { skip: !shipped && 'no shipped models' }, async () => {
  // 10 images (one per class) in batches of 4: 8 and 2 per process
  await both(
    (tag) => [
      'sample',
      '--run',
      run,
      '--class',
      'all',
      '--n',
      '1',
      '--seed',
      '4',
      '--batch-size',
      '4',
      '--out',
      join(d, `${tag}.png`),
      '--each',
      join(d, tag),
      '--tokens',
      join(d, `${tag}.json`),
    ],
    2,
  );
  assert.deepEqual(readFileSync(join(d, 'many.png')), readFileSync(join(d, 'one.png')));
  assert.deepEqual(readFileSync(join(d, 'many.json'), 'utf8'), readFileSync(join(d, 'one.json'), 'utf8'));
  const names = readdirSync(join(d, 'one')).sort();
  assert.equal(names.length, 10);
  assert.deepEqual(readdirSync(join(d, 'many')).sort(), names);
  for (const f of names) assert.deepEqual(readFileSync(join(d, 'many', f)), readFileSync(join(d, 'one', f)), f);
});

test(
  '.npz samples in 2 processes (shards taken in turn) are the bytes 1 process writes',
  { skip: !shipped && 'no shipped models' },
  async () => {
    // 14 images in shards of 4 (4 shards: ranks 0 and 1 take two each), batches of 2
    await both(
      (tag) => [
        'sample',
        '--run',
        run,
        '--n',
        '14',
        '--seed',
        '5',
        '--batch-size',
        '2',
        '--shard-size',
        '4',
        '--npz',
        join(d, `${tag}.npz`),
      ],
      2,
    );
    assert.ok(readFileSync(join(d, 'many.npz')).equals(readFileSync(join(d, 'one.npz'))), 'the .npz files differ');
    assert.ok(!existsSync(join(d, 'many.npz.shards')), 'shards left behind');
  },
);

test(
  'evaluation in 3 processes (batches of 4: 4 + 4 + 3 images) measures what 1 does',
  { skip: !shipped && 'no shipped models' },
  async () => {
    const args = (tag: string) => [
      'eval',
      '--run',
      run,
      '--n',
      '11',
      '--classifier',
      classifier,
      '--reference',
      'fixture',
      '--batch-size',
      '4',
      '--out',
      join(d, `${tag}.json`),
    ];
    await both(args, 3);
    const read = (tag: string) => (JSON.parse(readFileSync(join(d, `${tag}.json`), 'utf8')) as Record<string, unknown>[])[0]!;
    const [one, many] = [read('one'), read('many')];
    for (const k of ['fid', 'isMean', 'isStd', 'precision', 'recall', 'classAccuracy', 'n']) assert.equal(many[k], one[k], k);
  },
);
