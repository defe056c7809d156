// Run-aware evaluation defaults: the shipped classifiers are found from the package root whatever
// the working directory; each dataset gets its own test split and classifier or a refusal that
// names the fix; datasets match as canonical specs (relative or absolute paths alike).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, relative } from 'node:path';
import { resolveEvalDefaults, classifierForReference } from '../../src/eval/eval-defaults.js';
import { CLASSIFIER_KIND } from '../../src/eval/train-classifier.js';
import { saveCheckpoint } from '../../src/io/index.js';
import { packageRoot } from '../../src/util/package-root.js';
import { tmpDir } from '../io/helpers.js';

const fixture = join(packageRoot, 'test', 'fixtures', 'tiny-fashion');

/** A classifier checkpoint as far as the lookup reads it: its meta. */
async function fakeClassifier(path: string, dataset: string, testDataset: string): Promise<void> {
  const w = { dtype: 'float32' as const, shape: [1], data: new Uint8Array(4) };
  await saveCheckpoint(path, new Map([['w', w]]), { kind: CLASSIFIER_KIND, dataset, testDataset });
}

test('a Fashion-MNIST run gets fashion-mnist:test and the shipped classifier, from any working directory', async () => {
  const cwd = process.cwd();
  process.chdir(tmpDir('defaults'));
  try {
    const d = await resolveEvalDefaults({ dataset: 'fashion-mnist:train', source: 'run x' });
    assert.deepEqual(d, {
      classifier: join(packageRoot, 'models', 'fashion-mnist-classifier.safetensors'),
      reference: 'fashion-mnist:test',
      because: { classifier: 'the classifier trained on fashion-mnist:train', reference: 'the test split of fashion-mnist:train' },
    });
    // given flags win, and a classifier of another dataset is said to be one
    const e = await resolveEvalDefaults({
      dataset: 'fashion-mnist',
      source: 'run x',
      reference: 'fixture',
      classifier: join(packageRoot, 'models', 'emoji-classifier.safetensors'),
    });
    assert.equal(e.reference, 'fixture');
    assert.equal(e.because.classifier, 'given with --classifier (trained on emoji-google@not-every:5, not fashion-mnist:train)');
    assert.equal((await classifierForReference('fashion-mnist:test')).classifier, d.classifier);
  } finally {
    process.chdir(cwd);
  }
});

test('emoji has a classifier but no held-out split: refused, naming --reference; never Fashion-MNIST', async () => {
  await assert.rejects(
    resolveEvalDefaults({ dataset: 'emoji-google', source: 'run e' }),
    (err: Error) =>
      /run e was trained on emoji-google, and ctfgen will not measure it against another dataset/.test(err.message) &&
      /emoji-google has no held-out test split; name the real images to compare with, e\.g\. --reference emoji-google/.test(err.message) &&
      !/no feature classifier/.test(err.message),
  );
});

test('a folder dataset: refused with the exact training command; found by its canonical spec once a classifier records it', async () => {
  const models = tmpDir('models');
  const rel = relative(process.cwd(), fixture);
  await assert.rejects(resolveEvalDefaults({ dataset: `folder:${rel}`, source: 'run f', modelsDir: models }), (err: Error) => {
    assert.ok(
      err.message.includes(
        `ctfgen eval classifier train --data folder:${fixture} --test <held-out images of the same data> --out tiny-fashion-classifier.safetensors\nand pass --classifier tiny-fashion-classifier.safetensors`,
      ),
      err.message,
    );
    assert.match(err.message, /looked in .*: none\)/);
    return true;
  });
  await fakeClassifier(join(models, 'tiny-fashion-classifier.safetensors'), `folder:${fixture}`, `folder:${fixture}-test`);
  const d = await resolveEvalDefaults({ dataset: `folder:${rel}`, source: 'run f', modelsDir: models });
  assert.equal(d.classifier, join(models, 'tiny-fashion-classifier.safetensors'));
  assert.equal(d.reference, `folder:${fixture}-test`);
  assert.match(d.because.reference, /the test split recorded with .*tiny-fashion-classifier\.safetensors/);
});

test('a run trained on <spec>@not-every:<n> is measured against <spec>@every:<n>, with the classifier of (a part of) that dataset', async () => {
  const models = tmpDir('models-held-out');
  await fakeClassifier(join(models, 'emoji-classifier.safetensors'), 'emoji-google@not-every:5', 'emoji-google@every:5');
  const d = await resolveEvalDefaults({ dataset: 'emoji-google@not-every:5', source: 'run e', modelsDir: models });
  assert.deepEqual(d, {
    classifier: join(models, 'emoji-classifier.safetensors'),
    reference: 'emoji-google@every:5',
    because: {
      classifier: 'the classifier trained on emoji-google@not-every:5',
      reference: 'the part of emoji-google held out of training (every 5th sample)',
    },
  });
  // the whole set has no held-out part: still refused, though its classifier is found
  await assert.rejects(resolveEvalDefaults({ dataset: 'emoji-google', source: 'run e', modelsDir: models }), (err: Error) => {
    assert.match(err.message, /emoji-google has no held-out test split/);
    assert.doesNotMatch(err.message, /no feature classifier/);
    return true;
  });
  // a range keeps its dataset's test split
  const f = await resolveEvalDefaults({ dataset: 'fashion-mnist:train@0:55000', source: 'run g' });
  assert.equal(f.reference, 'fashion-mnist:test');
});
