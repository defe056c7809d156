import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  convertToSafetensors,
  detectCheckpointFormat,
  formatInspectSummary,
  inspectCheckpoint,
  loadStateDict,
  readSafetensors,
  writeSafetensors,
} from '../../src/io/index.js';
import { llamagenDir, ptDir, tmpDir } from './helpers.js';

test('inspect a torch.save training checkpoint', async () => {
  const s = await inspectCheckpoint(path.join(ptDir, 'ema.pt'));
  assert.equal(s.format, 'pytorch-zip');
  const names = s.entries.map((e) => e.name);
  assert.ok(names.includes('ema.0.weight'));
  assert.ok(names.includes('optimizer.state.0.exp_avg'));
  assert.deepEqual(
    s.entries.find((e) => e.name === 'ema.0.weight'),
    { name: 'ema.0.weight', dtype: 'float32', shape: [3, 4], numel: 12 },
  );
  assert.deepEqual(s.stateDict, { key: 'ema', tensorCount: 4, parameterCount: 12 + 3 + 3 + 3 });
  assert.equal(s.extras.steps, '10');
  assert.match(s.extras.args!, /^Namespace\(lr=0\.0001, model="GPT-B"/);
  const text = formatInspectSummary(s);
  assert.match(text, /ema\.0\.weight\s+float32\s+\[3, 4\]\s+12/);
  assert.match(text, /state dict: key "ema", 4 tensors/);
  assert.match(formatInspectSummary(s, { maxRows: 2 }), /\.\.\. \(\d+ more\)/);
});

test(
  'inspect the LlamaGen GPT fixture',
  { skip: !fs.existsSync(path.join(llamagenDir, 'gpt.pt')) && 'shared fixtures not found' },
  async () => {
    const s = await inspectCheckpoint(path.join(llamagenDir, 'gpt.pt'));
    assert.equal(s.stateDict?.key, 'model');
    assert.equal(s.parameterCount, s.stateDict?.parameterCount);
    assert.ok(s.entries.some((e) => e.name === 'model.tok_embeddings.weight'));
  },
);

test('convert .pt to safetensors, then inspect and convert back from safetensors and an index', async () => {
  const dir = tmpDir('conv');
  const out = path.join(dir, 'views.safetensors');
  const r = await convertToSafetensors(path.join(ptDir, 'views.pt'), out);
  const sd = await loadStateDict(path.join(ptDir, 'views.pt'));
  assert.equal(r.tensorCount, sd.size);
  const st = await readSafetensors(out);
  assert.equal(st.metadata.format, 'pt');
  assert.equal(st.metadata.converted_from, 'views.pt');
  for (const [k, t] of sd) {
    const u = st.tensors.get(k)!;
    assert.equal(u.dtype, t.dtype);
    assert.deepEqual(u.shape, t.shape);
    assert.deepEqual(Buffer.from(u.data), Buffer.from(t.data), k);
  }
  assert.equal(await detectCheckpointFormat(out), 'safetensors');
  const s = await inspectCheckpoint(out);
  assert.equal(s.format, 'safetensors');
  assert.equal(s.entries.length, sd.size);
  assert.equal(s.metadata.format, 'pt');

  // bf16 -> float32 conversion on the way
  const out32 = path.join(dir, 'bf.safetensors');
  await convertToSafetensors(path.join(ptDir, 'model-bf16.pt'), out32, { toFloat32: true, metadata: { note: 'x' } });
  const st32 = await readSafetensors(out32);
  assert.ok([...st32.tensors.values()].every((t) => t.dtype === 'float32'));
  assert.equal(st32.metadata.note, 'x');

  // a sharded index
  await writeSafetensors(path.join(dir, 's1.safetensors'), new Map([['a', st.tensors.get('base')!]]));
  await writeSafetensors(path.join(dir, 's2.safetensors'), new Map([['b', st.tensors.get('i64')!]]));
  const index = path.join(dir, 'model.safetensors.index.json');
  fs.writeFileSync(index, JSON.stringify({ metadata: { total_size: 176 }, weight_map: { a: 's1.safetensors', b: 's2.safetensors' } }));
  const si = await inspectCheckpoint(index);
  assert.equal(si.format, 'safetensors-index');
  assert.deepEqual(
    si.entries.map((e) => [e.name, e.dtype, e.shape]),
    [
      ['a', 'float32', [4, 6]],
      ['b', 'int64', [10]],
    ],
  );
  assert.equal(si.parameterCount, 34);
  const merged = path.join(dir, 'merged.safetensors');
  assert.deepEqual(await convertToSafetensors(index, merged), { tensorCount: 2, parameterCount: 34, byteCount: 176 });

  await assert.rejects(inspectCheckpoint(path.join(ptDir, 'legacy.pt')), /legacy/);
  const junk = path.join(dir, 'junk.bin');
  fs.writeFileSync(junk, 'just some text');
  await assert.rejects(inspectCheckpoint(junk), /unrecognised checkpoint format/);
  fs.rmSync(dir, { recursive: true });
});
