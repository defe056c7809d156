// The run folder as a validated structure: run.json checked on every read (types, class counts,
// where and what its files are), export re-serializing only the run's own artefacts, weights and
// logits checked before they reach a draw, and the shipped defaults found from any folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadClusters, saveClusters } from '../../src/cluster/clusters.js';
import { loadCheckpoint, readSafetensors, readSafetensorsHeader, saveCheckpoint, writeSafetensors } from '../../src/io/index.js';
import { drawTokens } from '../../src/models/sampling.js';
import { exportRun } from '../../src/run/export.js';
import { loadRun } from '../../src/run/load-run.js';
import { RunDir } from '../../src/run/run-dir.js';
import { forEachSampledBatch, resolveClass } from '../../src/sample/images.js';
import * as T from '../../src/torch/index.js';
import { ctfgen, scratch, shippedCopy } from './helpers.js';

const shipped = shippedCopy('run-folder');
const info = JSON.parse(readFileSync(join(shipped.ctf, 'run.json'), 'utf8')) as Record<string, unknown>;
const names = info.classNames as string[];

/** A copy of the shipped CTF run beside the original (so its tokenizer is beside it too), with run.json fields replaced. */
let copies = 0;
function tampered(fields: Record<string, unknown>): string {
  const run = join(shipped.dir, `tampered-${copies++}`);
  cpSync(shipped.ctf, run, { recursive: true });
  writeFileSync(join(run, 'run.json'), JSON.stringify({ ...info, ...fields }));
  return run;
}

test('export of a run.json naming /etc/passwd or a non-checkpoint leaks nothing (the issue: exit 0, a byte-identical copy)', async () => {
  const dir = scratch('export');
  for (const [fields, why] of [
    [{ clusters: '/etc/passwd' }, /clusters '\/etc\/passwd' is not a \.safetensors file/],
    [{ tokenizer: 'notes.txt' }, /tokenizer 'notes\.txt' is not a \.safetensors \/ \.pt \/ \.pth \/ \.bin file/],
    [{ clusters: '../../../../../../../../etc/passwd.safetensors' }, /clusters '.*' leads outside the run folder and the folder beside it/],
  ] as const) {
    const run = tampered(fields);
    writeFileSync(join(run, 'notes.txt'), 'private');
    const out = join(dir, `out-${copies}`);
    const r = ctfgen(['export', '--run', run, '--out', out]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, why);
    assert.ok(!existsSync(out), 'nothing is written');
  }
  // a .safetensors of another kind where the cluster file should be: parsed, refused, nothing written
  const run = tampered({ clusters: '../tokenizer.safetensors' });
  await assert.rejects(exportRun(run, join(dir, 'kind')), /tokenizer\.safetensors: not a clusters file \(kind 'vq-tokenizer'\)/);
  assert.ok(!existsSync(join(dir, 'kind')));
});

test('export re-serializes: what a run.json names is parsed and written anew, so extra tensors do not travel', async () => {
  const run = tampered({});
  // smuggle a tensor into the stage-1 checkpoint and the cluster file
  const secret = { dtype: 'uint8' as const, shape: [6], data: new TextEncoder().encode('secret') };
  const ck = await loadCheckpoint(join(run, 'stage1.safetensors'));
  await saveCheckpoint(join(run, 'stage1.safetensors'), new Map([...ck.tensors, ['smuggled', secret]]), ck.meta);
  const cl = await readSafetensors(join(run, 'clusters.safetensors'));
  await writeSafetensors(join(run, 'clusters.safetensors'), new Map([...cl.tensors, ['smuggled', secret]]), cl.metadata);
  const out = join(scratch('export-ok'), 'ship');
  const written = await exportRun(run, out);
  assert.deepEqual(written.map((f) => f.slice(out.length + 1)).sort(), [
    'clusters.safetensors',
    'stage1.safetensors',
    'stage2.safetensors',
    'tokenizer.safetensors',
  ]);
  for (const f of written) {
    const { entries } = await readSafetensorsHeader(f);
    assert.ok(!entries.some((e) => e.name === 'smuggled'), `${f} carries the smuggled tensor`);
    assert.ok(!readFileSync(f).includes(Buffer.from('secret')), `${f} holds the smuggled bytes`);
  }
  assert.deepEqual(
    (await loadClusters(join(out, 'clusters.safetensors'))).idxToCluster,
    (await loadClusters(join(run, 'clusters.safetensors'))).idxToCluster,
  );
  assert.equal(new RunDir(out).readInfo().clusters, join(out, 'clusters.safetensors'));
  await assert.rejects(exportRun(run, run), /is the run folder itself/);

  // an export of a run trained on other data is refused before a byte of the folder changes
  const before = written.map((f) => readFileSync(f));
  await assert.rejects(
    exportRun(tampered({ dataset: 'fashion-mnist:test' }), out),
    /run was made with dataset .*, not fashion-mnist:test; export into a new --out folder/,
  );
  written.forEach((f, i) => assert.ok(readFileSync(f).equals(before[i]!), `${f} was overwritten`));
});

test('run.json schema: each bad field is named with its fix (no more "path argument must be of type string")', async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ tokenizer: null }, /run\.json: tokenizer must be a string, found null; restore run\.json/],
    [{ tokenizer: '' }, /run\.json: tokenizer is empty/],
    [{ dataset: undefined }, /run\.json: dataset is missing/],
    [{ clusters: 7 }, /run\.json: clusters must be a string, found 7/],
    [{ classNames: [] }, /classNames must be a non-empty list of non-empty strings/],
    [{ classNames: [...names.slice(0, 9), 'Bag'] }, /classNames holds a name twice/],
    [{ numClasses: '10' }, /numClasses must be a positive integer, found "10"/],
    // the issue: more names than the model's classes, or fewer
    [{ classNames: [...names, 'x', 'y', 'z'] }, /numClasses is 10 but classNames lists 13 classes/],
    [{ clusters: 'missing.safetensors' }, /clusters names .*missing\.safetensors, which does not exist/],
  ];
  for (const [fields, why] of cases) assert.throws(() => new RunDir(tampered(fields)).readInfo(), why);
  // a file of the right name that is not a regular file
  const run = tampered({});
  const cl = join(run, 'clusters.safetensors');
  rmSync(cl);
  symlinkSync('/dev/zero', cl);
  assert.throws(() => new RunDir(run).readInfo(), /clusters names .*clusters\.safetensors, which is not a regular file/);
  // an absolute path the user gave is kept; a relative one stays inside or beside the run
  const elsewhere = join(scratch('elsewhere'), 'k.safetensors');
  await saveClusters(elsewhere, await loadClusters(join(shipped.ctf, 'clusters.safetensors')));
  assert.equal(new RunDir(tampered({ clusters: elsewhere })).readInfo().clusters, elsewhere);
});

test('class counts: run.json and the models must agree; --class beyond them is refused clearly', async () => {
  const more = [...names, 'Hat', 'Scarf', 'Glove'];
  await assert.rejects(
    loadRun(tampered({ classNames: more, numClasses: 13 })),
    /lists 13 classes but .*stage1\.safetensors was trained on 10/,
  );
  await assert.rejects(
    loadRun(tampered({ classNames: names.slice(0, 9), numClasses: 9 })),
    /lists 9 classes but .*stage1\.safetensors was trained on 10/,
  );
  const run = await loadRun(shipped.ctf);
  try {
    for (const c of ['10', '12'])
      assert.throws(() => resolveClass(c, run.info.classNames), /class 1\d is out of range: this run has classes 0\.\.9/);
    // the model itself refuses the guidance class 10, whatever a caller passes
    assert.throws(
      () => forEachSampledBatch(run, { classes: [10] }, () => undefined),
      /class 10 \(image 0\) is outside this model's 0\.\.9/,
    );
  } finally {
    run.dispose();
  }
  const r = ctfgen(['sample', '--run', shipped.ctf, '--class', '12', '--n', '1', '--out', join(shipped.dir, 'x.png')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /class 12 is out of range: this run has classes 0\.\.9/);
});

/** Rewrites one tensor of a run's stage-1 checkpoint. */
async function editStage1(run: string, name: string, edit: (values: Float32Array) => void): Promise<void> {
  const path = join(run, 'stage1.safetensors');
  const ck = await loadCheckpoint(path);
  const t = ck.tensors.get(name)!;
  const data = t.data.slice();
  edit(new Float32Array(data.buffer));
  await saveCheckpoint(path, new Map([...ck.tensors, [name, { ...t, data }]]), ck.meta);
}

test('weights: NaN/Inf or relabelled-dtype tensors are refused at load, naming the file and tensor', async () => {
  const nan = tampered({});
  await editStage1(nan, 'layers.2.attention.wqkv.weight', (v) => (v[5] = NaN));
  await assert.rejects(loadRun(nan), /stage1\.safetensors: non-finite values \(NaN or Inf\) in layers\.2\.attention\.wqkv\.weight/);
  const inf = tampered({});
  await editStage1(inf, 'norm.weight', (v) => (v[0] = -Infinity));
  const r = ctfgen(['sample', '--run', inf, '--class', '0', '--n', '1', '--out', join(shipped.dir, 'y.png')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /stage1\.safetensors: non-finite values \(NaN or Inf\) in norm\.weight/);
  // float32 bytes relabelled int32 in the header (same size, so the file stays well-formed)
  const relabelled = tampered({});
  const path = join(relabelled, 'stage1.safetensors');
  const bytes = readFileSync(path);
  const headerLen = Number(bytes.readBigUInt64LE(0));
  const header = bytes.subarray(8, 8 + headerLen).toString('utf8');
  const at = header.indexOf('"output.weight":{"dtype":"F32"');
  assert.ok(at > 0);
  bytes.write('"output.weight":{"dtype":"I32"', 8 + at, 'utf8');
  writeFileSync(path, bytes);
  await assert.rejects(loadRun(relabelled), /stage1\.safetensors: .*dtype mismatches: output\.weight: checkpoint int32 vs model float32/);
});

test('logits: finite weights that overflow are refused before the draw, naming the stage, token and image', async () => {
  const run = tampered({});
  await editStage1(run, 'norm.weight', (v) => v.fill(3e38));
  const loaded = await loadRun(run);
  try {
    assert.throws(
      () => forEachSampledBatch(loaded, { classes: [3, 4] }, () => undefined),
      /stage 1, token 0: the logits of image 0 of the batch hold NaN or Inf, or allow no token/,
    );
  } finally {
    loaded.dispose();
  }
  // the argmax path (top-k 1) checks too
  T.tidy(() => {
    const logits = T.tensor([
      [0, 1, 2],
      [0, NaN, 1],
    ]);
    assert.throws(
      () => drawTokens(logits, T.tensor([0.5, 0.5], 'float64'), { topK: 1 }, 'stage 2'),
      /stage 2: the logits of row 1 hold NaN/,
    );
  });
});

test('shipped defaults resolve from the package: eval and sample work from another folder', () => {
  const cwd = scratch('elsewhere-cwd');
  mkdirSync(join(cwd, 'models'));
  const s = ctfgen(['sample', '--class', 'Trouser', '--n', '1', '--out', 'x.png'], { cwd });
  assert.equal(s.status, 0, s.stderr);
  assert.ok(existsSync(join(cwd, 'x.png')));
  // the issue: ENOENT on 'models/fashion-mnist-classifier.safetensors' outside the repository
  const e = ctfgen(['eval', '--run', shipped.ctf, '--n', '4', '--reference', 'fixture'], { cwd });
  assert.equal(e.status, 0, e.stderr);
  assert.match(e.stdout, /FID .* network [0-9a-f]{12}/);
});
