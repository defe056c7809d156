// The feature classifier: shapes, input transforms, a short training run on the committed fixture,
// checkpoint round trip, and the metrics end to end (FID grows with added noise; a set evaluated
// against its own statistics scores FID 0, precision = recall = 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/data/rng.js';
import { batches } from '../../src/data/loader.js';
import { openDataset } from '../../src/data/open.js';
import {
  FeatureClassifier,
  classifierId,
  classifierInputTransform,
  datasetOutputs,
  evaluateImages,
  featureStats,
  frechetDistance,
  loadClassifier,
  referenceStats,
  trainClassifier,
} from '../../src/eval/index.js';
import * as T from '../../src/torch/index.js';
import { assertClose } from '../helpers.js';

const SMALL = { widths: [8, 16, 32], featureDim: 32, groups: 4 };

function fixtureImages(): { images: Float32Array; labels: Int32Array; n: number } {
  const ds = openDataset('fixture');
  const b = batches(ds, { batchSize: ds.length, shuffle: false, transform: { pad: { height: 32, width: 32 } } }).next().value!;
  return { images: b.images, labels: b.labels, n: b.n };
}

test('FeatureClassifier: features [N, F] and logits [N, K] for grey 32, RGB 64 and 16; input checked', () => {
  T.manualSeed(0);
  for (const [channels, imageSize, featureDim] of [
    [1, 32, 128],
    [3, 64, 48],
    [3, 16, 16],
  ] as const) {
    const m = new FeatureClassifier({ channels, imageSize, numClasses: 7, featureDim });
    T.tidy(() => {
      const x = T.randn([3, channels, imageSize, imageSize]);
      assert.deepEqual(m.features(x).shape, [3, featureDim]);
      assert.deepEqual(m.logits(x).shape, [3, 7]);
      assert.ok(m.features(x).amin().item() >= 0, 'features are post-ReLU');
      assert.throws(() => m.features(T.randn([1, channels, imageSize + 1, imageSize])), /expected images/);
    });
    assert.ok(m.namedParameters().some(([n]) => n === 'convs.0.weight') && m.namedParameters().some(([n]) => n === 'head.bias'));
    m.dispose();
  }
  assert.throws(() => new FeatureClassifier({ channels: 1, imageSize: 32, numClasses: 10, widths: [30], groups: 8 }), /divide/);
});

test('classifierInputTransform: pads smaller images, area-resizes larger ones, converts channels', () => {
  assert.deepEqual(classifierInputTransform({ channels: 1, height: 28, width: 28 }, { imageSize: 32, channels: 1 }), {
    channels: 1,
    pad: { height: 32, width: 32 },
  });
  assert.deepEqual(classifierInputTransform({ channels: 3, height: 64, width: 64 }, { imageSize: 32, channels: 3 }), {
    channels: 3,
    resize: { height: 32, width: 32, method: 'area' },
  });
  assert.deepEqual(classifierInputTransform({ channels: 3, height: 32, width: 32 }, { imageSize: 32, channels: 1 }), { channels: 1 });
});

test('trainClassifier beats chance on the fixture within a few steps; checkpoint round trip', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctfgen-eval-'));
  try {
    const out = join(dir, 'models', 'clf.safetensors');
    const r = await trainClassifier({
      data: 'fixture',
      test: 'fixture',
      imageSize: 32,
      channels: 1,
      epochs: 3,
      batchSize: 32,
      lr: 3e-3,
      model: SMALL,
      out,
    });
    assert.equal(r.steps, 27);
    assert.ok(r.testAccuracy > 0.3, `accuracy ${r.testAccuracy} should beat chance (0.1) clearly`);
    assert.ok(statSync(out).size < 200_000);
    const loaded = await loadClassifier(out);
    assert.equal(loaded.meta.kind, 'feature-classifier');
    assert.equal(loaded.meta.testAccuracy, r.testAccuracy);
    assert.equal(loaded.meta.imageSize, 32);
    assert.equal(loaded.meta.channels, 1);
    assert.equal(loaded.meta.dataset, 'fixture');
    assert.deepEqual(loaded.meta.config, r.model.config);
    assert.deepEqual(loaded.meta.transform, { channels: 1, pad: { height: 32, width: 32 } });
    assert.equal(loaded.id, classifierId(r.model));
    assert.equal(loaded.meta.id, loaded.id);
    assert.equal(loaded.model.training, false);
    const { images, n } = fixtureImages();
    T.tidy(() => {
      const x = T.fromArray(images, [n, 1, 32, 32]).slice(0, 0, 16);
      r.model.eval();
      assertClose(loaded.model.logits(x).toFloat32Array(), r.model.logits(x).toFloat32Array(), 1e-6, 'logits');
    });
    const again = await datasetOutputs(loaded.model, 'fixture');
    assert.equal(again.accuracy, r.testAccuracy);
    await assert.rejects(loadClassifier(join(dir, 'missing.safetensors')));
    r.model.dispose();
    loaded.model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('FID grows monotonically with the std of Gaussian noise added to the images', () => {
  T.manualSeed(1);
  const model = new FeatureClassifier({ channels: 1, imageSize: 32, numClasses: 10, ...SMALL });
  const { images, n } = fixtureImages();
  const feats = (x: Float32Array) => T.noGrad(() => T.tidy(() => model.features(T.fromArray(x, [n, 1, 32, 32])).toFloat32Array()));
  const ref = featureStats({ data: feats(images), dim: 32 });
  const rng = new Rng(7);
  const noise = Float32Array.from(images, () => rng.normal());
  const fids = [0, 0.05, 0.1, 0.2, 0.4, 0.8].map((std) => {
    const noisy = Float32Array.from(images, (v, i) => v + std * noise[i]!);
    return frechetDistance(featureStats({ data: feats(noisy), dim: 32 }), ref);
  });
  assert.ok(fids[0]! < 1e-9, `clean FID ${fids[0]}`);
  for (let i = 1; i < fids.length; i++) assert.ok(fids[i]! > fids[i - 1]!, `FID not increasing: ${fids.map((f) => f.toFixed(4))}`);
  model.dispose();
});

test('evaluateImages: the reference set itself scores FID 0, precision = recall = 1; batches = one array; cached statistics', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctfgen-eval-'));
  T.manualSeed(2);
  const model = new FeatureClassifier({ channels: 1, imageSize: 32, numClasses: 10, ...SMALL });
  try {
    const ref = await referenceStats({ classifier: model, dataset: 'fixture', cacheDir: dir });
    assert.equal(ref.cached, false);
    assert.equal(ref.stats.n, 300);
    const again = await referenceStats({ classifier: model, dataset: 'fixture', cacheDir: dir });
    assert.equal(again.cached, true);
    assert.deepEqual(Array.from(again.stats.mean), Array.from(ref.stats.mean));
    const { images, labels, n } = fixtureImages();
    const r = await evaluateImages({ images, labels, classifier: model, referenceStats: again, batchSize: 64 });
    assert.equal(r.n, n);
    assert.ok(r.fid < 1e-6, `FID ${r.fid}`);
    assert.equal(r.precision, 1);
    assert.equal(r.recall, 1);
    assert.ok(r.isMean >= 1 && r.isStd >= 0);
    const acc = (await datasetOutputs(model, 'fixture')).accuracy;
    assert.ok(Math.abs(r.classAccuracy - acc) < 1e-12);
    // the same images as an iterator of labelled batches
    const per = 32 * 32;
    function* chunks() {
      for (let o = 0; o < n; o += 100) yield { images: images.subarray(o * per, (o + 100) * per), labels: labels.subarray(o, o + 100) };
    }
    const r2 = await evaluateImages({ images: chunks(), classifier: model, referenceStats: ref.stats, realFeatures: ref.features });
    for (const k of ['fid', 'isMean', 'precision', 'recall', 'classAccuracy'] as const) assert.ok(Math.abs(r2[k] - r[k]) < 1e-6, k);
    // no labels → NaN class accuracy; no real features → NaN precision/recall
    const r3 = await evaluateImages({ images: images.subarray(0, 50 * per), classifier: model, referenceStats: ref.stats });
    assert.ok(Number.isNaN(r3.classAccuracy) && Number.isNaN(r3.precision) && Number.isNaN(r3.recall) && r3.fid > 0);
    // statistics of another classifier are refused
    T.manualSeed(3);
    const other = new FeatureClassifier({ channels: 1, imageSize: 32, numClasses: 10, ...SMALL });
    await assert.rejects(evaluateImages({ images, classifier: other, referenceStats: ref }), /classifier/);
    other.dispose();
  } finally {
    model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
