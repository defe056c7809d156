// The bug this guards against, as a user hits it: a run trained on a dataset ctfgen does not ship
// (an IDX pair written here from the fixture) evaluated without flags must refuse, naming the
// command that trains its classifier, never measure it against Fashion-MNIST. With that
// classifier the reference is the dataset's own recorded test split. Then the ADM route both
// ways through the CLI: `sample --npz`, `eval --samples` (defaults from the file's record), `eval
// stats` round trip (numpy reads mu/sigma = the features' mean and covariance), FID(A, A) = 0
// through the same transform as dataset images, and statistics of unknown origin refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeIdx } from '../../src/data/idx.js';
import { openDataset } from '../../src/data/open.js';
import type { SamplesEvaluation } from '../../src/eval/evaluate-files.js';
import type { RunEvaluation } from '../../src/eval/evaluate-run.js';
import { packageRoot } from '../../src/util/package-root.js';
import { tmpDir } from '../io/helpers.js';

const PYTHON = process.env.CTFGEN_PYTHON ?? '/usr/bin/python3';
const cli = join(packageRoot, 'dist', 'src', 'cli', 'main.js');
const d = tmpDir('evalfiles');
const p = (name: string) => join(d, name);

/** Runs the CLI from the test folder (not the package root: shipped defaults must still resolve). */
function ctfgen(...args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: d });
  return { ok: r.status === 0, out: r.stdout, err: r.stderr };
}
function ok(...args: string[]): string {
  const r = ctfgen(...args);
  assert.ok(r.ok, `ctfgen ${args.join(' ')} failed:\n${r.out}\n${r.err}`);
  return r.out;
}
function fails(...args: string[]): string {
  const r = ctfgen(...args);
  assert.ok(!r.ok, `ctfgen ${args.join(' ')} should have failed:\n${r.out}`);
  return r.err;
}
const readJson = <T>(name: string): T => JSON.parse(readFileSync(p(name), 'utf8')) as T;
const toy = ['--dim', '32', '--layers', '1', '--heads', '2', '--steps', '3', '--batch-size', '8', '--validate-every', '3'];

test('a run on an unshipped dataset: refused without its classifier, measured against its own test split with it; ADM .npz both ways', async () => {
  // the fixture as an IDX pair, relative paths as a user types them
  const ds = openDataset('fixture');
  writeFileSync(p('images.idx'), encodeIdx('uint8', [ds.length, 28, 28], ds.pixels));
  writeFileSync(p('labels.idx'), encodeIdx('uint8', [ds.length], ds.labels));
  const spec = 'idx:images.idx,labels.idx';
  const canonical = `idx:${p('images.idx')},${p('labels.idx')}`;

  ok('tokenizer', 'train', '--preset', 'tiny', '--steps', '3', '--data', spec, '--test-data', spec, '--out', 'tok.safetensors');
  ok('tokenizer', 'encode', '--tokenizer', 'tok.safetensors', '--data', spec, '--out', 'codes.safetensors');
  ok('train', 'baseline', '--run', 'run', '--tokenizer', 'tok.safetensors', '--train-cache', 'codes.safetensors', ...toy);
  assert.equal(readJson<{ dataset: string }>('run/run.json').dataset, canonical);

  // no flags: refused, naming the command that makes the missing classifier and --reference
  const refusal = fails('eval', '--run', 'run', '--n', '20');
  assert.match(refusal, /was trained on idx:.*images\.idx,.*labels\.idx, and ctfgen will not measure it against another dataset/);
  assert.ok(
    refusal.includes(
      `ctfgen eval classifier train --data ${canonical} --test <held-out images of the same data> --out images-classifier.safetensors`,
    ),
    refusal,
  );
  assert.match(refusal, /--reference <dataset spec, \.npz or image folder>/);
  assert.doesNotMatch(refusal, /FID/);

  // with its classifier: the reference is the test split recorded with it
  ok('eval', 'classifier', 'train', '--data', spec, '--test', spec, '--epochs', '1', '--out', 'cls.safetensors');
  const out = ok('eval', '--run', 'run', '--classifier', 'cls.safetensors', '--n', '20', '--out', 'eval.json');
  assert.ok(out.includes(`reference ${canonical} (the test split recorded with cls.safetensors)`), out);
  const [e] = readJson<RunEvaluation[]>('eval.json');
  assert.equal(e!.reference, canonical);
  assert.ok(Number.isFinite(e!.fid) && Number.isFinite(e!.kid));
  assert.equal(e!.sfid, null, 'no sFID without spatial features (NaN is written as null)');

  // samples out in ADM's layout, read by numpy
  ok('sample', '--run', 'run', '--n', '30', '--npz', 'samples.npz');
  const facts = JSON.parse(
    execFileSync(
      PYTHON,
      [
        '-c',
        'import sys, json, numpy as np; z = np.load(sys.argv[1]); a = z["arr_0"]; print(json.dumps([list(a.shape), a.dtype.str, bool((a[..., 0] == a[..., 1]).all() and (a[..., 1] == a[..., 2]).all()), z["arr_1"].tolist()]))',
        p('samples.npz'),
      ],
      { encoding: 'utf8' },
    ),
  ) as unknown[];
  assert.deepEqual(facts, [[30, 32, 32, 3], '|u1', true, Array.from({ length: 30 }, (_, i) => i % 10)]);

  // anything in: the samples file records its dataset, so only the classifier is named
  ok('eval', '--samples', 'samples.npz', '--classifier', 'cls.safetensors', '--out', 'samples-eval.json');
  const se = readJson<SamplesEvaluation>('samples-eval.json');
  assert.equal(se.reference, canonical);
  assert.equal(se.n, 30);

  // the same samples as a folder of PNGs (as LlamaGen's sample_ddp writes them) score the same
  execFileSync(PYTHON, [
    '-c',
    `import sys, os, numpy as np
from PIL import Image
a = np.load(sys.argv[1])['arr_0']; os.makedirs(sys.argv[2])
for i, im in enumerate(a): Image.fromarray(im).save(f'{sys.argv[2]}/{i:06d}.png')
Image.fromarray(a[0][:20]).save(f'{sys.argv[2]}/999999.png')`,
    p('samples.npz'),
    p('pngs'),
  ]);
  assert.match(
    fails('eval', '--samples', 'pngs', '--classifier', 'cls.safetensors', '--reference', spec),
    /999999\.png is 32x20 but .*000000\.png is 32x32; give --center-crop <size>/,
  );
  execFileSync(PYTHON, ['-c', 'import os, sys; os.remove(sys.argv[1])', p('pngs/999999.png')]);
  ok('eval', '--samples', 'pngs', '--classifier', 'cls.safetensors', '--reference', spec, '--out', 'pngs-eval.json');
  const fromPngs = readJson<SamplesEvaluation>('pngs-eval.json');
  assert.ok(Math.abs(fromPngs.fid - se.fid) <= 1e-9 * se.fid, `FID of the PNG folder ${fromPngs.fid} vs the .npz ${se.fid}`);

  // reference statistics in ADM's layout: numpy finds mu, sigma = mean and covariance of the features
  ok('eval', 'stats', '--data', spec, '--classifier', 'cls.safetensors', '--out', 'ref.npz');
  const check = execFileSync(
    PYTHON,
    [
      '-c',
      `import sys, json, numpy as np
z = np.load(sys.argv[1]); f = z['ctfgen_features'].astype(np.float64)
mu, sigma = z['mu'], z['sigma']
print(json.dumps([sorted(z.files), mu.dtype.str, list(sigma.shape), float(np.abs(mu - f.mean(0)).max() / np.abs(mu).max()), float(np.abs(sigma - np.cov(f, rowvar=False)).max() / np.abs(sigma).max())]))
np.savez(sys.argv[2], mu=mu, sigma=sigma)  # the same statistics without ctfgen's record, as a foreign file`,
      p('ref.npz'),
      p('foreign.npz'),
    ],
    { encoding: 'utf8' },
  );
  const [files, dtype, shape, muErr, sigmaErr] = JSON.parse(check) as [string[], string, number[], number, number];
  assert.deepEqual([files, dtype, shape], [['ctfgen_features', 'ctfgen_meta', 'mu', 'sigma'], '<f8', [128, 128]]);
  assert.ok(muErr < 1e-9 && sigmaErr < 1e-9, `mu ${muErr}, sigma ${sigmaErr}`);
  ok('eval', '--samples', 'samples.npz', '--classifier', 'cls.safetensors', '--reference', 'ref.npz', '--out', 'samples-ref.json');
  const viaFile = readJson<SamplesEvaluation>('samples-ref.json');
  for (const k of ['fid', 'kid', 'kidStd', 'precision', 'recall', 'isMean', 'classAccuracy'] as const)
    assert.ok(Math.abs(viaFile[k] - se[k]) <= 1e-9 * Math.max(1, Math.abs(se[k])), `${k}: ${viaFile[k]} via ref.npz vs ${se[k]}`);
  assert.match(
    fails('eval', '--samples', 'samples.npz', '--classifier', 'cls.safetensors', '--reference', 'foreign.npz'),
    /foreign\.npz cannot serve as a reference: its statistics carry no record of their network/,
  );

  // FID(A, A) = 0: the real images as a numpy .npz (grey replicated to RGB) against the dataset itself
  execFileSync(PYTHON, [
    '-c',
    `import sys, numpy as np
raw = open(sys.argv[1], 'rb').read()[16:]
a = np.frombuffer(raw, np.uint8).reshape(-1, 28, 28)
np.savez(sys.argv[2], arr_0=np.repeat(a[..., None], 3, axis=3))`,
    p('images.idx'),
    p('real.npz'),
  ]);
  ok('eval', '--samples', 'real.npz', '--reference', spec, '--classifier', 'cls.safetensors', '--out', 'same.json');
  const same = readJson<SamplesEvaluation>('same.json');
  assert.ok(Math.abs(same.fid) < 1e-6, `FID of the reference images against themselves: ${same.fid}`);
  assert.deepEqual([same.precision, same.recall], [1, 1]);
});
