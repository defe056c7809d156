import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checksum,
  dtypeByteSize,
  expectedByteLength,
  float32ToRaw,
  floatToHalfBits,
  halfBitsToFloat,
  makeRawTensor,
  numElements,
  rawToFloat32,
  toFloat32Raw,
  validateRawTensor,
} from '../../src/io/index.js';
import { isContiguous, stridedToContiguous } from '../../src/io/strided.js';

test('dtype sizes and element counts', () => {
  assert.equal(dtypeByteSize('float32'), 4);
  assert.equal(dtypeByteSize('bfloat16'), 2);
  assert.equal(dtypeByteSize('int64'), 8);
  assert.equal(dtypeByteSize('bool'), 1);
  assert.equal(numElements([]), 1);
  assert.equal(numElements([2, 0, 3]), 0);
  assert.equal(expectedByteLength('float16', [3, 5]), 30);
  assert.throws(() => numElements([-1]), /invalid shape/);
  assert.throws(() => numElements([1.5]), /invalid shape/);
  assert.throws(() => validateRawTensor({ dtype: 'float32', shape: [2], data: new Uint8Array(7) }), /needs 8 bytes/);
  assert.throws(() => makeRawTensor('nope' as 'float32', [1], new Uint8Array(4)), /unknown dtype/);
});

test('float16: known values and exhaustive round trip', () => {
  const cases: Array<[number, number]> = [
    [1, 0x3c00],
    [-2, 0xc000],
    [65504, 0x7bff],
    [65520, 0x7c00], // rounds up to inf
    [65519, 0x7bff],
    [2 ** -24, 0x0001],
    [2 ** -25, 0x0000], // tie rounds to even (zero)
    [3 * 2 ** -26, 0x0001],
    [2 ** -14, 0x0400],
    [1 + 2 ** -11, 0x3c00], // tie to even
    [1 + 3 * 2 ** -11, 0x3c02], // tie to even (up)
    [Infinity, 0x7c00],
    [-0, 0x8000],
  ];
  for (const [v, bits] of cases) assert.equal(floatToHalfBits(v), bits, `f16(${v})`);
  assert.ok(Number.isNaN(halfBitsToFloat(floatToHalfBits(NaN))));
  for (let h = 0; h < 65536; h++) {
    const v = halfBitsToFloat(h);
    if (Number.isNaN(v)) continue;
    assert.equal(floatToHalfBits(v), h, `round trip of 0x${h.toString(16)}`);
  }
});

test('bfloat16 rounding matches torch (nearest even)', () => {
  const vals = Float32Array.from([1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20, -3.140625, NaN, Infinity, 3.4e38]);
  const raw = float32ToRaw(vals, [vals.length], 'bfloat16');
  const bits = new Uint16Array(raw.data.buffer, raw.data.byteOffset, vals.length);
  assert.deepEqual([...bits], [0x3f80, 0x3f80, 0x3f82, 0x3f81, 0xc049, 0x7fc0, 0x7f80, 0x7f80]);
  const back = rawToFloat32(raw);
  assert.equal(back[2], 1 + 2 ** -6);
  assert.ok(Number.isNaN(back[5]!));
});

test('rawToFloat32 converts every dtype, also from misaligned bytes', () => {
  const mk = (dtype: Parameters<typeof makeRawTensor>[0], arr: ArrayBufferView, shape: number[]) => {
    // copy into a buffer at offset 1 to force misalignment
    const src = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
    const host = new Uint8Array(src.byteLength + 1);
    host.set(src, 1);
    return makeRawTensor(dtype, shape, host.subarray(1));
  };
  assert.deepEqual([...rawToFloat32(mk('float64', Float64Array.from([1.5, -2.25]), [2]))], [1.5, -2.25]);
  assert.deepEqual([...rawToFloat32(mk('int64', BigInt64Array.from([-3n, 7n]), [2]))], [-3, 7]);
  assert.deepEqual([...rawToFloat32(mk('int32', Int32Array.from([-3, 9]), [2]))], [-3, 9]);
  assert.deepEqual([...rawToFloat32(mk('uint8', Uint8Array.from([0, 255]), [2]))], [0, 255]);
  assert.deepEqual([...rawToFloat32(mk('bool', Uint8Array.from([1, 0]), [1, 2]))], [1, 0]);
  assert.deepEqual([...rawToFloat32(mk('float16', Uint16Array.from([0x3c00, 0xc000]), [2]))], [1, -2]);
  assert.deepEqual([...rawToFloat32(mk('bfloat16', Uint16Array.from([0x3f80, 0xc049]), [2]))], [1, -3.140625]);
  const f = mk('float32', Float32Array.from([0.5, 2]), [2]);
  const out = rawToFloat32(f);
  out[0] = 9;
  assert.deepEqual([...rawToFloat32(f)], [0.5, 2], 'rawToFloat32 returns a copy');
  const h = toFloat32Raw(float32ToRaw(Float32Array.from([0.1, 3]), [2], 'float16'));
  assert.equal(h.dtype, 'float32');
  assert.deepEqual([...rawToFloat32(h)], [Math.fround(halfBitsToFloat(floatToHalfBits(0.1))), 3]);
});

test('checksum is a compensated sum of float32 values', () => {
  const n = 100001;
  const a = new Float32Array(n).fill(0.1);
  a[0] = 1e8;
  a[1] = -1e8;
  const c = checksum(float32ToRaw(a, [n]));
  assert.equal(c.count, n);
  const exact = (n - 2) * Math.fround(0.1);
  assert.ok(Math.abs(c.sum - exact) < 1e-9 * exact, `${c.sum} vs ${exact}`);
  assert.ok(Math.abs(c.absSum - (exact + 2e8)) < 1e-6);
});

test('strided copy: transposes, offsets, zero strides, every item size', () => {
  for (const itemSize of [1, 2, 4, 8]) {
    const storageNumel = 30;
    const storage = new Uint8Array(storageNumel * itemSize);
    for (let i = 0; i < storage.length; i++) storage[i] = (i * 7 + 3) & 0xff;
    const elem = (i: number) => [...storage.subarray(i * itemSize, (i + 1) * itemSize)];
    // 3x4 view at offset 2 with strides (1, 5): a transposed slice
    const out = stridedToContiguous(storage, itemSize, { offset: 2, shape: [3, 4], stride: [1, 5] });
    const want: number[] = [];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) want.push(...elem(2 + i + 5 * j));
    assert.deepEqual([...out], want, `itemSize ${itemSize}`);
    // expanded (stride 0)
    const ex = stridedToContiguous(storage, itemSize, { offset: 1, shape: [2, 3], stride: [0, 1] });
    assert.deepEqual([...ex], [...elem(1), ...elem(2), ...elem(3), ...elem(1), ...elem(2), ...elem(3)]);
    // contiguous: a view, not a copy
    const c = stridedToContiguous(storage, itemSize, { offset: 3, shape: [2, 2], stride: [2, 1] });
    assert.equal(c.buffer, storage.buffer);
    assert.equal(c.byteOffset, 3 * itemSize);
  }
  assert.ok(isContiguous([1, 3], [99, 1]));
  assert.ok(!isContiguous([3, 2], [1, 3]));
  assert.throws(() => stridedToContiguous(new Uint8Array(16), 4, { offset: 1, shape: [2, 2], stride: [2, 1] }), /reaches element 4/);
  assert.throws(
    () => stridedToContiguous(new Uint8Array(4), 4, { offset: 0, shape: [1 << 15, 1 << 15], stride: [0, 0] }),
    /refusing to expand/,
  );
});
