import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import jpeg from 'jpeg-js';
import { decodeImage, rgbaToRgbOnWhite, sniffFormat } from '../../src/data/decode.js';
import { fixtureDataset, fixtureDir } from '../../src/data/fixture.js';
import { imageFolder } from '../../src/data/image-folder.js';
import { greyPng, makePng, tempDir } from './helpers.js';

function withDir(fn: (dir: string) => void): void {
  const { dir, cleanup } = tempDir();
  try {
    fn(dir);
  } finally {
    cleanup();
  }
}

function put(dir: string, rel: string, data: Uint8Array | string): void {
  const p = join(dir, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, data);
}

describe('image folder: the committed fixture', () => {
  test('300 grey 28x28 images in 10 sorted classes, 30 each', () => {
    const ds = fixtureDataset();
    assert.equal(ds.name, 'fixture');
    assert.equal(ds.length, 300);
    assert.deepEqual([ds.channels, ds.height, ds.width], [1, 28, 28]);
    assert.deepEqual(ds.classNames, [
      'Ankle boot',
      'Bag',
      'Coat',
      'Dress',
      'Pullover',
      'Sandal',
      'Shirt',
      'Sneaker',
      'T-shirt-top',
      'Trouser',
    ]);
    assert.deepEqual(Array.from(ds.classCounts()), new Array(10).fill(30));
    // Labels are grouped by class in folder order, files in name order.
    for (let i = 1; i < ds.length; i++) assert.ok(ds.labelAt(i) >= ds.labelAt(i - 1));
    assert.ok(ds.sources![0].startsWith(join(fixtureDir(), 'Ankle boot')));
    // Real images, not blanks
    let nonzero = 0;
    for (const v of ds.getU8(0)) if (v > 0) nonzero++;
    assert.ok(nonzero > 100);
  });

  test('channels 3 and resize on load', () => {
    const ds = fixtureDataset({ channels: 3, resize: { height: 14, width: 14 } });
    assert.deepEqual([ds.channels, ds.height, ds.width], [3, 14, 14]);
    const x = ds.getU8(5);
    assert.deepEqual(x.subarray(0, 196), x.subarray(196, 392));
  });
});

describe('image folder: decoding', () => {
  test('grey, grey+alpha, RGB, RGBA, palette (+tRNS), 16-bit and JPEG', () =>
    withDir((dir) => {
      // 2x1 images. Expected CHW RGB after compositing on white.
      put(dir, 'a/grey.png', makePng({ width: 2, height: 1, colorType: 0, samples: [0, 200] }));
      put(dir, 'a/grey16.png', makePng({ width: 2, height: 1, colorType: 0, bitDepth: 16, samples: [0, 65535] }));
      put(dir, 'b/ga.png', makePng({ width: 2, height: 1, colorType: 4, samples: [100, 255, 0, 0] }));
      put(dir, 'b/rgb.png', makePng({ width: 2, height: 1, colorType: 2, samples: [255, 0, 0, 0, 0, 255] }));
      put(dir, 'c/rgba.png', makePng({ width: 2, height: 1, colorType: 6, samples: [0, 0, 0, 128, 10, 20, 30, 255] }));
      put(
        dir,
        'c/pal.png',
        makePng({
          width: 2,
          height: 1,
          colorType: 3,
          samples: [1, 0],
          palette: [
            [0, 255, 0],
            [40, 50, 60],
          ],
          paletteAlpha: [0, 255],
        }),
      );
      const ds = imageFolder(dir);
      assert.deepEqual(ds.classNames, ['a', 'b', 'c']);
      assert.equal(ds.channels, 3);
      const px = (i: number) => Array.from(ds.getU8(i));
      const names = ds.sources!.map((s) => s.slice(dir.length + 1));
      assert.deepEqual(names, ['a/grey.png', 'a/grey16.png', 'b/ga.png', 'b/rgb.png', 'c/pal.png', 'c/rgba.png']);
      assert.deepEqual(px(0), [0, 200, 0, 200, 0, 200]);
      assert.deepEqual(px(1), [0, 255, 0, 255, 0, 255]);
      assert.deepEqual(px(2), [100, 255, 100, 255, 100, 255]); // alpha 0 -> white
      assert.deepEqual(px(3), [255, 0, 0, 0, 0, 255]);
      assert.deepEqual(px(4), [40, 255, 50, 255, 60, 255]); // palette entry 0 is transparent -> white
      // black at alpha 128 on white: (0*128 + 255*127)/255 = 127
      assert.deepEqual(px(5), [127, 10, 127, 20, 127, 30]);
      assert.deepEqual(Array.from(ds.labels), [0, 0, 1, 1, 2, 2]);
    }));

  test('all-grey folders are stored with 1 channel; channels: 1 forces luma', () =>
    withDir((dir) => {
      put(dir, 'x/1.png', greyPng(3, 2, 10));
      put(dir, 'y/1.png', makePng({ width: 3, height: 2, colorType: 2, samples: new Array(18).fill(77) }));
      const ds = imageFolder(dir);
      assert.equal(ds.channels, 1);
      assert.deepEqual(Array.from(ds.getU8(1)), new Array(6).fill(77));
      put(dir, 'y/2.png', makePng({ width: 3, height: 2, colorType: 2, samples: new Array(6).fill([255, 0, 0]).flat() }));
      assert.equal(imageFolder(dir).channels, 3);
      const g = imageFolder(dir, { channels: 1 });
      assert.deepEqual(Array.from(g.getU8(2)), new Array(6).fill(Math.round(0.299 * 255)));
    }));

  test('JPEG decodes (lossy, within tolerance)', () =>
    withDir((dir) => {
      const w = 16;
      const h = 8;
      const data = new Uint8Array(w * h * 4);
      for (let p = 0; p < w * h; p++) data.set([200, 100, 50, 255], 4 * p);
      const jpg = jpeg.encode({ width: w, height: h, data }, 95).data;
      assert.equal(sniffFormat(jpg), 'jpeg');
      put(dir, 'k/img.jpg', jpg);
      put(dir, 'k/img2.JPEG', jpg);
      const ds = imageFolder(dir);
      assert.equal(ds.length, 2);
      assert.deepEqual([ds.channels, ds.height, ds.width], [3, h, w]);
      const x = ds.getU8(0);
      for (const [c, v] of [200, 100, 50].entries()) {
        for (let p = 0; p < w * h; p++) assert.ok(Math.abs(x[c * w * h + p] - v) <= 4, `channel ${c}: ${x[c * w * h + p]}`);
      }
    }));

  test('ignores hidden entries, other extensions and loose files in class folders', () =>
    withDir((dir) => {
      put(dir, 'cls/1.png', greyPng(2, 2, 1));
      put(dir, 'cls/notes.txt', 'hello');
      put(dir, 'cls/.hidden.png', 'garbage');
      put(dir, '.git/x.png', 'garbage');
      put(dir, 'README.md', 'hi');
      const ds = imageFolder(dir);
      assert.deepEqual(ds.classNames, ['cls']);
      assert.equal(ds.length, 1);
    }));

  test('limitPerClass', () => {
    const ds = fixtureDataset({ limitPerClass: 3 });
    assert.equal(ds.length, 30);
  });

  test('rgbaToRgbOnWhite and decodeImage report greyness', () => {
    const r = rgbaToRgbOnWhite(Uint8Array.from([5, 5, 5, 255, 9, 9, 9, 0]), 2, 1);
    assert.deepEqual(Array.from(r.rgb), [5, 255, 5, 255, 5, 255]);
    assert.equal(r.isGrey, true);
    assert.equal(decodeImage(makePng({ width: 1, height: 1, colorType: 2, samples: [1, 2, 3] })).isGrey, false);
  });
});

describe('image folder: errors', () => {
  test('missing root', () => {
    assert.throws(() => imageFolder('/nonexistent/ctfgen-images'), /image folder not found: \/nonexistent\/ctfgen-images does not exist/);
  });

  test('root is a file', () =>
    withDir((dir) => {
      put(dir, 'f.png', greyPng(1, 1, 0));
      assert.throws(() => imageFolder(join(dir, 'f.png')), /is not a directory/);
    }));

  test('no class folders (images directly in root)', () =>
    withDir((dir) => {
      put(dir, 'a.png', greyPng(1, 1, 0));
      put(dir, 'b.png', greyPng(1, 1, 0));
      assert.throws(() => imageFolder(dir), /has no class sub-folders \(it holds 2 images directly/);
    }));

  test('empty class folder is named', () =>
    withDir((dir) => {
      put(dir, 'good/1.png', greyPng(2, 2, 0));
      mkdirSync(join(dir, 'empty class'));
      put(dir, 'empty class/readme.txt', 'no images here');
      assert.throws(() => imageFolder(dir), /class folder "empty class" .* has no images/);
    }));

  test('unreadable image names the file', () =>
    withDir((dir) => {
      put(dir, 'good/1.png', greyPng(2, 2, 0));
      put(dir, 'good/2.png', 'this is not a png');
      assert.throws(
        () => imageFolder(dir),
        (e: Error) => e.message.includes(join(dir, 'good', '2.png')) && /cannot decode image/.test(e.message),
      );
      // a real PNG signature but a broken body
      const png = greyPng(2, 2, 0);
      put(dir, 'good/2.png', png.subarray(0, 30));
      assert.throws(
        () => imageFolder(dir),
        (e: Error) => e.message.includes('2.png'),
      );
    }));

  test('mixed sizes name the file, both sizes, and suggest --resize', () =>
    withDir((dir) => {
      put(dir, 'a/1.png', greyPng(4, 3, 0));
      put(dir, 'b/odd.png', greyPng(5, 3, 0));
      assert.throws(
        () => imageFolder(dir),
        (e: Error) =>
          e.message.includes(join(dir, 'b', 'odd.png')) &&
          e.message.includes('5x3') &&
          e.message.includes(join(dir, 'a', '1.png')) &&
          e.message.includes('4x3') &&
          e.message.includes('--resize'),
      );
      const ds = imageFolder(dir, { resize: { height: 2, width: 2 } });
      assert.deepEqual([ds.height, ds.width, ds.length], [2, 2, 2]);
    }));
});
