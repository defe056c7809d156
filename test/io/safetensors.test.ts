import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  DTYPES,
  RawTensor,
  SafetensorsError,
  encodeSafetensors,
  parseSafetensors,
  readSafetensors,
  readSafetensorsHeader,
  readSafetensorsIndex,
  writeSafetensors,
} from '../../src/io/index.js';
import { prng, tmpDir } from './helpers.js';

function randomTensor(rand: () => number, dtype: RawTensor['dtype'], shape: number[]): RawTensor {
  const size = { float32: 4, float64: 8, float16: 2, bfloat16: 2, int64: 8, int32: 4, uint8: 1, bool: 1 }[dtype];
  const data = new Uint8Array(shape.reduce((a, b) => a * b, 1) * size);
  for (let i = 0; i < data.length; i++) data[i] = dtype === 'bool' ? (rand() < 0.5 ? 1 : 0) : Math.floor(rand() * 256);
  return { dtype, shape, data };
}

function sameTensors(a: ReadonlyMap<string, RawTensor>, b: ReadonlyMap<string, RawTensor>): void {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [k, t] of a) {
    const u = b.get(k)!;
    assert.equal(u.dtype, t.dtype, k);
    assert.deepEqual(u.shape, t.shape, k);
    assert.deepEqual(Buffer.from(u.data), Buffer.from(t.data), k);
  }
}

test('round trip: every dtype, scalars, empty tensors, metadata, unusual names', async () => {
  const rand = prng(1);
  const tensors = new Map<string, RawTensor>();
  DTYPES.forEach((d, i) => tensors.set(`t.${d}`, randomTensor(rand, d, [3, i + 1])));
  tensors.set('scalar', randomTensor(rand, 'float32', []));
  tensors.set('empty', randomTensor(rand, 'float16', [0, 4]));
  tensors.set('0', randomTensor(rand, 'uint8', [5])); // an integer-like name keeps its place
  tensors.set('ünï "q"\n', randomTensor(rand, 'int64', [2]));
  const metadata = { format: 'pt', note: 'a "quoted"\nvalue', '0': 'zero' };
  const dir = tmpDir('st');
  const file = path.join(dir, 'x.safetensors');
  await writeSafetensors(file, tensors, metadata);
  const back = await readSafetensors(file);
  sameTensors(tensors, back.tensors);
  assert.deepEqual(back.metadata, metadata);
  // the per-tensor read path for large files gives the same result
  const back2 = await readSafetensors(file, { wholeFileLimit: 0 });
  sameTensors(tensors, back2.tensors);
  // tensors are aligned to their element size in the file
  const h = await readSafetensorsHeader(file);
  assert.equal(h.dataStart % 8, 0);
  for (const e of h.entries) {
    const size = { float32: 4, float64: 8, float16: 2, bfloat16: 2, int64: 8, int32: 4, uint8: 1, bool: 1 }[e.dtype];
    assert.equal(e.begin % size, 0, e.name);
  }
  // zero-copy: the tensors of an in-memory parse are views into the buffer
  const buf = encodeSafetensors(tensors, metadata);
  const parsed = parseSafetensors(buf);
  for (const t of parsed.tensors.values()) assert.equal(t.data.buffer, buf.buffer);
  fs.rmSync(dir, { recursive: true });
});

test('byte-exact layout of a small file', () => {
  const tensors = new Map<string, RawTensor>([
    ['b', { dtype: 'int32', shape: [2], data: new Uint8Array(Int32Array.from([1, -2]).buffer) }],
    ['a', { dtype: 'float16', shape: [1], data: Uint8Array.from([0x00, 0x3c]) }],
    ['c', { dtype: 'float64', shape: [], data: new Uint8Array(Float64Array.from([0.5]).buffer) }],
  ]);
  const bytes = encodeSafetensors(tensors, { k: 'v' });
  const json =
    '{"__metadata__":{"k":"v"},' +
    '"c":{"dtype":"F64","shape":[],"data_offsets":[0,8]},' +
    '"b":{"dtype":"I32","shape":[2],"data_offsets":[8,16]},' +
    '"a":{"dtype":"F16","shape":[1],"data_offsets":[16,18]}}';
  const padded = json + ' '.repeat((8 - (json.length % 8)) % 8);
  assert.equal(padded.length % 8, 0);
  const expected = Buffer.concat([
    Buffer.from([padded.length, 0, 0, 0, 0, 0, 0, 0]),
    Buffer.from(padded, 'utf8'),
    Buffer.from(Float64Array.from([0.5]).buffer),
    Buffer.from([1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff]),
    Buffer.from([0x00, 0x3c]),
  ]);
  assert.deepEqual(Buffer.from(bytes), expected);
  // no metadata: no __metadata__ key
  const plain = Buffer.from(encodeSafetensors(new Map([['x', { dtype: 'uint8', shape: [1], data: Uint8Array.from([7]) }]])));
  const j = '{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}';
  assert.equal(plain.readUInt32LE(0), Math.ceil(j.length / 8) * 8);
  assert.equal(plain.subarray(8, 8 + j.length).toString(), j);
});

function file(header: string | object, data: Uint8Array = new Uint8Array(0), headerLen?: bigint): Uint8Array {
  const h = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(headerLen ?? BigInt(h.length));
  return Buffer.concat([len, h, data]);
}

test('validation errors name the file and the problem', () => {
  const t = (dtype: string, shape: number[], offs: number[]) => ({ dtype, shape, data_offsets: offs });
  const cases: Array<[Uint8Array, RegExp]> = [
    [new Uint8Array(0), /bad\.st: file is 0 bytes, too short/],
    [new Uint8Array(5), /too short/],
    [file('{}', new Uint8Array(0), 100n), /header length 100 runs past the end of the file/],
    [file('{}', new Uint8Array(0), 2n ** 63n), /runs past the end/],
    [file('[1]'), /does not start with '\{'/],
    [file('{"a":'), /not valid JSON/],
    [file({ a: t('F32', [2], [0, 8]) }, new Uint8Array(4)), /tensor "a": data_offsets \[0, 8\] run past the data section \(4 bytes\)/],
    [file({ a: t('F32', [3], [0, 8]) }, new Uint8Array(8)), /F32 \[3\] needs 12 bytes but data_offsets \[0, 8\] span 8/],
    [file({ a: t('Q7', [2], [0, 8]) }, new Uint8Array(8)), /unknown dtype "Q7"/],
    [file({ a: t('I16', [4], [0, 8]) }, new Uint8Array(8)), /unsupported dtype "I16"/],
    [file({ a: t('F32', [2], [0, 8]), b: t('F32', [1], [4, 8]) }, new Uint8Array(8)), /tensors "a" and "b" overlap/],
    [file({ a: t('F32', [1], [4, 8]) }, new Uint8Array(8)), /hole at bytes \[0, 4\)/],
    [file({ a: t('F32', [1], [0, 4]) }, new Uint8Array(8)), /4 trailing bytes/],
    [file({ a: t('F32', [-1], [0, 0]) }), /shape is not a list of non-negative integers/],
    [file({ a: t('F32', [1], [8, 4]) }, new Uint8Array(8)), /reversed/],
    [file({ a: { dtype: 'F32', shape: [1] } }), /data_offsets is not a pair/],
    [file({ __metadata__: { k: 1 } }), /__metadata__ value for "k" is not a string/],
    [file({ a: t('F32', [2 ** 40, 2 ** 40], [0, 4]) }, new Uint8Array(4)), /too large/],
    [Buffer.concat([file('{"a":1}').subarray(0, 8), Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x20, 0x20, 0x20])]), /not valid UTF-8/],
  ];
  for (const [bytes, re] of cases) {
    assert.throws(
      () => parseSafetensors(bytes, 'bad.st'),
      (e: unknown) => e instanceof SafetensorsError && re.test(e.message) && e.message.startsWith('bad.st'),
      re.source,
    );
  }
});

test('sharded index: tensors come from their shards', async () => {
  const dir = tmpDir('idx');
  const rand = prng(2);
  const a = new Map([
    ['x', randomTensor(rand, 'float32', [2, 2])],
    ['y', randomTensor(rand, 'bfloat16', [3])],
  ]);
  const b = new Map([['z', randomTensor(rand, 'int64', [1])]]);
  await writeSafetensors(path.join(dir, 'model-00001-of-00002.safetensors'), a, { format: 'pt' });
  await writeSafetensors(path.join(dir, 'model-00002-of-00002.safetensors'), b);
  const index = path.join(dir, 'model.safetensors.index.json');
  fs.writeFileSync(
    index,
    JSON.stringify({
      metadata: { total_size: 30 },
      weight_map: { x: 'model-00001-of-00002.safetensors', z: 'model-00002-of-00002.safetensors', y: 'model-00001-of-00002.safetensors' },
    }),
  );
  const r = await readSafetensorsIndex(index);
  assert.deepEqual([...r.tensors.keys()], ['x', 'z', 'y']);
  sameTensors(new Map([...a, ...b]), r.tensors);
  assert.deepEqual(r.metadata, { format: 'pt' });
  assert.deepEqual(r.indexMetadata, { total_size: 30 });
  fs.writeFileSync(index, JSON.stringify({ weight_map: { w: 'model-00002-of-00002.safetensors' } }));
  await assert.rejects(readSafetensorsIndex(index), /tensor "w" is not in its shard model-00002-of-00002\.safetensors/);
  fs.writeFileSync(index, JSON.stringify({ weight_map: { w: '../etc/passwd' } }));
  await assert.rejects(readSafetensorsIndex(index), /not a file name in the index's folder/);
  fs.writeFileSync(index, '{"metadata": {}}');
  await assert.rejects(readSafetensorsIndex(index), /no "weight_map"/);
  fs.rmSync(dir, { recursive: true });
});
