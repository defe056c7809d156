import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { U8ImageDataset } from '../../src/data/dataset.js';
import { Rng } from '../../src/data/rng.js';
import { axisWeights, compose, convertChannels, hflip, pad, resize, resizeDataset, resizeU8, toSigned } from '../../src/data/transforms.js';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5, msg = '') => {
  assert.equal(a.length, b.length, `${msg} length`);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `${msg}[${i}]: ${a[i]} vs ${b[i]}`);
};

describe('resize', () => {
  test('area 4x4 -> 2x2 is the 2x2 block mean', () => {
    // prettier-ignore
    const img = [
      1, 3, 5, 7,
      1, 3, 5, 7,
      0, 0, 8, 8,
      4, 4, 0, 0,
    ];
    close(resize(img, { channels: 1, height: 4, width: 4 }, 2, 2, 'area'), [2, 6, 2, 4]);
    // auto == area when shrinking
    close(resize(img, { channels: 1, height: 4, width: 4 }, 2, 2), [2, 6, 2, 4]);
  });

  test('area with a non-integer factor weights the overlaps (3 -> 2)', () => {
    const w = axisWeights(3, 2, 'area');
    assert.deepEqual(Array.from(w.idx), [0, 1, 1, 2]);
    close(w.w, [2 / 3, 1 / 3, 1 / 3, 2 / 3]);
    close(resize([0, 3, 6], { channels: 1, height: 1, width: 3 }, 1, 2, 'area'), [1, 5]);
  });

  test('bilinear 2 -> 4 uses half-pixel centres and clamps (PyTorch align_corners=false)', () => {
    close(resize([0, 1], { channels: 1, height: 1, width: 2 }, 1, 4, 'bilinear'), [0, 0.25, 0.75, 1]);
    close(resize([0, 1], { channels: 1, height: 1, width: 2 }, 1, 4), [0, 0.25, 0.75, 1]); // auto
    // 2x2 -> 4x4 is separable: the product of both axes
    const out = resize([0, 1, 2, 3], { channels: 1, height: 2, width: 2 }, 4, 4, 'bilinear');
    close(out.subarray(4, 8), [0.5, 0.75, 1.25, 1.5]);
  });

  test('nearest 2 -> 4 and 4 -> 2', () => {
    close(resize([5, 9], { channels: 1, height: 1, width: 2 }, 1, 4, 'nearest'), [5, 5, 9, 9]);
    close(resize([1, 2, 3, 4], { channels: 1, height: 1, width: 4 }, 1, 2, 'nearest'), [2, 4]);
  });

  test('channels are resized independently; constant stays constant', () => {
    const img = new Float32Array(2 * 5 * 7);
    img.fill(0.25, 0, 35);
    img.fill(0.75, 35);
    const out = resize(img, { channels: 2, height: 5, width: 7 }, 3, 11);
    close(out.subarray(0, 33), new Array(33).fill(0.25));
    close(out.subarray(33), new Array(33).fill(0.75));
  });

  test('resizeU8 rounds; bad sizes throw', () => {
    assert.deepEqual(Array.from(resizeU8(Uint8Array.from([0, 1, 2, 2]), { channels: 1, height: 1, width: 4 }, 1, 2, 'area')), [1, 2]);
    assert.throws(() => axisWeights(0, 2, 'area'), RangeError);
    assert.throws(() => resize([1, 2], { channels: 1, height: 1, width: 3 }, 1, 1), /expected 1x1x3/);
  });
});

describe('pad, flip, channels, scaling', () => {
  test('centre pad (odd extra goes right/bottom)', () => {
    const out = pad([1, 2, 3, 4], { channels: 1, height: 2, width: 2 }, 3, 5, 9);
    // prettier-ignore
    close(out, [
      9, 1, 2, 9, 9,
      9, 3, 4, 9, 9,
      9, 9, 9, 9, 9,
    ]);
    assert.throws(() => pad([1, 2, 3, 4], { channels: 1, height: 2, width: 2 }, 1, 2), /smaller/);
  });

  test('hflip mirrors rows of every channel', () => {
    close(hflip([1, 2, 3, 4, 5, 6, 7, 8], { channels: 2, height: 2, width: 2 }), [2, 1, 4, 3, 6, 5, 8, 7]);
  });

  test('grey -> 3 replicates, RGB -> grey uses BT.601 luma', () => {
    close(convertChannels([1, 2], { channels: 1, height: 1, width: 2 }, 3), [1, 2, 1, 2, 1, 2]);
    close(convertChannels([1, 0, 0, 1, 0, 0], { channels: 3, height: 1, width: 2 }, 1), [0.299, 0.587]);
    close(convertChannels([255, 255, 255], { channels: 3, height: 1, width: 1 }, 1), [255], 1e-3);
  });

  test('toSigned maps 0 -> -1, 255 -> 1, 127.5 -> 0', () => {
    close(toSigned([0, 255, 127.5, 51]), [-1, 1, 0, 51 / 127.5 - 1]);
    close(toSigned([0, 1, 0.5], true), [-1, 1, 0]);
  });
});

describe('compose', () => {
  test('pad 2x2 -> 4x4, flip, scale to [-1, 1] (hand computed)', () => {
    const p = compose({ pad: { height: 4, width: 4 }, hflip: 0.5 }, { channels: 1, height: 2, width: 2 });
    assert.deepEqual(p.output, { channels: 1, height: 4, width: 4 });
    assert.equal(p.outputSize, 16);
    assert.equal(p.hflip, 0.5);
    const dst = new Float32Array(20).fill(42);
    p.apply(Uint8Array.from([0, 255, 51, 102]), dst, 2, true);
    const m = -1;
    // prettier-ignore
    close(dst, [
      42, 42,
      m, m, m, m,
      m, 1, -1, m,
      m, 102 / 127.5 - 1, 51 / 127.5 - 1, m,
      m, m, m, m,
      42, 42,
    ]);
  });

  test('pad value and unit range', () => {
    const p = compose({ pad: { height: 1, width: 3, value: 1 }, range: 'unit' }, { channels: 1, height: 1, width: 1 });
    const dst = new Float32Array(3);
    p.apply(Uint8Array.from([51]), dst, 0, false);
    close(dst, [1, 0.2, 1]);
    const q = compose({ pad: { height: 1, width: 3, value: 1 } }, { channels: 1, height: 1, width: 1 });
    q.apply(Float32Array.from([0.5]), dst, 0, false); // float input in [0, 1]
    close(dst, [1, 0, 1]);
  });

  test('equals the composition of the standalone helpers (random inputs)', () => {
    const r = new Rng(1);
    const cases = [
      { in: [1, 28, 28], spec: { pad: { height: 32, width: 32 } } },
      { in: [1, 7, 5], spec: { channels: 3 as const, resize: { height: 10, width: 9 }, pad: { height: 13, width: 12, value: 0.3 } } },
      { in: [3, 9, 9], spec: { channels: 1 as const, resize: { height: 4, width: 6, method: 'area' as const } } },
      { in: [3, 6, 6], spec: { resize: { height: 3, width: 3, method: 'nearest' as const }, pad: { height: 4, width: 4 } } },
    ];
    for (const {
      in: [c, h, w],
      spec,
    } of cases) {
      const src = new Uint8Array(c * h * w);
      for (let i = 0; i < src.length; i++) src[i] = r.int(256);
      const p = compose(spec, { channels: c, height: h, width: w });
      for (const flip of [false, true]) {
        // reference: channels 3->1, resize, flip, pad, 1->3, scale
        let shape = { channels: c, height: h, width: w };
        let x: Float32Array = Float32Array.from(src, (v) => v / 255);
        if (spec.channels === 1 && c === 3) {
          x = convertChannels(x, shape, 1);
          shape = { ...shape, channels: 1 };
        }
        if (spec.resize) {
          x = resize(x, shape, spec.resize.height, spec.resize.width, spec.resize.method ?? 'auto');
          shape = { ...shape, height: spec.resize.height, width: spec.resize.width };
        }
        if (flip) x = hflip(x, shape);
        if (spec.pad) {
          x = pad(x, shape, spec.pad.height, spec.pad.width, (spec.pad as { value?: number }).value ?? 0);
          shape = { ...shape, height: spec.pad.height, width: spec.pad.width };
        }
        if (spec.channels === 3 && c === 1) x = convertChannels(x, shape, 3);
        const expected = toSigned(x, true);
        const got = new Float32Array(p.outputSize);
        p.apply(src, got, 0, flip);
        close(got, expected, 1e-5, JSON.stringify({ c, h, w, spec, flip }));
      }
    }
  });

  test('spec errors', () => {
    const s = { channels: 1, height: 4, width: 4 };
    assert.throws(() => compose({ pad: { height: 2, width: 4 } }, s), /smaller than the image 4x4/);
    assert.throws(() => compose({ hflip: 2 }, s), /hflip probability/);
    assert.throws(() => compose({}, { channels: 4, height: 1, width: 1 }), /1 or 3 channels/);
    assert.throws(() => compose({ resize: { height: 2, width: 2, method: 'cubic' as never } }, s), /unknown method "cubic"/);
    const p = compose({}, s);
    assert.throws(() => p.apply(new Uint8Array(3), new Float32Array(16), 0, false), /expected 1x4x4/);
  });
});

test('resizeDataset resizes every sample', () => {
  const ds = new U8ImageDataset({
    name: 't',
    classNames: ['a'],
    channels: 1,
    height: 2,
    width: 2,
    pixels: Uint8Array.from([10, 20, 30, 40, 0, 0, 100, 100]),
    labels: Int32Array.from([0, 0]),
  });
  const r = resizeDataset(ds, 1, 1);
  assert.deepEqual(Array.from(r.pixels), [25, 50]);
  assert.equal(resizeDataset(ds, 2, 2), ds);
});
