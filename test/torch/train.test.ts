// End-to-end learning through the engine: an MLP learns XOR; a tiny GPT's loss falls;
// AdamW matches a hand-computed step; clipping bounds the gradient norm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';
import { AdamW, Linear, decayGroups } from '../../src/nn/index.js';
import { GPT } from '../../src/models/gpt.js';

test('AdamW step matches the hand-computed update (decoupled decay, bias correction)', () => {
  const p = T.tensor([1]).requiresGrad_();
  const opt = new AdamW([p], { lr: 0.1, weightDecay: 0.01 });
  T.tidy(() => p.mul(0.5).sum().backward()); // grad 0.5
  opt.step();
  // p = 1·(1 − 0.1·0.01) − 0.1 · m̂/(√v̂ + ε), m̂ = 0.5, v̂ = 0.25
  assert.ok(Math.abs(p.item() - (0.999 - 0.1 * (0.5 / (0.5 + 1e-8)))) < 1e-6, `${p.item()}`);
  assert.equal(opt.stateTensors().size, 2);
});

test('clipGradNorm scales gradients to the bound and reports the old norm', () => {
  const a = T.tensor([3]).requiresGrad_();
  const b = T.tensor([4]).requiresGrad_();
  T.tidy(() => a.mul(3).add(b.mul(4)).sum().backward()); // grads 3, 4 → norm 5
  const norm = T.clipGradNorm([a, b], 1);
  assert.ok(Math.abs(norm - 5) < 1e-5);
  assert.ok(Math.abs(a.grad!.item() - 0.6) < 1e-5 && Math.abs(b.grad!.item() - 0.8) < 1e-5);
});

test('a two-layer MLP learns XOR', () => {
  T.manualSeed(0);
  const l1 = new Linear(2, 16, { bias: true, std: 0.5 });
  const l2 = new Linear(16, 2, { bias: true, std: 0.5 });
  const params = [...l1.parameters(), ...l2.parameters()];
  const opt = new AdamW(params, { lr: 0.05, weightDecay: 0 });
  const x = T.keep(
    T.tensor([
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ]),
  );
  const y = T.keep(T.tensor([0, 1, 1, 0], 'int64'));
  for (let i = 0; i < 300; i++) {
    T.tidy(() => {
      T.zeroGrad(params);
      T.crossEntropy(l2.forward(l1.forward(x).tanh()), y).backward();
      opt.step();
    });
  }
  const pred = T.noGrad(() => T.tidy(() => l2.forward(l1.forward(x).tanh()).argmax(1).toArray()));
  assert.deepEqual(pred, [0, 1, 1, 0]);
});

test("a tiny transformer's loss falls on a learnable sequence task", () => {
  T.manualSeed(1);
  const model = new GPT({
    dim: 32,
    nLayer: 2,
    nHead: 2,
    vocabSize: 8,
    numClasses: 4,
    blockSize: 16,
    tokenDropout: 0,
    residDropout: 0,
    ffnDropout: 0,
    classDropout: 0,
  });
  const opt = new AdamW(decayGroups(model.namedParameters(), 0.05), { lr: 3e-3, betas: [0.9, 0.95] });
  // class c → tokens (c + position) mod 8: learnable from class and position
  const classes = T.keep(T.tensor([0, 1, 2, 3, 0, 1, 2, 3], 'int64'));
  const seq = T.keep(T.arange(16).unsqueeze(0).add(classes.unsqueeze(1)).remainder(8));
  const step = () =>
    T.tidy(() => {
      T.zeroGrad(model.parameters());
      const logits = model.forward(classes, seq.slice(1, 0, 15));
      const loss = T.crossEntropy(logits.reshape(-1, 8), seq.reshape(-1));
      loss.backward();
      T.clipGradNorm(model.parameters(), 1);
      opt.step();
      return loss.item();
    });
  const first = step();
  let last = first;
  for (let i = 0; i < 80; i++) last = step();
  assert.ok(last < first * 0.3, `loss ${first} → ${last}`);
  model.dispose();
  opt.dispose();
});
