// .npz both ways against numpy (Debian python3-numpy): every dtype, byte order, memory order,
// header version and member compression numpy writes is read exactly; what we write numpy reads
// exactly (ZIP64 included); object arrays, structured dtypes, garbage, truncation and zip bombs are
// refused with clear errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { NpzFile, npyHeader, parseNpyHeader, writeNpz, type NpyArray, type NpyDType } from '../../src/io/index.js';
import { makeZip, tmpDir } from './helpers.js';

const PYTHON = process.env.CTFGEN_PYTHON ?? '/usr/bin/python3';
const python = (script: string, ...args: string[]) => execFileSync(PYTHON, ['-c', script, ...args], { encoding: 'utf8' });
const bytesOf = (a: NpyArray) => Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

// numpy writes one .npz per variant plus, for every array, its C-order little-endian bytes
const WRITE_VARIANTS = `
import sys, io, zipfile, json, numpy as np
d = sys.argv[1]
rng = np.random.default_rng(0)
arrays = {
  'u8': rng.integers(0, 256, (5, 4, 3, 3), dtype=np.uint8),
  'flag': rng.integers(0, 2, (7,)).astype(bool),
  'i32be': rng.integers(-2**31, 2**31, (3, 5), dtype=np.int32).astype('>i4'),
  'i64': rng.integers(-2**40, 2**40, (6,), dtype=np.int64),
  'f32': rng.standard_normal((4, 6)).astype(np.float32),
  'f64be': rng.standard_normal((3, 3)).astype('>f8'),
  'fortran2': np.asfortranarray(rng.standard_normal((5, 7))),
  'fortran3': np.asfortranarray(rng.integers(0, 9, (2, 3, 4), dtype=np.int32)),
  'scalar': np.array(2.5),
  'empty': np.zeros((0, 3), np.float32),
}
for k, a in arrays.items():
  open(f'{d}/{k}.raw', 'wb').write(np.ascontiguousarray(a.astype(a.dtype.newbyteorder('<'))).tobytes())
json.dump({k: [list(a.shape), a.dtype.name] for k, a in arrays.items()}, open(f'{d}/arrays.json', 'w'))
np.savez(f'{d}/stored.npz', **arrays)
np.savez_compressed(f'{d}/deflated.npz', **arrays)
# header versions 2.0 and 3.0, and ZIP64 records, in one archive written member by member
with zipfile.ZipFile(f'{d}/versions.npz', 'w') as z:
  for i, (k, a) in enumerate(arrays.items()):
    with z.open(k + '.npy', 'w', force_zip64=True) as f:
      np.lib.format.write_array(f, a, version=[(2, 0), (3, 0)][i % 2])
`;

test('.npz written by numpy (stored, deflated, header versions 2 and 3, ZIP64) is read exactly', async () => {
  const d = tmpDir('npz');
  python(WRITE_VARIANTS, d);
  const expected = JSON.parse(readFileSync(join(d, 'arrays.json'), 'utf8')) as Record<string, [number[], string]>;
  const dtypeName = { uint8: 'uint8', bool: 'bool', int32: 'int32', int64: 'int64', float32: 'float32', float64: 'float64' };
  for (const file of ['stored.npz', 'deflated.npz', 'versions.npz']) {
    const f = await NpzFile.open(join(d, file));
    try {
      assert.deepEqual(f.names.sort(), Object.keys(expected).sort(), file);
      for (const [name, [shape, dtype]] of Object.entries(expected)) {
        const a = await f.read(name);
        assert.deepEqual(a.shape, shape, `${file} ${name} shape`);
        assert.equal(dtypeName[a.dtype], dtype, `${file} ${name} dtype`);
        assert.ok(bytesOf(a).equals(readFileSync(join(d, `${name}.raw`))), `${file} ${name}: values differ`);
        if (shape.length > 0 && shape[0]! > 0) {
          // batches along the first axis concatenate to the same bytes
          const parts: Buffer[] = [];
          for await (const b of f.rows(name, 2)) parts.push(Buffer.from(bytesOf(b)));
          assert.ok(Buffer.concat(parts).equals(readFileSync(join(d, `${name}.raw`))), `${file} ${name}: rows differ`);
        }
      }
      if (file === 'stored.npz') assert.equal((await f.header('fortran2')).fortranOrder, true);
    } finally {
      await f.close();
    }
  }
});

const READ_BACK = `
import sys, json, hashlib, numpy as np
z = np.load(sys.argv[1])
print(json.dumps({k: [list(z[k].shape), z[k].dtype.str, hashlib.sha256(np.ascontiguousarray(z[k]).tobytes()).hexdigest()] for k in z.files}))
`;

test('.npz written by ctfgen is read by numpy exactly: typed arrays and streamed chunks, with and without forced ZIP64', async () => {
  const d = tmpDir('npz');
  const images = Uint8Array.from({ length: 6 * 4 * 4 * 3 }, (_, i) => (i * 37) % 256);
  const labels = BigInt64Array.from([0n, 1n, 2n, 3n, 4n, 5n]);
  const mu = Float64Array.from({ length: 5 }, (_, i) => Math.PI * i);
  const sigma = Float32Array.from({ length: 25 }, (_, i) => Math.sin(i));
  const counts = Int32Array.from([-7, 0, 2 ** 31 - 1]);
  for (const forceZip64 of [false, true]) {
    const path = join(d, `ours-${forceZip64}.npz`);
    await writeNpz(
      path,
      [
        // the image bytes arrive as two chunks, as a streaming writer hands them over
        { name: 'arr_0', dtype: 'uint8', shape: [6, 4, 4, 3], data: [images.subarray(0, 100), images.subarray(100)] },
        { name: 'arr_1', dtype: 'int64', shape: [6], data: labels },
        { name: 'mu', dtype: 'float64', shape: [5], data: mu },
        { name: 'sigma', dtype: 'float32', shape: [5, 5], data: sigma },
        { name: 'counts', dtype: 'int32', shape: [3], data: counts },
        { name: 'flags', dtype: 'bool', shape: [2], data: Uint8Array.from([1, 0]) },
      ],
      { forceZip64 },
    );
    const seen = JSON.parse(python(READ_BACK, path)) as Record<string, [number[], string, string]>;
    const raw = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    assert.deepEqual(seen, {
      arr_0: [[6, 4, 4, 3], '|u1', sha(images)],
      arr_1: [[6], '<i8', sha(raw(labels))],
      mu: [[5], '<f8', sha(raw(mu))],
      sigma: [[5, 5], '<f4', sha(raw(sigma))],
      counts: [[3], '<i4', sha(raw(counts))],
      flags: [[2], '|b1', sha(Uint8Array.from([1, 0]))],
    });
    const f = await NpzFile.open(path);
    assert.deepEqual(Array.from((await f.read('mu')).data as Float64Array), Array.from(mu));
    await f.close();
  }
  // only the archive appeared: the temporary file was renamed, nothing else is left behind
  assert.deepEqual(readdirSync(d).sort(), ['ours-false.npz', 'ours-true.npz']);
});

test('our .npy headers are byte for byte the ones numpy writes, and parse back', () => {
  const cases: [NpyDType, number[], string][] = [
    ['float32', [3, 4], 'np.float32'],
    ['uint8', [50000, 256, 256, 3], 'np.uint8'],
    ['int64', [7], 'np.int64'],
    ['float64', [], 'np.float64'],
    ['bool', [0, 2], 'bool'],
  ];
  const numpy = JSON.parse(
    python(
      `import io, json, sys, numpy as np
out = []
for shape, dt in json.loads(sys.argv[1]):
  f = io.BytesIO(); np.lib.format.write_array_header_1_0(f, {'descr': np.lib.format.dtype_to_descr(np.dtype(eval(dt))), 'fortran_order': False, 'shape': tuple(shape)})
  out.append(f.getvalue().hex())
print(json.dumps(out))`,
      JSON.stringify(cases.map(([, shape, dt]) => [shape, dt])),
    ),
  ) as string[];
  cases.forEach(([dtype, shape], i) => {
    const h = npyHeader(dtype, shape);
    assert.equal(Buffer.from(h).toString('hex'), numpy[i], `${dtype} [${shape.join(', ')}]`);
    const p = parseNpyHeader(h, 'h');
    assert.deepEqual([p.dtype, p.shape, p.fortranOrder, p.littleEndian, p.headerBytes], [dtype, shape, false, true, h.length]);
  });
});

test('object arrays, structured and string dtypes, garbage and truncated files are refused with clear errors; nothing is unpickled', async () => {
  const d = tmpDir('npz');
  python(
    `import sys, numpy as np
d = sys.argv[1]
np.savez(d + '/object.npz', arr_0=np.array([{'a': 1}, None], dtype=object))
np.savez(d + '/structured.npz', arr_0=np.zeros(3, dtype=[('x', '<f4'), ('y', '<i4')]))
np.savez(d + '/strings.npz', arr_0=np.array(['ab', 'c']))
np.savez(d + '/complex.npz', arr_0=np.zeros(2, np.complex64))
np.savez(d + '/ok.npz', arr_0=np.arange(1000, dtype=np.float64))`,
    d,
  );
  const readArr0 = async (file: string) => {
    const f = await NpzFile.open(join(d, file));
    try {
      return await f.read('arr_0');
    } finally {
      await f.close();
    }
  };
  await assert.rejects(readArr0('object.npz'), /object array .* pickled Python objects, which ctfgen never loads/);
  await assert.rejects(readArr0('structured.npz'), /structured \(record\) arrays are not supported/);
  await assert.rejects(readArr0('strings.npz'), /dtype <U2 is not supported/);
  await assert.rejects(readArr0('complex.npz'), /dtype <c8 is not supported/);
  writeFileSync(join(d, 'garbage.npz'), Buffer.from('this is not a zip archive at all, just text'));
  await assert.rejects(NpzFile.open(join(d, 'garbage.npz')), /garbage\.npz: not a readable \.npz file/);
  const ok = readFileSync(join(d, 'ok.npz'));
  writeFileSync(join(d, 'truncated.npz'), ok.subarray(0, ok.length - 400));
  await assert.rejects(
    NpzFile.open(join(d, 'truncated.npz')).then((f) => f.read('arr_0')),
    /truncated\.npz/,
  );
  const notNpy = makeZip([['readme.txt', Buffer.from('hello')]]);
  await assert.rejects(
    NpzFile.open(notNpy, 'notnpy.npz'),
    /notnpy\.npz: not a \.npz file: it holds no \.npy arrays \(members: readme\.txt\)/,
  );
  // beside arrays, other members are ignored (numpy hands them out as bytes)
  const mixed = await NpzFile.open(
    makeZip([
      ['readme.txt', Buffer.from('hi')],
      ['arr_0.npy', Buffer.concat([npyHeader('uint8', [2]), Buffer.from([7, 9])])],
    ]),
    'mixed.npz',
  );
  assert.deepEqual([mixed.names, Array.from((await mixed.read('arr_0')).data as Uint8Array)], [['arr_0'], [7, 9]]);
  await mixed.close();
});

test('zip bombs are refused before inflating: impossible ratios, streams longer than recorded, shapes larger than the member', async () => {
  // a .npy header claiming 10^12 float64 values over a few bytes of data
  const lying = Buffer.concat([npyHeader('float64', [1e12]), Buffer.alloc(16)]);
  const f1 = await NpzFile.open(makeZip([['arr_0.npy', lying]]), 'lying.npz');
  await assert.rejects(f1.read('arr_0'), /describes 8000000000000 data bytes .* but the member holds 16; the file is corrupt or truncated/);
  await f1.close();

  // 64 MB of zeros deflate to ~64 kB; record it as 80 bytes: the stream may not run past that
  const zeros = Buffer.concat([npyHeader('float64', [10]), Buffer.alloc(64 << 20)]);
  const bomb = makeZip([['arr_0.npy', zeros]], { deflate: true });
  const patchSize = (buf: Buffer, size: number) => {
    const local = buf.indexOf(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
    const central = buf.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    buf.writeUInt32LE(size, local + 22);
    buf.writeUInt32LE(size, central + 24);
    return buf;
  };
  const short = await NpzFile.open(patchSize(Buffer.from(bomb), 128 + 80), 'short.npz');
  await assert.rejects(short.read('arr_0'), /short\.npz: .*(more bytes than recorded|too many bytes)/);
  await short.close();
  // recorded as 4 GB from ~64 kB: more than deflate can expand
  const huge = await NpzFile.open(patchSize(Buffer.from(bomb), 0xfffffff0), 'huge.npz');
  await assert.rejects(huge.read('arr_0'), /huge\.npz: record arr_0\.npy claims 4294967280 bytes from \d+ compressed bytes/);
  await huge.close();
  assert.ok(zlib.deflateRawSync(zeros).length < 100_000);
});
