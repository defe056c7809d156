// A study's measurements are read back only while the files they were made from are unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSources } from '../../src/study/sources.js';

test('checkSources records files, accepts new ones and stops at a changed one, naming it', async () => {
  const root = mkdtempSync(join(tmpdir(), 'ctf-sources-'));
  const out = join(root, 'measurements');
  const run = join(root, 'run');
  mkdirSync(run);
  const tokenizer = join(root, 'tokenizer.safetensors');
  writeFileSync(tokenizer, 'tokenizer v1');
  writeFileSync(join(run, 'stage1.safetensors'), 'stage 1 v1');
  writeFileSync(join(run, 'stage1.step-000400.safetensors'), 'snapshot v1');
  writeFileSync(
    join(run, 'run.json'),
    JSON.stringify({ tokenizer: '../tokenizer.safetensors', dataset: 'fixture', classNames: ['a'], numClasses: 1 }),
  );
  const classifier = join(root, 'classifier.safetensors');
  writeFileSync(classifier, 'classifier v1');

  await checkSources(out, [run, classifier]);
  const recorded = JSON.parse(readFileSync(join(out, 'sources.json'), 'utf8')) as Record<string, string>;
  assert.deepEqual(
    Object.keys(recorded).sort(),
    [classifier, join(run, 'stage1.safetensors'), join(run, 'stage1.step-000400.safetensors'), tokenizer].sort(),
  );
  await checkSources(out, [run, classifier]); // unchanged: reads back

  // a new file (a run added to the study) is recorded, not refused
  const other = join(root, 'other.safetensors');
  writeFileSync(other, 'other v1');
  await checkSources(out, [run, classifier, other]);
  assert.ok(other in (JSON.parse(readFileSync(join(out, 'sources.json'), 'utf8')) as Record<string, string>));

  // a snapshot retrained in place, or the tokenizer the run names, replaced: refused, naming the file
  writeFileSync(join(run, 'stage1.step-000400.safetensors'), 'snapshot v2, retrained');
  await assert.rejects(checkSources(out, [run]), (e: Error) => {
    assert.match(e.message, /holds measurements of other versions of .*stage1\.step-000400\.safetensors/);
    assert.match(e.message, /Move .*measurements aside/);
    assert.doesNotMatch(e.message, /tokenizer\.safetensors,/);
    return true;
  });
  writeFileSync(join(run, 'stage1.step-000400.safetensors'), 'snapshot v1');
  writeFileSync(tokenizer, 'tokenizer v2, replaced');
  await assert.rejects(checkSources(out, [run]), /other versions of .*tokenizer\.safetensors/);
  writeFileSync(tokenizer, 'tokenizer v1');
  await checkSources(out, [run, classifier, other]); // restored: reads back again
  await assert.rejects(checkSources(out, [join(root, 'not-trained')]), /not-trained does not exist: train or restore it/);
});
