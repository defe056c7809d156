// Run folders written before the stages were named stage1 / stage2 (files ar.* and aux.*) keep
// loading and sample exactly what the same weights under the new names sample.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shippedRun } from '../../src/api/shipped.js';
import { loadRun } from '../../src/run/load-run.js';
import { RunDir } from '../../src/run/run-dir.js';
import { sampleImages } from '../../src/sample/images.js';

test('a run folder with the old ar/aux file names loads and samples as before', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctf-legacy-'));
  const shipped = shippedRun('ctf');
  copyFileSync(join(shipped, 'stage1.safetensors'), join(dir, 'ar.safetensors'));
  copyFileSync(join(shipped, 'stage2.safetensors'), join(dir, 'aux.safetensors'));
  copyFileSync(join(shipped, 'clusters.safetensors'), join(dir, 'clusters.safetensors'));
  const info = JSON.parse(readFileSync(join(shipped, 'run.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ ...info, tokenizer: join(shipped, '..', 'tokenizer.safetensors') }));
  const legacy = new RunDir(dir);
  assert.equal(legacy.checkpoint('stage1'), join(dir, 'ar.safetensors'));
  assert.equal(legacy.checkpoint('stage2'), join(dir, 'aux.safetensors'));
  assert.equal(legacy.metrics('stage1'), join(dir, 'stage1.metrics.jsonl'), 'new files get the new names');
  const [old, now] = [await loadRun(dir), await loadRun(shipped)];
  try {
    assert.equal(old.kind, 'ctf');
    const request = { classes: [0, 4, 9], seed: 2 };
    assert.deepEqual(sampleImages(old, request).tokens, sampleImages(now, request).tokens);
  } finally {
    old.dispose();
    now.dispose();
  }
});
