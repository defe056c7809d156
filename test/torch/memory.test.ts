// Long runs keep flat memory: 2,000 training steps of a small model inside tidy() scopes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';
import { AdamW, Linear } from '../../src/nn/index.js';

test('2,000 training steps keep resident memory flat', () => {
  T.manualSeed(0);
  const l1 = new Linear(64, 256, { bias: true });
  const l2 = new Linear(256, 10, { bias: true });
  const params = [...l1.parameters(), ...l2.parameters()];
  const opt = new AdamW(params, { lr: 1e-3 });
  const step = () =>
    T.tidy(() => {
      const x = T.randn([64, 64]);
      const y = T.randint(0, 10, [64]);
      T.zeroGrad(params);
      const loss = T.crossEntropy(l2.forward(l1.forward(x).gelu()), y);
      loss.backward();
      T.clipGradNorm(params, 1);
      opt.step();
      return loss.item();
    });
  for (let i = 0; i < 200; i++) step(); // warm up allocator caches
  global.gc?.();
  const before = process.memoryUsage().rss;
  for (let i = 0; i < 2000; i++) step();
  global.gc?.();
  const growth = (process.memoryUsage().rss - before) / 2 ** 20;
  // each step allocates ~0.3 MB of tensors; a leak of even one per step would exceed this bound
  assert.ok(growth < 16, `resident memory grew ${growth.toFixed(1)} MiB over 2,000 steps`);
  assert.equal(T.scopeDepth(), 0);
});
