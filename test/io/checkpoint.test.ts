import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  RawTensor,
  float32ToRaw,
  loadCheckpoint,
  rawToFloat32,
  saveCheckpoint,
  writeFileAtomic,
  writeFileAtomicSync,
  writeJsonAtomic,
} from '../../src/io/index.js';
import { tmpDir } from './helpers.js';

test('saveCheckpoint / loadCheckpoint: weights, optimizer state, metadata', async () => {
  const dir = tmpDir('ckpt');
  const file = path.join(dir, 'step-5.safetensors');
  const w = float32ToRaw(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
  const b = float32ToRaw(Float32Array.from([0.5, -0.5]), [2], 'bfloat16');
  const m = float32ToRaw(Float32Array.from([9, 8]), [2]);
  const meta = { kind: 'ctf-stage1', config: { dim: 64, layers: [1, 2] }, step: 5, rng: 'abc', nested: { 'a.b': null } };
  await saveCheckpoint(
    file,
    new Map([
      ['w', w],
      ['b', b],
    ]),
    meta,
    { optimizer: new Map([['w.exp_avg', m]]) },
  );
  const ck = await loadCheckpoint(file);
  assert.deepEqual(ck.meta, meta);
  assert.deepEqual([...ck.tensors.keys()].sort(), ['b', 'w']);
  assert.deepEqual([...rawToFloat32(ck.tensors.get('w')!)], [1, 2, 3, 4, 5, 6]);
  assert.equal(ck.tensors.get('b')!.dtype, 'bfloat16');
  assert.deepEqual([...ck.optimizer.keys()], ['w.exp_avg']);
  assert.deepEqual([...rawToFloat32(ck.optimizer.get('w.exp_avg')!)], [9, 8]);
  assert.deepEqual(fs.readdirSync(dir), ['step-5.safetensors'], 'no temporary files left behind');

  await assert.rejects(saveCheckpoint(file, new Map([['optim.x', w]]), {}), /reserved prefix/);
  await assert.rejects(saveCheckpoint(file, new Map(), { big: 1n }), /not JSON-serialisable/);
  const notOurs = path.join(dir, 'other.safetensors');
  fs.writeFileSync(notOurs, Buffer.from([2, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d]));
  await assert.rejects(loadCheckpoint(notOurs), /not a ctfgen checkpoint/);
  fs.rmSync(dir, { recursive: true });
});

test('atomic writes: strings, bytes, chunk iterables, JSON; failures leave the old file', async () => {
  const dir = tmpDir('atomic');
  const f = path.join(dir, 'a.json');
  await writeJsonAtomic(f, { x: 1 });
  assert.equal(fs.readFileSync(f, 'utf8'), '{\n  "x": 1\n}\n');
  await writeFileAtomic(f, [Uint8Array.from([104, 105]), Uint8Array.from([33])]);
  assert.equal(fs.readFileSync(f, 'utf8'), 'hi!');
  writeFileAtomicSync(f, 'sync');
  assert.equal(fs.readFileSync(f, 'utf8'), 'sync');
  async function* gen(): AsyncGenerator<Uint8Array> {
    yield Uint8Array.from([65]);
    throw new Error('producer failed');
  }
  await assert.rejects(writeFileAtomic(f, gen()), /producer failed/);
  assert.equal(fs.readFileSync(f, 'utf8'), 'sync', 'old content survives a failed write');
  assert.deepEqual(fs.readdirSync(dir), ['a.json'], 'temporary file removed after a failure');
  await assert.rejects(writeFileAtomic(path.join(dir, 'missing', 'x'), 'x'), /ENOENT/);
  fs.rmSync(dir, { recursive: true });
});

test('a save killed with SIGKILL mid-write leaves the previous checkpoint loadable', { timeout: 60_000 }, async () => {
  const dir = tmpDir('kill');
  const file = path.join(dir, 'ckpt.safetensors');
  const script = path.join(dir, 'saver.mjs');
  // the compiled modules beside this compiled test (dist/test/io → dist/src/io)
  const io = (m: string) => new URL(`../../src/io/${m}`, import.meta.url).href;
  const n = 8 * 1024 * 1024; // 8M floats = 32 MiB per save, in 4 tensors
  // Two complete saves, then a third through the same atomic writer with its chunks slowed down,
  // so the kill reliably lands while the temporary file is part-written, even on a busy machine.
  fs.writeFileSync(
    script,
    `import { saveCheckpoint } from ${JSON.stringify(io('checkpoint.js'))};
import { writeFileAtomic } from ${JSON.stringify(io('atomic.js'))};
import { serializeSafetensors } from ${JSON.stringify(io('safetensors.js'))};
const parts = 4, per = ${n} / parts;
const arrays = Array.from({ length: parts }, () => new Float32Array(per));
const tensorsAt = (step) => {
  for (const a of arrays) a.fill(step);
  return new Map(arrays.map((a, i) => ['w' + i, { dtype: 'float32', shape: [per], data: new Uint8Array(a.buffer) }]));
};
for (const step of [1, 2]) {
  await saveCheckpoint(${JSON.stringify(file)}, tensorsAt(step), { step });
  process.stdout.write('saved ' + step + '\\n');
}
async function* slow(chunks) {
  for (const c of chunks) for (let o = 0; o < c.length; o += 1 << 20) {
    yield c.subarray(o, o + (1 << 20));
    await new Promise((r) => setTimeout(r, 50));
  }
}
await writeFileAtomic(${JSON.stringify(file)}, slow(serializeSafetensors(tensorsAt(3), { ctfgen_format: '1', ctfgen: '{"step":3}' })));
process.stdout.write('saved 3\\n');
`,
  );
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  let killedMidWrite = false;
  const deadline = Date.now() + 50_000;
  while (Date.now() < deadline && !killedMidWrite && !/saved 3\n/.test(out)) {
    if (/saved 2\n/.test(out)) {
      const tmp = fs.readdirSync(dir).find((f) => f.endsWith('.tmp'));
      let size = 0;
      try {
        size = tmp ? fs.statSync(path.join(dir, tmp)).size : 0;
      } catch {
        // renamed in between
      }
      if (size > 0 && size < n * 4) {
        child.kill('SIGKILL');
        killedMidWrite = true;
      }
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  if (!killedMidWrite) child.kill('SIGKILL');
  await exited;
  assert.ok(killedMidWrite, 'the child was killed while a temporary file was part-written');
  const ck = await loadCheckpoint(file);
  assert.equal(ck.meta.step, 2, 'the last complete save survives');
  for (const t of ck.tensors.values() as Iterable<RawTensor>) {
    const v = rawToFloat32(t);
    assert.equal(v.length, n / 4);
    assert.ok(
      v.every((x) => x === 2),
      'every value is from one complete save',
    );
  }
  fs.rmSync(dir, { recursive: true });
});
