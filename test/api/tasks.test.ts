// The long library calls run in worker threads: training reports progress, keeps the event loop
// free, stops on abort leaving a resumable checkpoint, and resumes to the same result as an
// uninterrupted run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { trainStage, type ProgressEvent } from '../../src/index.js';
import { MetricsLog } from '../../src/train/metrics-log.js';
import { syntheticSetup } from '../train/synthetic.js';

test('trainStage runs in a worker: progress, a free event loop, abort with a checkpoint, exact resume', async () => {
  const s = await syntheticSetup();
  const options = (run: string) => ({
    stage: 'stage1' as const,
    run: join(s.dir, run),
    tokenizer: s.tokenizer,
    trainCache: s.train,
    valCache: s.val,
    clusters: s.clustersPath,
    model: { dim: 32, nLayer: 2, nHead: 2 },
    steps: 30,
    batchSize: 16,
    schedule: { lr: 3e-3 },
    validateEvery: 10,
    saveEvery: 10,
    seed: 1,
  });
  const events: ProgressEvent[] = [];
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  const full = await trainStage(options('full'), { onProgress: (e) => events.push(e), threads: 1 });
  clearInterval(timer);
  assert.equal(full.steps, 30);
  assert.ok(full.last.valLoss! < Math.log(8), `val loss ${full.last.valLoss}`);
  assert.deepEqual(events.at(-1), { phase: 'train stage1', done: 30, total: 30, startAt: 0, info: events.at(-1)!.info });
  assert.ok(ticks > 5, `the event loop ran ${ticks} timer ticks while training`);

  const ac = new AbortController();
  await assert.rejects(
    trainStage(options('aborted'), {
      signal: ac.signal,
      threads: 1,
      onProgress: (e) => {
        if (e.done >= 12) ac.abort();
      },
    }),
    (e: Error) => e.name === 'AbortError',
  );
  assert.ok(existsSync(join(s.dir, 'aborted', 'stage1.safetensors')), 'an aborted run leaves its last finished step saved');
  const resumed = await trainStage({ ...options('aborted'), resume: true }, { threads: 1 });
  assert.ok(resumed.resumedFrom >= 12 && resumed.resumedFrom < 30, `resumed from ${resumed.resumedFrom}`);
  const losses = (run: string) => new MetricsLog(join(s.dir, run, 'stage1.metrics.jsonl')).read().map((r) => r.loss ?? r.valLoss);
  assert.deepEqual(losses('aborted'), losses('full'));
  await assert.rejects(trainStage({ ...options('bad'), clusters: undefined }), /needs --clusters/);
});
