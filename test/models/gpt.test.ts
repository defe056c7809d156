// The GPT: KV-cache decoding equals the full forward, GQA and config checks, LlamaGen fixture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as T from '../../src/torch/index.js';
import { GPT } from '../../src/models/gpt.js';
import { ffnHidden, gptConfigForSize, resolveGPTConfig } from '../../src/models/gpt-config.js';
import { generate } from '../../src/models/generate.js';
import { verifyLlamaGenFixture } from '../../src/verify/llamagen.js';
import { assertClose, sharedDir } from '../helpers.js';

function randomGPT(nKvHead?: number): GPT {
  T.manualSeed(5);
  const m = new GPT({ dim: 32, nLayer: 2, nHead: 4, nKvHead, vocabSize: 20, numClasses: 3, blockSize: 9 });
  T.noGrad(() => m.output.weight.normal_(0, 0.5));
  return m.eval();
}

for (const kv of [undefined, 2]) {
  test(`KV-cache decode gives the full forward's logits${kv ? ' (grouped-query attention)' : ''}`, () => {
    const model = randomGPT(kv);
    T.noGrad(() =>
      T.tidy(() => {
        const classes = T.tensor([0, 2], 'int64');
        const tokens = T.randint(0, 20, [2, 8]);
        const full = model.forward(classes, tokens); // [2, 9, 20]
        const cache = model.newCache(2);
        const steps = [model.prefill(classes, cache)];
        for (let i = 0; i < 8; i++) steps.push(model.decodeStep(tokens.select(1, i), cache));
        assertClose(T.stack(steps, 1).toFloat32Array(), full.toFloat32Array(), 1e-5, 'cached logits');
        cache.dispose();
      }),
    );
    model.dispose();
  });
}

test('sampling with the KV cache equals full-forward sampling token for token', () => {
  const model = randomGPT();
  const classes = T.tensor([0, 1, 2], 'int64');
  for (const opts of [{ cfg: 1 }, { cfg: 2.5, topK: 5, temperature: 1.1 }]) {
    T.manualSeed(11);
    const cached = generate(model, classes, opts).toArray();
    T.manualSeed(11);
    const full = generate(model, classes, { ...opts, useCache: false }).toArray();
    assert.deepEqual(cached, full);
  }
  model.dispose();
});

test('config: LlamaGen sizes, FFN width and clear errors', () => {
  const b = resolveGPTConfig(gptConfigForSize('B', { vocabSize: 16384, numClasses: 1000, blockSize: 256 }));
  assert.equal(ffnHidden(b), 2048);
  assert.equal(ffnHidden(resolveGPTConfig(gptConfigForSize('L', { vocabSize: 1, numClasses: 1, blockSize: 256 }))), 2816);
  assert.equal(ffnHidden(resolveGPTConfig(gptConfigForSize('XL', { vocabSize: 1, numClasses: 1, blockSize: 256 }))), 3584);
  assert.equal(ffnHidden(resolveGPTConfig(gptConfigForSize('3B', { vocabSize: 1, numClasses: 1, blockSize: 256 }))), 8704);
  assert.throws(() => resolveGPTConfig({ dim: 30, nLayer: 1, nHead: 4, vocabSize: 4, numClasses: 2, blockSize: 16 }), /not divisible/);
  assert.throws(() => resolveGPTConfig({ dim: 32, nLayer: 1, nHead: 4, vocabSize: 4, numClasses: 2, blockSize: 15 }), /square/);
  const model = randomGPT();
  assert.throws(() => model.forward(T.tensor([0], 'int64'), T.zeros([2, 3], 'int64')), /tokens must be \[B, L\] with B = 1/);
  assert.throws(() => model.forward(T.tensor([0], 'int64'), T.zeros([1, 10], 'int64')), /exceed blockSize 9/);
  model.dispose();
});

test('parameter names follow LlamaGen', () => {
  const model = randomGPT();
  const names = model.namedParameters().map(([n]) => n);
  for (const k of [
    'cls_embedding.embedding_table.weight',
    'tok_embeddings.weight',
    'layers.1.attention.wqkv.weight',
    'layers.0.feed_forward.w2.weight',
    'layers.0.attention_norm.weight',
    'norm.weight',
    'output.weight',
  ])
    assert.ok(names.includes(k), k);
  assert.deepEqual(model.clsEmbedding.embeddingTable.weight.shape, [4, 32]);
  model.dispose();
});

test('reproduces LlamaGen reference outputs (fixture llamagen-ref-a)', async (t) => {
  const shared = sharedDir();
  if (!shared) return t.skip('shared/ fixtures not present');
  const results = await verifyLlamaGenFixture(join(shared, 'fixtures', 'llamagen-ref-a'));
  assert.deepEqual(
    results.map((r) => r.name),
    ['gpt_logits', 'gpt_greedy_cfg', 'vq_codes', 'vq_decoded'],
  );
  for (const r of results) assert.ok(r.ok, `${r.name}: error ${r.error} > ${r.tolerance}`);
});
