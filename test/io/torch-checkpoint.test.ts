import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  CheckpointError,
  PyGlobal,
  RawTensor,
  TorchCheckpoint,
  UnsafePickleError,
  checksum,
  isRawTensor,
  loadStateDict,
  rawToFloat32,
  readTorchCheckpoint,
} from '../../src/io/index.js';
import { TensorFacts, llamagenDir, makeZip, pk, ptDir, readJson, str, fixturesDir, tensorPickle } from './helpers.js';

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function checkFacts(name: string, t: RawTensor, f: TensorFacts): void {
  assert.equal(t.dtype, f.dtype, `${name} dtype`);
  assert.deepEqual(t.shape, f.shape, `${name} shape`);
  assert.equal(sha256(t.data), f.sha256, `${name} bytes`);
  const c = checksum(t);
  assert.equal(c.count, f.count, `${name} count`);
  const tol = 1e-12 * Math.max(1, f.absSum);
  assert.ok(Math.abs(c.sum - f.sum) <= tol, `${name} sum ${c.sum} vs ${f.sum}`);
  assert.ok(Math.abs(c.absSum - f.absSum) <= tol, `${name} absSum ${c.absSum} vs ${f.absSum}`);
}

const shared = readJson<Record<string, { stateDictKey: string; tensors: Record<string, TensorFacts> }>>(
  path.join(fixturesDir, 'llamagen-ref-a.checksums.json'),
);

for (const file of ['gpt.pt', 'vq.pt']) {
  test(
    `LlamaGen reference ${file}: every tensor's shape, bytes and checksum`,
    { skip: !fs.existsSync(path.join(llamagenDir, file)) && 'shared fixtures not found' },
    async () => {
      const sd = await loadStateDict(path.join(llamagenDir, file));
      const want = shared[file]!.tensors;
      assert.deepEqual([...sd.keys()], Object.keys(want), 'names and order');
      for (const [name, t] of sd) checkFacts(name, t, want[name]!);
    },
  );
}

const reference = readJson<Record<string, Record<string, TensorFacts>>>(path.join(ptDir, 'reference.json'));

for (const [file, tensors] of Object.entries(reference)) {
  test(`torch.save fixture ${file}: every tensor matches torch`, async () => {
    const root = await readTorchCheckpoint(path.join(ptDir, file));
    const found = new Map<string, RawTensor>();
    const walk = (v: unknown, name: string): void => {
      if (isRawTensor(v)) found.set(name || '(root)', v);
      else if (v instanceof Map) for (const [k, x] of v) walk(x, name ? `${name}.${String(k)}` : String(k));
      else if (Array.isArray(v)) v.forEach((x, i) => walk(x, name ? `${name}.${i}` : String(i)));
    };
    walk(root, '');
    assert.deepEqual([...found.keys()].sort(), Object.keys(tensors).sort());
    for (const [name, f] of Object.entries(tensors)) checkFacts(`${file}:${name}`, found.get(name)!, f);
  });
}

test('views.pt: shared storage is read once and views alias it only when contiguous', async () => {
  const ckpt = await TorchCheckpoint.open(path.join(ptDir, 'views.pt'));
  try {
    const root = ckpt.root as Map<string, unknown>;
    const base = root.get('base') as { storage: { key: string } };
    const tr = root.get('transposed') as { storage: { key: string }; stride: number[] };
    assert.equal(base.storage.key, tr.storage.key, 'torch.save keeps the shared storage');
    assert.deepEqual(tr.stride, [1, 6]);
  } finally {
    await ckpt.close();
  }
  const sd = await loadStateDict(path.join(ptDir, 'views.pt'));
  assert.deepEqual([...rawToFloat32(sd.get('transposed')!)].slice(0, 6), [0, 6, 12, 18, 1, 7]);
  assert.deepEqual([...rawToFloat32(sd.get('cols')!)], [2, 3, 4, 8, 9, 10, 14, 15, 16, 20, 21, 22]);
  assert.equal(sd.get('rows')!.data.buffer, sd.get('base')!.data.buffer);
});

test('loadStateDict: {"model"}, {"ema"}, plain, explicit keys, toFloat32', async () => {
  const plain = await loadStateDict(path.join(ptDir, 'plain-f32.pt'));
  assert.deepEqual([...plain.keys()], ['layer.weight', 'layer.bias', 'norm.weight']);
  const bf = await loadStateDict(path.join(ptDir, 'model-bf16.pt'));
  assert.equal(bf.get('layer.weight')!.dtype, 'bfloat16');
  const bf32 = await loadStateDict(path.join(ptDir, 'model-bf16.pt'), { toFloat32: true });
  const w = bf32.get('layer.weight')!;
  assert.equal(w.dtype, 'float32');
  assert.deepEqual(rawToFloat32(w), rawToFloat32(bf.get('layer.weight')!));
  const h32 = await loadStateDict(path.join(ptDir, 'model-f16.pt'), { toFloat32: true });
  const f32 = rawToFloat32(plain.get('layer.weight')!);
  const h = rawToFloat32(h32.get('layer.weight')!);
  for (let i = 0; i < f32.length; i++) assert.ok(Math.abs(f32[i]! - h[i]!) <= Math.abs(f32[i]!) * 2 ** -10);

  const ema = await loadStateDict(path.join(ptDir, 'ema.pt'));
  assert.deepEqual([...ema.keys()], ['0.weight', '0.bias', '1.weight', '1.bias']);
  await assert.rejects(
    loadStateDict(path.join(ptDir, 'ema.pt'), { prefer: 'model' }),
    /no dict under key "model"; top-level keys: "ema", "optimizer", "steps", "args"/,
  );
  await assert.rejects(loadStateDict(path.join(ptDir, 'ema.pt'), { prefer: ['model'] }), /no state dict found/);
  const viaKey = await loadStateDict(path.join(ptDir, 'ema.pt'), { prefer: 'ema' });
  assert.deepEqual([...viaKey.keys()], [...ema.keys()]);
});

test('ema.pt: optimizer state, steps and argparse args come through', async () => {
  const root = (await readTorchCheckpoint(path.join(ptDir, 'ema.pt'))) as Map<string, unknown>;
  assert.equal(root.get('steps'), 10);
  const args = root.get('args') as Record<string, unknown>;
  assert.equal(args.lr, 1e-4);
  assert.equal(args.model, 'GPT-B');
  assert.deepEqual(args.betas, [0.9, 0.95]);
  assert.deepEqual([...(args.tags as Set<string>)], ['a']);
  assert.deepEqual([...(args.blob as Uint8Array)], [0, 255]);
  assert.equal(args.big, 2n ** 70n);
  assert.equal(args.neg, -3);
  assert.equal(args.none, null);
  assert.equal(args.flag, true);
  const opt = root.get('optimizer') as Map<string, unknown>;
  const state = opt.get('state') as Map<number, Map<string, unknown>>;
  assert.ok(isRawTensor(state.get(0)!.get('exp_avg')));
  const groups = opt.get('param_groups') as Array<Map<string, unknown>>;
  assert.deepEqual(groups[0]!.get('params'), [0, 1, 2, 3]);
});

test('legacy, empty and non-checkpoint files get clear errors', async () => {
  await assert.rejects(
    loadStateDict(path.join(ptDir, 'legacy.pt')),
    /legacy \(pre-zip\) torch\.save format is not supported; re-save it with torch >= 1\.6/,
  );
  await assert.rejects(loadStateDict(new Uint8Array(0)), /file is empty/);
  await assert.rejects(loadStateDict(Buffer.from('hello world, not a zip')), /not a PyTorch checkpoint/);
  await assert.rejects(loadStateDict(makeZip([['x/readme.txt', Buffer.from('hi')]])), /no <folder>\/data\.pkl/);
  await assert.rejects(loadStateDict('/nonexistent/file.pt'), /cannot open/);
});

test('a malicious pickle inside a valid zip is refused and nothing runs', async () => {
  const marker = path.join(fs.mkdtempSync('/tmp/ctfgen-evil-'), 'pwned');
  const evil = pk(0x80, 2, 'cos\nsystem\n', str(`touch ${marker}`), 0x85, 'R', '.');
  const zip = makeZip([
    ['archive/data.pkl', evil],
    ['archive/version', Buffer.from('3\n')],
  ]);
  for (const load of [() => loadStateDict(zip), () => readTorchCheckpoint(zip), () => TorchCheckpoint.open(zip)]) {
    await assert.rejects(
      load(),
      (e: unknown) => e instanceof UnsafePickleError && /os\.system/.test(e.message) && e instanceof CheckpointError,
    );
  }
  assert.ok(!fs.existsSync(marker));
  fs.rmSync(path.dirname(marker), { recursive: true });
});

test('hand-made zips: missing storage, short storage, out-of-range view, deflated records, CRC', async () => {
  const data = new Uint8Array(Float32Array.from([1, 2, 3, 4]).buffer);
  const ok = makeZip([
    ['a/data.pkl', tensorPickle([2, 2], [1, 2], 0)],
    ['a/data/0', data],
  ]);
  const sd = await loadStateDict(ok);
  assert.deepEqual([...rawToFloat32(sd.get('w')!)], [1, 3, 2, 4]);
  const deflated = makeZip(
    [
      ['a/data.pkl', tensorPickle([2, 2], [1, 2], 0)],
      ['a/data/0', data],
    ],
    { deflate: true },
  );
  assert.deepEqual([...rawToFloat32((await loadStateDict(deflated)).get('w')!)], [1, 3, 2, 4]);
  await assert.rejects(loadStateDict(makeZip([['a/data.pkl', tensorPickle([2, 2], [1, 2], 0)]])), /storage record a\/data\/0 is missing/);
  await assert.rejects(
    loadStateDict(
      makeZip([
        ['a/data.pkl', tensorPickle([2, 2], [1, 2], 0)],
        ['a/data/0', data.subarray(0, 12)],
      ]),
    ),
    /holds 12 bytes but 4 float32 elements need 16/,
  );
  await assert.rejects(
    loadStateDict(
      makeZip([
        ['a/data.pkl', tensorPickle([2, 2], [2, 1], 1)],
        ['a/data/0', data],
      ]),
    ),
    /reaches element 4 of a storage of 4 elements/,
  );
  const corrupt = Buffer.from(ok);
  const at = corrupt.indexOf(Buffer.from(data));
  corrupt[at + 5] ^= 1;
  await assert.rejects(loadStateDict(corrupt), /CRC-32 mismatch/);
  await assert.rejects(loadStateDict(corrupt, { verifyCrc: true }), /CRC-32 mismatch/);
  const unchecked = await loadStateDict(corrupt, { verifyCrc: false });
  assert.notDeepEqual([...rawToFloat32(unchecked.get('w')!)], [1, 3, 2, 4]);
});

test('extras.pt: torch dtypes and torch.Size survive as values', async () => {
  const root = (await readTorchCheckpoint(path.join(ptDir, 'extras.pt'))) as Map<string, unknown>;
  assert.equal((root.get('dtype') as PyGlobal).qualified, 'torch.float16');
  assert.deepEqual(root.get('size'), [2, 3]);
});
