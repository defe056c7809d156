// Sampling rules: top-k 1 is argmax, the inverse-CDF draw follows the softmax and never picks a
// token of probability 0, CFG scale 1 is the conditional model, teacher forcing keeps the given
// tokens, restricted stage-2 output always lies in the sampled cluster with the softmax-over-members
// distribution, stage 1 never draws a coarse label without codes, and an image's tokens depend on
// (seed, image index) only — not on the batch it is drawn in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';
import { GPT } from '../../src/models/gpt.js';
import { combineCfg, drawTokens, filterLogits } from '../../src/models/sampling.js';
import { generate } from '../../src/models/generate.js';
import {
  SAMPLING_DEFAULTS,
  codeClusters,
  logitsWithinClusters,
  resolveSampling,
  sampleTokens,
  type TokenModels,
} from '../../src/ctf/index.js';
import { imageSeed, imageUniforms } from '../../src/sample/seeds.js';

function model(vocab: number, input?: number, attention: 'causal' | 'full' = 'causal'): GPT {
  const m = new GPT({ dim: 32, nLayer: 1, nHead: 2, vocabSize: vocab, inputVocabSize: input, numClasses: 3, blockSize: 16, attention });
  T.noGrad(() => m.output.weight.normal_(0, 1));
  return m.eval();
}

const uniformsFor = (b: number, n: number, seed = 0) =>
  imageUniforms(
    seed,
    Array.from({ length: b }, (_, i) => i),
    n,
  );

test('top-k 1 equals argmax; top-k and top-p keep the right tokens; CFG combination', () => {
  T.manualSeed(0);
  const logits = T.randn([6, 10]);
  assert.deepEqual(drawTokens(logits, T.rand([6], 'float64'), { topK: 1, temperature: 5 }).toArray(), logits.argmax(-1).toArray());
  const kept = filterLogits(T.tensor([[1, 4, 2, 3]]), 2, 1).toArray();
  assert.deepEqual(kept, [-Infinity, 4, -Infinity, 3]);
  // probs of [3, 2, 1, 0]-logits ≈ [.64, .24, .09, .03]: top-p 0.7 keeps the first two
  const p = filterLogits(T.tensor([[3, 2, 1, 0]]), 0, 0.7).toArray();
  assert.deepEqual(
    p.map((x) => Number.isFinite(x)),
    [true, true, false, false],
  );
  const u = T.rand([200], 'float64');
  const drawn = drawTokens(T.tensor([[0, 5, 0, 4.5]]).expand(200, 4), u, { topK: 2 }).toArray();
  assert.ok(drawn.every((s) => s === 1 || s === 3));
  assert.deepEqual(
    combineCfg(
      T.tensor([
        [2, 0],
        [1, 1],
      ]),
      3,
    ).toArray(),
    [4, -2],
  );
});

test('the inverse-CDF draw follows the softmax, never draws a token of probability 0, and names the stage on bad logits', () => {
  const logits = T.tensor([[0.3, -Infinity, 1.2, 0, -Infinity, 2]]);
  const n = 40000;
  const u = uniformsFor(1, n).reshape(n);
  const drawn = drawTokens(logits.expand(n, 6), u, {}).toArray();
  const z = logits.toArray().map((x) => Math.exp(x));
  const total = z.reduce((a, b) => a + b, 0);
  const counts = new Array(6).fill(0);
  for (const d of drawn) counts[d]++;
  counts.forEach((c, i) => {
    const p = z[i]! / total;
    if (p === 0) assert.equal(c, 0, `token ${i} has probability 0 but was drawn ${c} times`);
    else assert.ok(Math.abs(c / n - p) < 4 * Math.sqrt((p * (1 - p)) / n), `token ${i}: frequency ${c / n} vs probability ${p}`);
  });
  // the same uniforms give the same tokens; u at the edges stays inside the vocabulary
  assert.deepEqual(drawTokens(logits.expand(n, 6), u, {}).toArray(), drawn);
  const edges = drawTokens(logits.expand(2, 6), T.tensor([0, 1 - 1e-16], 'float64'), {}).toArray();
  assert.deepEqual(edges, [0, 5]);
  assert.throws(
    () => drawTokens(T.tensor([[0, NaN, 1]]), T.tensor([0.5], 'float64'), {}, 'stage 2'),
    /stage 2: the logits of row 0 hold NaN or Inf, or allow no token/,
  );
  assert.throws(() => drawTokens(T.tensor([[-Infinity, -Infinity]]), T.tensor([0.5], 'float64'), {}, 'stage 1, token 3'), /stage 1, token 3/);
});

test('CFG scale 1 equals the conditional model alone, drawn with the same uniforms', () => {
  const m = model(12);
  const classes = T.tensor([0, 1, 2], 'int64');
  const u = uniformsFor(3, 16, 4);
  const a = generate(m, classes, { cfg: 1, temperature: 1, uniforms: u }).toArray();
  // the conditional model alone, step by step with the same draws
  const cache = m.newCache(3);
  const tokens: number[][] = [[], [], []];
  T.noGrad(() => {
    let logits = m.prefill(classes, cache);
    for (let s = 0; s < 16; s++) {
      const next = drawTokens(logits, u.select(1, s));
      next.toArray().forEach((t, b) => tokens[b]!.push(t));
      if (s < 15) logits = m.decodeStep(next, cache);
    }
  });
  cache.dispose();
  assert.deepEqual(a, tokens.flat());
  m.dispose();
});

test('teacher forcing keeps the forced tokens and conditions the free ones on them', () => {
  const m = model(12);
  const classes = T.tensor([0, 1], 'int64');
  const u = uniformsFor(2, 16, 7);
  const given = T.randint(0, 12, [2, 16]);
  const mask = Array.from({ length: 16 }, (_, i) => i < 5 || i >= 11);
  for (const useCache of [true, false]) {
    const out = generate(m, classes, { cfg: 2, uniforms: u, forced: { tokens: given, mask }, useCache }).toArray();
    for (let b = 0; b < 2; b++)
      for (let i = 0; i < 16; i++) if (mask[i]) assert.equal(out[b * 16 + i], given.toArray()[b * 16 + i], `row ${b} position ${i}`);
    // the free positions are drawn after the forced prefix: the same as sampling with that prefix forced alone
    const prefixOnly = generate(m, classes, { cfg: 2, uniforms: u, forced: { tokens: given, mask: mask.map((x, i) => x && i < 11) }, useCache });
    const a = prefixOnly.toArray();
    for (let b = 0; b < 2; b++) for (let i = 5; i < 11; i++) assert.equal(out[b * 16 + i], a[b * 16 + i]);
  }
  const all = generate(m, classes, { uniforms: u, forced: { tokens: given, mask: new Array(16).fill(true) } }).toArray();
  assert.deepEqual(all, given.toArray());
  m.dispose();
});

test('restricted stage-2 output always lies in the sampled cluster; baseline path; bad settings named', () => {
  T.manualSeed(2);
  const k = 4;
  const V = 20;
  const clusters = codeClusters(
    Array.from({ length: V }, (_, i) => i % k),
    k,
  );
  const ctf: TokenModels = { kind: 'ctf', stage1: model(k), stage2: model(V, k, 'full'), clusters };
  const classes = T.tensor([0, 1, 2, 0], 'int64');
  const uniforms = uniformsFor(4, 32);
  for (const cfg of [1, 2]) {
    const r = sampleTokens(ctf, classes, resolveSampling({ stage2: { restrict: true, cfg } }), { uniforms });
    const fine = r.fine.toArray();
    const coarse = r.coarse!.toArray();
    assert.equal(fine.length, 4 * 16);
    fine.forEach((f, i) => assert.equal(f % k, coarse[i], `position ${i}: code ${f} not in cluster ${coarse[i]}`));
  }
  const base = sampleTokens({ kind: 'baseline', baseline: model(V) }, classes, SAMPLING_DEFAULTS, { uniforms });
  assert.deepEqual(base.fine.shape, [4, 16]);
  assert.equal(base.coarse, undefined);
  assert.throws(() => sampleTokens(ctf, classes, resolveSampling({ temperature: -1 }), { uniforms }), /stage 1: temperature must be a finite number ≥ 0/);
  assert.throws(() => sampleTokens(ctf, classes, resolveSampling({ stage2: { topK: -2 } }), { uniforms }), /stage 2: top-k/);
  assert.throws(
    () => sampleTokens(ctf, classes, resolveSampling({ cfgSchedule: 'bogus' as 'linear' }), { uniforms }),
    /cfg schedule must be constant or linear, got 'bogus'/,
  );
  assert.throws(() => codeClusters([0, 4], 4), /code 1 has label 4, outside 0\.\.3/);
  clusters.dispose();
});

test('sampling within clusters: the distribution of softmax over the members; argmax = argmax of masked logits', () => {
  // 10 codes in 3 labels (label 2 has one code); 2 positions, labelled 0 and 1, each drawn 20,000 times
  const labels = [0, 1, 0, 1, 0, 2, 1, 0, 1, 1];
  const table = codeClusters(labels, 3);
  assert.deepEqual(table.members.shape, [3, 5]);
  const logits = T.tensor([
    [0.5, 9, 1.5, 9, -1, 9, 9, 0, 9, 9],
    [9, 0.2, 9, -0.5, 9, 9, 1, 9, 0.7, 0],
  ]);
  const n = 20000;
  const rows = T.tensor([0, 1], 'int64').repeatInterleave(n, 0);
  const within = (l: T.Tensor, coarse: T.Tensor, u: T.Tensor, greedy = false) => {
    const own = logitsWithinClusters(table, l, coarse);
    return own.codes.gather(1, drawTokens(own.logits, u, { greedy }).unsqueeze(1)).squeeze(1);
  };
  const drawn = within(logits.indexSelect(0, rows), rows, uniformsFor(1, 2 * n).reshape(2 * n)).toArray();
  for (const [row, label] of [
    [0, 0],
    [1, 1],
  ] as const) {
    const members = labels.flatMap((l, code) => (l === label ? [code] : []));
    const z = members.map((c) => Math.exp(logits.toArray()[row * 10 + c]!));
    const total = z.reduce((a, b) => a + b, 0);
    const counts = new Map<number, number>();
    drawn.slice(row * n, (row + 1) * n).forEach((c) => counts.set(c, (counts.get(c) ?? 0) + 1));
    assert.deepEqual([...counts.keys()].sort(), [...members].sort(), `row ${row} draws only members of label ${label}`);
    members.forEach((c, j) => {
      const p = z[j]! / total;
      const f = counts.get(c)! / n;
      assert.ok(Math.abs(f - p) < 4 * Math.sqrt((p * (1 - p)) / n) + 1e-3, `code ${c}: frequency ${f} vs probability ${p}`);
    });
  }
  const half = T.full([2], 0.5, 'float64');
  assert.deepEqual(within(logits, T.tensor([0, 1], 'int64'), half, true).toArray(), [2, 6]);
  assert.deepEqual(within(logits, T.tensor([2, 2], 'int64'), half).toArray(), [5, 5]);
});

test('CTF stage 1 never draws a coarse label that has no codes', () => {
  const V = 12;
  // labels 1 and 3 of 4 are empty
  const clusters = codeClusters(
    Array.from({ length: V }, (_, i) => (i % 2) * 2),
    4,
  );
  assert.deepEqual(clusters.nonEmpty.toArray(), [1, 0, 1, 0]);
  const models: TokenModels = { kind: 'ctf', stage1: model(4), stage2: model(V, 4, 'full'), clusters };
  const r = sampleTokens(models, T.tensor([0, 1, 2, 0, 1, 2], 'int64'), resolveSampling({ temperature: 3 }), { uniforms: uniformsFor(6, 32, 4) });
  const coarse = r.coarse!.toArray();
  assert.ok(
    coarse.every((c) => c === 0 || c === 2),
    `coarse labels ${[...new Set(coarse)]}`,
  );
  r.fine.toArray().forEach((f, i) => assert.equal((f % 2) * 2, coarse[i]));
});

test('an image depends on (seed, index) only: the same tokens in one batch of 6 or batches of 2 and 4', () => {
  T.manualSeed(9);
  const clusters = codeClusters(
    Array.from({ length: 20 }, (_, i) => i % 4),
    4,
  );
  const models: TokenModels = { kind: 'ctf', stage1: model(4), stage2: model(20, 4, 'full'), clusters };
  const classes = [0, 1, 2, 2, 1, 0];
  const draw = (indices: number[], seed: number) =>
    sampleTokens(
      models,
      T.tensor(
        indices.map((i) => classes[i]!),
        'int64',
      ),
      SAMPLING_DEFAULTS,
      { uniforms: imageUniforms(seed, indices, 32) },
    ).fine.toArray();
  const whole = draw([0, 1, 2, 3, 4, 5], 3);
  T.manualSeed(1234); // the thread's generator plays no part
  const parts = [...draw([0, 1], 3), ...draw([2, 3, 4, 5], 3)];
  assert.deepEqual(parts, whole);
  assert.notDeepEqual(draw([0, 1, 2, 3, 4, 5], 4), whole);
  assert.notEqual(imageSeed(3, 0), imageSeed(3, 1));
  assert.notEqual(imageSeed(3, 0), imageSeed(4, 0));
  assert.throws(() => imageSeed(-1, 0), /seed must be a non-negative integer/);
  clusters.dispose();
});
