// The GPT's packed inference path against its module path (the reference): same logits within 1e-4
// (cached decoding and the full forward) and same greedy tokens, on random models and on the
// LlamaGen fixture; packed weights never stale
// (loadStateDict, optimizer steps, in-place writes); training and gradients keep the module path;
// int8 weights give valid tokens and logits close to fp32.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as T from '../../src/torch/index.js';
import { GPT } from '../../src/models/gpt.js';
import type { GPTConfig } from '../../src/models/gpt-config.js';
import { gptConfigFromLlamaGen, loadGPT } from '../../src/models/load-gpt.js';
import { AdamW } from '../../src/nn/index.js';
import { generate } from '../../src/models/generate.js';
import { readBinArray } from '../../src/io/fixture-bin.js';
import { LOGIT_TOLERANCE, readManifest } from '../../src/verify/llamagen.js';
import { assertClose, sharedDir } from '../helpers.js';

const SMALL: GPTConfig = { dim: 64, nLayer: 2, nHead: 4, vocabSize: 40, numClasses: 3, blockSize: 9 };

function randomGPT(c: GPTConfig = SMALL, seed = 5): GPT {
  T.manualSeed(seed);
  const m = new GPT(c);
  T.noGrad(() => m.output.weight.normal_(0, 0.5));
  return m.eval();
}

/** Logits [B, 1 + L, V] of prefill + one decodeStep per token of tokens [B, L], on the model's current path. */
function cachedLogits(model: GPT, classes: T.Tensor, tokens: T.Tensor): Float32Array {
  return T.noGrad(() =>
    T.tidy(() => {
      const cache = model.newCache(classes.size(0));
      try {
        const steps = [model.prefill(classes, cache)];
        for (let i = 0; i < tokens.size(1); i++) steps.push(model.decodeStep(tokens.select(1, i).contiguous(), cache));
        return T.stack(steps, 1).toFloat32Array();
      } finally {
        cache.dispose();
      }
    }),
  );
}

function onPath(model: GPT, path: 'packed' | 'modules', fn: () => Float32Array): Float32Array {
  const before = model.inferencePath;
  model.inferencePath = path;
  try {
    return fn();
  } finally {
    model.inferencePath = before;
  }
}

for (const [name, c] of [
  ['multi-head', SMALL],
  ['grouped-query, head dim 12', { ...SMALL, dim: 72, nHead: 6, nKvHead: 2 }],
] as const)
  test(`packed decode gives the module path's logits (${name})`, () => {
    const model = randomGPT(c);
    const classes = T.tensor([0, 2, 1], 'int64');
    const tokens = T.randint(0, c.vocabSize, [3, 8]);
    const packed = onPath(model, 'packed', () => cachedLogits(model, classes, tokens));
    const modules = onPath(model, 'modules', () => cachedLogits(model, classes, tokens));
    assertClose(packed, modules, 1e-4, 'logits');
    T.dispose([classes, tokens]);
    model.dispose();
  });

for (const [name, c] of [
  ['causal', SMALL],
  ['full attention, coarse inputs (stage 2)', { ...SMALL, attention: 'full', inputVocabSize: 7 }],
  ['grouped-query', { ...SMALL, dim: 72, nHead: 6, nKvHead: 3 }],
] as const)
  test(`packed forward gives the module path's logits (${name})`, () => {
    const model = randomGPT(c);
    const classes = T.tensor([0, 2, 1], 'int64');
    const tokens = T.randint(0, c.inputVocabSize ?? c.vocabSize, [3, 9]);
    const forward = () => T.noGrad(() => T.tidy(() => model.forward(classes, tokens).toFloat32Array()));
    assertClose(onPath(model, 'packed', forward), onPath(model, 'modules', forward), 1e-4, 'logits');
    T.dispose([classes, tokens]);
    model.dispose();
  });

test('packed and module paths sample the same greedy tokens (CFG)', () => {
  const model = randomGPT({ ...SMALL, blockSize: 16 });
  const classes = T.tensor([0, 1, 2, 0], 'int64');
  const run = (path: 'packed' | 'modules') => {
    model.inferencePath = path;
    return T.tidy(() => generate(model, classes, { cfg: 2.5, greedy: true }).toArray());
  };
  assert.deepEqual(run('packed'), run('modules'));
  classes.dispose();
  model.dispose();
});

test('LlamaGen fixture: packed logits step by step match the recorded ones within 1e-4, greedy CFG tokens exactly', async (t) => {
  const shared = sharedDir();
  if (!shared) return t.skip('shared/ fixtures not present');
  const dir = join(shared, 'fixtures', 'llamagen-ref-a');
  const m = readManifest(dir);
  const model = await loadGPT(join(dir, 'gpt.pt'), gptConfigFromLlamaGen(m.gpt_config!));
  const bin = (name: string) => readBinArray(join(dir, `${name}.bin`), m.tensors[name]!);
  const cls = bin('gpt_cls');
  const idx = bin('gpt_idx');
  const classes = T.fromArray(cls.data, cls.shape, 'int64');
  const tokens = T.fromArray(idx.data, idx.shape, 'int64');
  const ref = bin('gpt_logits').data;
  for (const path of ['packed', 'modules'] as const)
    assertClose(
      onPath(model, path, () => cachedLogits(model, classes, tokens)),
      ref,
      LOGIT_TOLERANCE,
      `${path} logits`,
    );
  const greedy = bin('gpt_greedy_cfg');
  for (const path of ['packed', 'modules'] as const) {
    model.inferencePath = path;
    const ours = T.tidy(() => generate(model, classes, { cfg: m.gpt_greedy_cfg_scale ?? 1, greedy: true, numTokens: greedy.shape[1] }).toArray());
    assert.deepEqual(ours, Array.from(greedy.data, Number), `${path} greedy tokens`);
  }
  T.dispose([classes, tokens]);
  model.dispose();
});

test('packed weights never go stale: loadStateDict, an optimizer step and in-place writes are seen', () => {
  const model = randomGPT();
  const other = randomGPT(SMALL, 9);
  const classes = T.tensor([1, 2], 'int64');
  const tokens = T.randint(0, SMALL.vocabSize, [2, 5]);
  const check = (what: string) =>
    assertClose(
      onPath(model, 'packed', () => cachedLogits(model, classes, tokens)),
      onPath(model, 'modules', () => cachedLogits(model, classes, tokens)),
      1e-4,
      what,
    );
  const before = onPath(model, 'packed', () => cachedLogits(model, classes, tokens)); // packs the weights
  model.loadStateDict(other.stateDict());
  const after = onPath(model, 'packed', () => cachedLogits(model, classes, tokens));
  assert.ok(
    after.some((v, i) => Math.abs(v - before[i]!) > 1e-3),
    'new weights must change the logits',
  );
  check('after loadStateDict');
  assertClose(after, onPath(other, 'modules', () => cachedLogits(other, classes, tokens)), 1e-4, 'equals the source model');

  // an optimizer step (training mode, then back to inference)
  model.train();
  const opt = new AdamW(model.parameters(), { lr: 0.05 });
  T.tidy(() => model.forward(classes, tokens).square().mean().backward());
  opt.step();
  T.zeroGrad(model.parameters());
  model.eval();
  check('after an AdamW step');

  onPath(model, 'packed', () => cachedLogits(model, classes, tokens));
  T.noGrad(() => model.layers[1]!.feedForward.w3.weight.mul_(1.5)); // an in-place write to one weight
  check('after an in-place write');
  opt.dispose();
  T.dispose([classes, tokens]);
  other.dispose();
  model.dispose();
});

test('training mode and gradient recording take the module path (gradients reach the weights)', () => {
  const model = randomGPT();
  const classes = T.tensor([0, 1], 'int64');
  T.tidy(() => {
    const cache = model.newCache(2);
    const logits = model.prefill(classes, cache); // gradients on: module path
    logits.square().sum().backward();
    cache.dispose();
  });
  const g = model.layers[0]!.attention.wqkv.weight.grad;
  assert.ok(g !== null && T.tidy(() => g.abs().sum().item()) > 0, 'the decode step must be differentiable');
  g?.dispose();
  classes.dispose();
  model.dispose();
});

test('int8 packed weights: valid tokens and logits close to fp32', () => {
  const model = randomGPT({ ...SMALL, dim: 128, blockSize: 16 });
  T.noGrad(() => model.output.weight.normal_(0, 0.05));
  const classes = T.tensor([0, 1, 2], 'int64');
  const tokens = T.randint(0, SMALL.vocabSize, [3, 15]);
  const fp32 = onPath(model, 'packed', () => cachedLogits(model, classes, tokens));
  model.packedWeights = 'int8';
  const int8 = onPath(model, 'packed', () => cachedLogits(model, classes, tokens));
  const scale = Math.max(...fp32.map(Math.abs));
  const err = Math.max(...int8.map((v, i) => Math.abs(v - fp32[i]!)));
  assert.ok(err > 0 && err < 0.05 * scale, `int8 logits error ${err} vs logit scale ${scale}`);
  const drawn = T.tidy(() => generate(model, classes, { cfg: 2, temperature: 1 }).toArray());
  assert.equal(drawn.length, 3 * 16);
  assert.ok(drawn.every((t) => Number.isInteger(t) && t >= 0 && t < SMALL.vocabSize));
  T.dispose([classes, tokens]);
  model.dispose();
});

test('both paths refuse a step beyond the cache with the same error', () => {
  const model = randomGPT();
  const classes = T.tensor([0, 1], 'int64');
  for (const path of ['packed', 'modules'] as const) {
    model.inferencePath = path;
    T.noGrad(() =>
      T.tidy(() => {
        const cache = model.newCache(2);
        model.prefill(classes, cache);
        const token = T.tensor([1, 2], 'int64');
        for (let i = 0; i < SMALL.blockSize; i++) model.decodeStep(token, cache);
        assert.throws(() => model.decodeStep(token, cache), /KV cache overflow: position 11 beyond capacity 10/, path);
        cache.dispose();
      }),
    );
  }
  classes.dispose();
  model.dispose();
});
