// Devices and precision on this (CPU) build: the current device, clear refusals of CUDA, and bf16
// autocast as PyTorch's (matmuls in bfloat16, the loss in float32, weights and optimizer state in
// float32) — also through a whole training run, whose losses follow the float32 run's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as T from '../../src/torch/index.js';
import { Linear } from '../../src/nn/index.js';
import { loadCheckpoint } from '../../src/io/index.js';
import { syntheticSetup, trainToyBaseline } from '../train/synthetic.js';

test('tensors live on the current device; CUDA on a libtorch without it is a clear error', () => {
  assert.equal(T.currentDevice(), 'cpu');
  T.setDevice('cpu');
  if (T.cudaDeviceCount() === 0)
    assert.throws(
      () => T.setDevice('cuda'),
      /device 'cuda' asked for, but (this addon was built against a libtorch without CUDA|no CUDA GPU is visible)/,
    );
  assert.throws(() => T.setDevice('tpu'), /unknown device 'tpu' \(use cpu, cuda or cuda:N\)/);
  assert.equal(T.currentDevice(), 'cpu');
});

test('bf16 autocast: matmuls in bfloat16, the loss in float32, the weights untouched; the previous mode comes back', () => {
  T.tidy(() => {
    const lin = new Linear(4, 3);
    const x = T.randn([2, 4]);
    const y = T.withPrecision('bf16', () => {
      const out = lin.forward(x);
      assert.equal(out.dtype, 'bfloat16');
      assert.equal(
        T.withPrecision('bf16', () => x.matmul(T.randn([4, 4])).dtype),
        'bfloat16',
        'nested',
      );
      assert.equal(x.matmul(T.randn([4, 4])).dtype, 'bfloat16', 'still on after the nested region');
      const loss = T.crossEntropy(out, T.tensor([0, 2], 'int64'));
      assert.equal(loss.dtype, 'float32');
      loss.backward();
      return out;
    });
    assert.equal(lin.weight.dtype, 'float32');
    assert.equal(lin.weight.grad!.dtype, 'float32');
    assert.equal(lin.forward(x).dtype, 'float32', 'off again');
    assert.equal(
      T.withPrecision('fp32', () => lin.forward(x).dtype),
      'float32',
    );
    // bf16 keeps ~3 significant digits
    const ref = lin.forward(x).toArray();
    y.toArray().forEach((v, i) => assert.ok(Math.abs(v - ref[i]!) < 2e-2 * Math.max(1, Math.abs(ref[i]!)), `${v} vs ${ref[i]}`));
    lin.dispose();
  });
});

test('training in bf16 follows the float32 run and keeps float32 weights and optimizer state', async () => {
  const s = await syntheticSetup();
  const toy = { dim: 32, nLayer: 1, steps: 6, batchSize: 8 };
  const [a, b] = [await trainToyBaseline(s, 'fp32', toy), await trainToyBaseline(s, 'bf16', { ...toy, precision: 'bf16' })];
  assert.equal(b.length, 6);
  b.forEach((l, i) => assert.ok(Math.abs(l - a[i]!) < 0.03 * a[i]!, `step ${i + 1}: bf16 loss ${l} vs float32 ${a[i]}`));
  assert.notDeepEqual(b, a, 'bf16 really ran in bfloat16');
  const ck = await loadCheckpoint(join(s.dir, 'bf16', 'baseline.safetensors'));
  for (const [n, t] of [...ck.tensors, ...ck.optimizer]) assert.equal(t.dtype, 'float32', n);
});
