import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { emojiPackageDir } from '../../src/data/emoji.js';
import { fashionMnistAvailable } from '../../src/data/fashion-mnist.js';
import { fixtureDir } from '../../src/data/fixture.js';
import { encodeIdx } from '../../src/data/idx.js';
import { canonicalDatasetSpec, openDataset } from '../../src/data/open.js';
import { tempDir } from './helpers.js';

describe('openDataset', () => {
  test('<spec>@<from>:<to> is that range of the dataset, in order; bad ranges are named', () => {
    const whole = openDataset('fixture');
    const part = openDataset('fixture@100:150');
    assert.equal(part.length, 50);
    assert.equal(part.name, `${whole.name}@100:150`);
    for (const k of [0, 17, 49]) {
      assert.deepEqual(part.getU8!(k), whole.getU8!(100 + k));
      assert.equal(part.labelAt(k), whole.labelAt(100 + k));
    }
    assert.equal(openDataset('fixture@100:150', { limit: 10 }).length, 10);
    assert.throws(() => openDataset('fixture@250:400'), /has 300 samples, fewer than the range's end 400/);
    assert.throws(() => openDataset('fixture@5:5'), /the range 5:5 is empty/);
    assert.equal(canonicalDatasetSpec('fashion-mnist@0:5000'), 'fashion-mnist:train@0:5000');
  });

  test('<spec>@every:<n> is samples 0, n, 2n, …; @not-every:<n> all the others; together the whole, apart', () => {
    const whole = openDataset('fixture');
    const held = openDataset('fixture@every:5');
    const kept = openDataset('fixture@not-every:5');
    assert.deepEqual([held.length, kept.length], [60, 240]);
    assert.equal(held.name, `${whole.name}@every:5`);
    assert.equal(kept.name, `${whole.name}@not-every:5`);
    for (const k of [0, 7, 59]) assert.deepEqual(held.getU8!(k), whole.getU8!(5 * k));
    // kept sample k is whole sample k + floor(k / 4) + 1 (one held out before every 4 kept)
    for (const k of [0, 3, 4, 239]) {
      assert.deepEqual(kept.getU8!(k), whole.getU8!(k + Math.floor(k / 4) + 1));
      assert.equal(kept.labelAt(k), whole.labelAt(k + Math.floor(k / 4) + 1));
    }
    // every class of the fixture appears in the held-out part
    const classes = (d: typeof whole) => new Set(Array.from({ length: d.length }, (_, i) => d.labelAt(i)));
    assert.equal(classes(held).size, classes(whole).size);
    assert.equal(openDataset('fixture@not-every:5', { limit: 10 }).length, 10);
    assert.throws(() => openDataset('fixture@every:1'), /every 1th sample selects all of them; use every:<n> with n ≥ 2/);
    assert.throws(() => openDataset('fixture@every:0'), /selects none of them/);
    assert.equal(openDataset('fixture@every:400').length, 1);
    // parts nest: the first sample alone has no "others"
    assert.throws(() => openDataset('fixture@0:1@not-every:2'), /fixture@0:1 has 1 samples, none of them selected/);
    assert.equal(canonicalDatasetSpec('fashion-mnist@not-every:5'), 'fashion-mnist:train@not-every:5');
  });

  test('fixture resolves from the package root, not the cwd', () => {
    const cwd = process.cwd();
    try {
      process.chdir('/');
      const ds = openDataset('fixture');
      assert.equal(ds.length, 300);
    } finally {
      process.chdir(cwd);
    }
  });

  test('folder:, with resize and limit', () => {
    const ds = openDataset(`folder:${fixtureDir()}`, { resize: { height: 16, width: 16 }, limit: 20 });
    assert.equal(ds.length, 20);
    assert.deepEqual([ds.height, ds.width], [16, 16]);
    assert.ok(new Set(ds.labels).size >= 8); // evenly spaced over all classes
  });

  test('idx:<images>,<labels>', () => {
    const { dir, cleanup } = tempDir();
    try {
      writeFileSync(join(dir, 'im'), encodeIdx('uint8', [3, 2, 2], new Array(12).fill(9)));
      writeFileSync(join(dir, 'lb'), encodeIdx('uint8', [3], [0, 1, 1]));
      const ds = openDataset(`idx:${join(dir, 'im')},${join(dir, 'lb')}`, { classNames: ['x', 'y'] });
      assert.equal(ds.length, 3);
      assert.deepEqual(ds.classNames, ['x', 'y']);
      const big = openDataset(`idx:${join(dir, 'im')},${join(dir, 'lb')}`, { resize: { height: 4, width: 4 } });
      assert.deepEqual(Array.from(big.getU8(0)), new Array(16).fill(9));
    } finally {
      cleanup();
    }
  });

  test('fashion-mnist:test', { skip: !fashionMnistAvailable({ split: 'test' }) && 'Fashion-MNIST not installed' }, () => {
    assert.equal(openDataset('fashion-mnist:test').length, 10000);
    assert.equal(openDataset('fashion-mnist:test', { limit: 100 }).length, 100);
  });

  const twitter = (() => {
    try {
      emojiPackageDir('twitter');
      return true;
    } catch {
      return false;
    }
  })();
  test('emoji-twitter with limit', { skip: !twitter && 'emoji-datasource-twitter not installed' }, () => {
    const ds = openDataset('emoji-twitter', { limit: 3, resize: { height: 16, width: 16 } });
    assert.equal(ds.length, 3);
    assert.equal(ds.height, 16);
  });

  test('bad specs', () => {
    assert.throws(() => openDataset('cifar10'), /unknown dataset spec "cifar10"; use one of: fashion-mnist/);
    assert.throws(() => openDataset('fashion-mnist:val'), /unknown split "val"/);
    assert.throws(() => openDataset('emoji-apple'), /unknown emoji vendor "apple"/);
    assert.throws(() => openDataset('folder:'), /missing path/);
    assert.throws(() => openDataset('idx:onlyone'), /expected idx:<images file>,<labels file>/);
    assert.throws(() => openDataset('fashion-mnist', { dataDir: '/nonexistent' }), /apt-get install dataset-fashion-mnist/);
  });
});
