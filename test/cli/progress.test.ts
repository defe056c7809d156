// Progress off a terminal: work that alternates between phases batch by batch (sampling: stage 1,
// then decode, per batch) prints each phase at the rate the whole work makes it, a line every few
// seconds per phase, and a phase that starts over gets a new count.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { progressReporter } from '../../src/cli/progress.js';

test('alternating phases: sane rates and ETAs, throttled lines, a restarted phase counts anew', () => {
  const lines: string[] = [];
  const write = mock.method(process.stderr, 'write', (chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  try {
    const report = progressReporter();
    // 5 batches of 100 images: 3 s of stage 1, then 2 s of decoding each
    for (let b = 1; b <= 5; b++) {
      mock.timers.tick(3000);
      report({ phase: 'stage1', done: 100 * b, total: 500 });
      mock.timers.tick(2000);
      report({ phase: 'decode', done: 100 * b, total: 500 });
    }
    const stage1 = lines.filter((l) => l.startsWith('stage1 '));
    const decode = lines.filter((l) => l.startsWith('decode '));
    // the first line of each phase, then one every ≥ 5 s, and the last
    assert.deepEqual(
      stage1.map((l) => l.split(' |')[0]),
      ['stage1 100/500', 'stage1 200/500', 'stage1 300/500', 'stage1 400/500', 'stage1 500/500'],
    );
    // stage 1 from the start: 100 images in 3 s, then 100 every 5 s; 500 in 23 s
    assert.match(stage1[0]!, /\| 33\.3\/s \| ETA 12s/);
    assert.match(stage1[4]!, /\| 21\.7\/s \| ETA 0s/);
    // decode counts from the end of the first stage 1: 100 in 2 s, 500 in 22 s
    assert.match(decode[0]!, /decode 100\/500 \| 50\.0\/s \| ETA 8s/);
    assert.match(decode[decode.length - 1]!, /decode 500\/500 \| 22\.7\/s/);
    // another job of the same kind starts over: a new count, not 100 images in 25 s
    mock.timers.tick(1000);
    report({ phase: 'stage1', done: 100, total: 200 });
    assert.match(lines[lines.length - 1]!, /^stage1 100\/200 \| 100\.0\/s \| ETA 1s/);
    // long ETAs in minutes and hours
    mock.timers.tick(100_000);
    report({ phase: 'decode', done: 1, total: 400 });
    assert.match(lines[lines.length - 1]!, /^decode 1\/400 \| 100\.0 s each \| ETA 11h05m/);
    mock.timers.tick(5000);
    report({ phase: 'decode', done: 100, total: 400 });
    assert.match(lines[lines.length - 1]!, /^decode 100\/400 \| 1\.1 s each \| ETA 5m15s/);
    report.stop();
  } finally {
    mock.timers.reset();
    write.mock.restore();
  }
});
