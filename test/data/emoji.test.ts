import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { emojiDataset, emojiPackageDir, type EmojiVendor } from '../../src/data/emoji.js';
import { tempDir } from './helpers.js';

const CATEGORIES = [
  'Activities',
  'Animals & Nature',
  'Flags',
  'Food & Drink',
  'Objects',
  'People & Body',
  'Smileys & Emotion',
  'Symbols',
  'Travel & Places',
];

function installed(vendor: EmojiVendor): boolean {
  try {
    emojiPackageDir(vendor);
    return true;
  } catch {
    return false;
  }
}

for (const vendor of ['google', 'twitter'] as const) {
  const skip = installed(vendor) ? false : `emoji-datasource-${vendor} not installed (npm install emoji-datasource-${vendor})`;
  describe(`emoji-${vendor}`, () => {
    test('a handful of images: shape, labels, sorted categories, white background', { skip }, () => {
      const ds = emojiDataset({ vendor, limit: 18 });
      assert.equal(ds.name, `emoji-${vendor}`);
      assert.equal(ds.length, 18);
      assert.deepEqual([ds.channels, ds.height, ds.width], [3, 64, 64]);
      assert.deepEqual(ds.classNames, CATEGORIES);
      for (let i = 0; i < ds.length; i++) assert.ok(ds.labelAt(i) >= 0 && ds.labelAt(i) < ds.numClasses);
      // evenly spaced over the sort order: several categories appear
      assert.ok(new Set(ds.labels).size >= 5);
      // the first emoji (sort order 0) is the grinning face; corner is transparent -> white
      const first = ds.getU8(0);
      assert.equal(ds.classNames[ds.labelAt(0)], 'Smileys & Emotion');
      for (let c = 0; c < 3; c++) assert.equal(first[c * 64 * 64], 255);
      // not a blank image
      assert.ok(first.some((v) => v < 200));
    });

    test('resize on load, skin tones, Component category', { skip }, () => {
      const small = emojiDataset({ vendor, limit: 4, resize: { height: 32, width: 32 } });
      assert.deepEqual([small.height, small.width], [32, 32]);
      assert.equal(small.getU8(0).length, 3 * 32 * 32);
      const withComp = emojiDataset({ vendor, limit: 1, includeComponent: true });
      assert.ok(withComp.classNames.includes('Component'));
      assert.equal(withComp.numClasses, 10);
      assert.equal(emojiDataset({ vendor, limit: 1, skinTones: true }).numClasses, 9);
    });
  });
}

describe('emoji errors', () => {
  test('missing package names the npm install command', () => {
    assert.throws(() => emojiPackageDir('nosuchvendor' as EmojiVendor), /npm install emoji-datasource-nosuchvendor/);
    const { dir, cleanup } = tempDir();
    try {
      assert.throws(() => emojiDataset({ vendor: 'google', packageDir: dir }), /npm install emoji-datasource-google/);
    } finally {
      cleanup();
    }
    assert.throws(() => emojiDataset({ vendor: 'apple' as EmojiVendor }), /unknown vendor "apple"/);
  });
});
