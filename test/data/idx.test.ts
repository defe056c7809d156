import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { idxDataset } from '../../src/data/fashion-mnist.js';
import { encodeIdx, IdxError, parseIdx, readIdx } from '../../src/data/idx.js';
import { tempDir } from './helpers.js';

/** Hand-made header bytes: 00 00 08 03 | 00 00 00 02 | 00 00 00 02 | 00 00 00 03, then 12 pixel bytes. */
// prettier-ignore
const TINY_IMAGES = Uint8Array.from([
  0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3,
  0, 1, 2, 3, 4, 5,
  250, 251, 252, 253, 254, 255,
]);
const TINY_LABELS = Uint8Array.from([0, 0, 0x08, 1, 0, 0, 0, 2, 7, 1]);

describe('IDX parsing', () => {
  test('hand-made ubyte images: dims and data', () => {
    const a = parseIdx(TINY_IMAGES);
    assert.equal(a.dtype, 'uint8');
    assert.deepEqual(a.dims, [2, 2, 3]);
    assert.ok(a.data instanceof Uint8Array);
    assert.deepEqual(Array.from(a.data), [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
  });

  test('gzip is detected from content', () => {
    const a = parseIdx(gzipSync(TINY_IMAGES));
    assert.deepEqual(a.dims, [2, 2, 3]);
    assert.equal(a.data[11], 255);
  });

  test('big-endian wider types round-trip through encodeIdx', () => {
    for (const [dtype, vals] of [
      ['int8', [-128, -1, 0, 127]],
      ['int16', [-32768, -2, 300, 32767]],
      ['int32', [-(2 ** 31), -5, 70000, 2 ** 31 - 1]],
      ['float32', [-1.5, 0, 0.25, 1e6]],
      ['float64', [Math.PI, -Math.E, 0, 1e-300]],
    ] as const) {
      const a = parseIdx(encodeIdx(dtype, [2, 2], vals));
      assert.equal(a.dtype, dtype);
      assert.deepEqual(a.dims, [2, 2]);
      assert.deepEqual(Array.from(a.data), vals, dtype);
    }
    // int32 bytes are big-endian on disk
    assert.deepEqual(Array.from(encodeIdx('int32', [1], [258]).subarray(8)), [0, 0, 1, 2]);
  });

  test('wrong magic', () => {
    const bad = Uint8Array.from(TINY_IMAGES);
    bad[0] = 0x50;
    assert.throws(
      () => parseIdx(bad, 'x.idx'),
      (e: Error) => e instanceof IdxError && /x\.idx: not an IDX file: magic bytes are 50 00 08 03/.test(e.message),
    );
    // A PNG or text file is not IDX either
    assert.throws(() => parseIdx(Buffer.from('hello world')), /not an IDX file/);
  });

  test('unknown dtype and zero dims', () => {
    const bad = Uint8Array.from(TINY_IMAGES);
    bad[2] = 0x0a;
    assert.throws(() => parseIdx(bad), /unknown IDX dtype code 0x0a/);
    assert.throws(() => parseIdx(Uint8Array.from([0, 0, 8, 0])), /0 dimensions/);
  });

  test('truncated header and truncated data', () => {
    assert.throws(() => parseIdx(Uint8Array.from([0, 0])), /truncated IDX file: 2 bytes/);
    assert.throws(() => parseIdx(TINY_IMAGES.subarray(0, 10)), /truncated IDX file: 10 bytes, the header of 3 dimensions needs 16/);
    assert.throws(
      () => parseIdx(TINY_IMAGES.subarray(0, TINY_IMAGES.length - 1), 'imgs'),
      /imgs: truncated IDX file: dims \[2, 2, 3\] of uint8 need 28 bytes, file has 27/,
    );
    // truncated gzip stream
    const gz = gzipSync(TINY_IMAGES);
    assert.throws(() => parseIdx(gz.subarray(0, gz.length - 6)), /gzip data is corrupt or truncated/);
  });

  test('trailing garbage is an error', () => {
    const extra = new Uint8Array(TINY_IMAGES.length + 3);
    extra.set(TINY_IMAGES);
    assert.throws(() => parseIdx(extra), /3 unexpected trailing bytes/);
  });

  test('readIdx: missing file', () => {
    assert.throws(() => readIdx('/nonexistent/file-idx3-ubyte'), /IDX file not found: \/nonexistent/);
  });
});

describe('idxDataset', () => {
  test('tiny pair: shape, labels, values, class names from the class count', () => {
    const { dir, cleanup } = tempDir();
    try {
      writeFileSync(join(dir, 'i'), TINY_IMAGES);
      writeFileSync(join(dir, 'l.gz'), gzipSync(TINY_LABELS));
      // labels 7 and 1 alone do not say there are 8 classes: that takes the class count
      assert.throws(() => idxDataset(join(dir, 'i'), join(dir, 'l.gz')), /labels run up to 7, but 6 of the classes 0\.\.7 have no images/);
      const ds = idxDataset(join(dir, 'i'), join(dir, 'l.gz'), undefined, { numClasses: 8 });
      assert.equal(ds.length, 2);
      assert.deepEqual([ds.channels, ds.height, ds.width], [1, 2, 3]);
      assert.equal(ds.numClasses, 8);
      assert.deepEqual(ds.classNames, ['0', '1', '2', '3', '4', '5', '6', '7']);
      assert.deepEqual([ds.labelAt(0), ds.labelAt(1)], [7, 1]);
      assert.deepEqual(Array.from(ds.getU8(1)), [250, 251, 252, 253, 254, 255]);
      const s = ds.get(0);
      assert.equal(s.label, 7);
      assert.ok(Math.abs(s.image[5] - 5 / 255) < 1e-7);
      assert.throws(() => ds.get(2), RangeError);
    } finally {
      cleanup();
    }
  });

  test('label/image count mismatch', () => {
    const { dir, cleanup } = tempDir();
    try {
      writeFileSync(join(dir, 'i'), TINY_IMAGES);
      writeFileSync(join(dir, 'l'), encodeIdx('uint8', [3], [0, 1, 2]));
      assert.throws(() => idxDataset(join(dir, 'i'), join(dir, 'l')), /label\/image count mismatch: .* has 2 images but .* has 3 labels/);
    } finally {
      cleanup();
    }
  });

  test('labels beyond the given class names, wrong dims, float labels', () => {
    const { dir, cleanup } = tempDir();
    try {
      writeFileSync(join(dir, 'i'), TINY_IMAGES);
      writeFileSync(join(dir, 'l'), TINY_LABELS);
      assert.throws(() => idxDataset(join(dir, 'i'), join(dir, 'l'), ['a', 'b']), /label 7 found but only 2 class names/);
      writeFileSync(join(dir, 'i2'), encodeIdx('uint8', [2, 6], new Array(12).fill(0)));
      assert.throws(() => idxDataset(join(dir, 'i2'), join(dir, 'l')), /dims \[N, H, W\]/);
      writeFileSync(join(dir, 'lf'), encodeIdx('float32', [2], [0, 1]));
      assert.throws(() => idxDataset(join(dir, 'i'), join(dir, 'lf')), /integer IDX type/);
      writeFileSync(join(dir, 'if'), encodeIdx('float32', [2, 2, 3], new Array(12).fill(0)));
      assert.throws(() => idxDataset(join(dir, 'if'), join(dir, 'l')), /must be IDX ubyte/);
    } finally {
      cleanup();
    }
  });

  test('[N, H, W, 3] images are converted HWC -> CHW', () => {
    const { dir, cleanup } = tempDir();
    try {
      // one 1x2 RGB image: pixels (1,2,3) (4,5,6)
      writeFileSync(join(dir, 'i'), encodeIdx('uint8', [1, 1, 2, 3], [1, 2, 3, 4, 5, 6]));
      writeFileSync(join(dir, 'l'), encodeIdx('uint8', [1], [0]));
      const ds = idxDataset(join(dir, 'i'), join(dir, 'l'), ['only']);
      assert.equal(ds.channels, 3);
      assert.deepEqual(Array.from(ds.getU8(0)), [1, 4, 2, 5, 3, 6]);
    } finally {
      cleanup();
    }
  });
});

test('parseIdx copies raw input by default and aliases it with copy: false', () => {
  const bytes = Uint8Array.from(TINY_IMAGES);
  const copied = parseIdx(bytes);
  const aliased = parseIdx(bytes, 'x', { copy: false });
  bytes[16] = 99;
  assert.equal(copied.data[0], 0);
  assert.equal(aliased.data[0], 99);
  assert.equal(Object.getPrototypeOf(aliased.data), Uint8Array.prototype);
});
