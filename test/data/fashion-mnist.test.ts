import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FASHION_MNIST_CLASSES, FASHION_MNIST_DEFAULT_DIR, fashionMnist, fashionMnistAvailable } from '../../src/data/fashion-mnist.js';
import { fixtureDataset } from '../../src/data/fixture.js';
import { tempDir } from './helpers.js';

const installed = fashionMnistAvailable({ split: 'train' }) && fashionMnistAvailable({ split: 'test' });
const skip = installed ? false : `Fashion-MNIST not found in ${FASHION_MNIST_DEFAULT_DIR} (apt-get install dataset-fashion-mnist)`;
if (skip) console.log(`# skipping Fashion-MNIST tests: ${skip}`);

describe('Fashion-MNIST', () => {
  test('class names', () => {
    assert.deepEqual(FASHION_MNIST_CLASSES, [
      'T-shirt/top',
      'Trouser',
      'Pullover',
      'Dress',
      'Coat',
      'Sandal',
      'Shirt',
      'Sneaker',
      'Bag',
      'Ankle boot',
    ]);
  });

  test('missing directory names the apt package and --data-dir', () => {
    const { dir, cleanup } = tempDir();
    try {
      assert.throws(
        () => fashionMnist({ dataDir: join(dir, 'nope') }),
        (e: Error) =>
          /train-images-idx3-ubyte\[\.gz\] and train-labels-idx1-ubyte\[\.gz\] missing/.test(e.message) &&
          e.message.includes('apt-get install dataset-fashion-mnist') &&
          e.message.includes('--data-dir'),
      );
    } finally {
      cleanup();
    }
  });

  test('train split: 60000 x 1x28x28, labels 0..9, 6000 per class', { skip }, () => {
    const ds = fashionMnist({ split: 'train' });
    assert.equal(ds.name, 'fashion-mnist:train');
    assert.equal(ds.length, 60000);
    assert.deepEqual([ds.channels, ds.height, ds.width], [1, 28, 28]);
    assert.equal(ds.numClasses, 10);
    assert.deepEqual(ds.classNames, FASHION_MNIST_CLASSES);
    assert.deepEqual(Array.from(ds.classCounts()), new Array(10).fill(6000));
    assert.equal(ds.pixels.length, 60000 * 784);
    // First training sample is an ankle boot (label 9) in the published data.
    assert.equal(ds.labelAt(0), 9);
  });

  test('test split: 10000 samples, 1000 per class', { skip }, () => {
    const ds = fashionMnist({ split: 'test' });
    assert.equal(ds.length, 10000);
    assert.deepEqual(Array.from(ds.classCounts()), new Array(10).fill(1000));
    const s = ds.get(0);
    assert.equal(s.image.length, 784);
    assert.ok(s.image.every((v) => v >= 0 && v <= 1));
    assert.ok(s.label >= 0 && s.label < 10);
  });

  test('the committed fixture is the first 30 test images of each class', { skip }, () => {
    const fm = fashionMnist({ split: 'test' });
    const fx = fixtureDataset();
    assert.equal(fx.length, 300);
    const folderOf = (label: number) => FASHION_MNIST_CLASSES[label].replace(/\//g, '-');
    for (let i = 0; i < fx.length; i += 7) {
      const src = fx.sources![i];
      const m = /t10k-(\d+)\.png$/.exec(src);
      assert.ok(m, src);
      const j = Number(m[1]);
      assert.equal(fx.classNames[fx.labelAt(i)], folderOf(fm.labelAt(j)), src);
      assert.deepEqual(fx.getU8(i), fm.getU8(j), src);
    }
  });
});
