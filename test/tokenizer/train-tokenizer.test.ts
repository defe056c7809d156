// Tokenizer training: a few steps on the fixture lower the loss; a resumed run ends with exactly
// the weights of an uninterrupted run of the same length (dead-code restarts included).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainTokenizer } from '../../src/train/train-tokenizer.js';
import { MetricsLog } from '../../src/train/metrics-log.js';
import { openTokenizer } from '../../src/tokenizer/tokenizer-file.js';
import { reconstructionStats } from '../../src/tokenizer/evaluate.js';
import * as T from '../../src/torch/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ctf-tok-'));
const opts = { preset: 'tiny', batchSize: 8, valImages: 16, lr: 2e-3 };

test('a few tokenizer steps on the fixture lower the loss, restart dead codes and write grids', async () => {
  const out = join(dir, 'a.safetensors');
  const r = await trainTokenizer({ ...opts, out, steps: 10 });
  const log = new MetricsLog(`${out}.metrics.jsonl`).read().filter((x) => typeof x.loss === 'number');
  const first = log[0]!.loss as number;
  const last = log[log.length - 1]!.loss as number;
  assert.ok(last < first * 0.7, `loss ${first} → ${last}`);
  assert.ok(
    log.some((x) => typeof x.restarts === 'number' && x.restarts > 0),
    'dead codes were restarted',
  );
  assert.ok(existsSync(`${out}.recon-000010.png`));
  // the checkpoint opens as a tokenizer with its transform and reconstructs like the trained model
  const tok = await openTokenizer(out);
  const x = T.keep(T.rand([4, 1, 32, 32]).mul(2).sub(1));
  assert.equal(reconstructionStats(tok.model, x).mse, reconstructionStats(r.model, x).mse);
  r.model.dispose();
  assert.deepEqual(tok.transform.pad, { height: 32, width: 32 });
  tok.model.dispose();
  x.dispose();
});

test('resume gives the same weights as an uninterrupted run of the same length', async () => {
  const full = join(dir, 'full.safetensors');
  const resumed = join(dir, 'resumed.safetensors');
  const a = await trainTokenizer({ ...opts, out: full, steps: 7 });
  const b1 = await trainTokenizer({ ...opts, out: resumed, steps: 7, untilStep: 3 });
  b1.model.dispose();
  const b = await trainTokenizer({ ...opts, out: resumed, steps: 7, resume: true });
  assert.equal(b.resumedFrom, 3);
  const wa = a.model.stateDict();
  const wb = b.model.stateDict();
  for (const [k, t] of wa) assert.deepEqual(wb.get(k)!.toFloat32Array(), t.toFloat32Array(), k);
  a.model.dispose();
  b.model.dispose();
});

test("--codebook-size trains a codebook of that many codes instead of the preset's (the small-codebook control)", async () => {
  const out = join(dir, 'small.safetensors');
  const r = await trainTokenizer({ ...opts, out, steps: 2, codebookSize: 16 });
  assert.equal(r.model.config.codebookSize, 16);
  r.model.dispose();
  const tok = await openTokenizer(out);
  assert.equal(tok.model.config.codebookSize, 16);
  tok.model.dispose();
});
