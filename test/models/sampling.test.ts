// Sampling rules: top-k 1 is argmax, CFG scale 1 is the conditional model, filters keep the right
// tokens, restricted stage-2 output always lies in the sampled cluster with the softmax-over-members
// distribution, and stage 1 never draws a coarse label without codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';
import { GPT } from '../../src/models/gpt.js';
import { filterLogits, sampleLogits, combineCfg } from '../../src/sample/logits.js';
import { generate } from '../../src/sample/generate.js';
import { sampleTokens } from '../../src/sample/two-stage.js';
import { clusterTable, sampleWithinClusters } from '../../src/sample/cluster-table.js';

function model(vocab: number, input?: number, attention: 'causal' | 'full' = 'causal'): GPT {
  const m = new GPT({ dim: 32, nLayer: 1, nHead: 2, vocabSize: vocab, inputVocabSize: input, numClasses: 3, blockSize: 16, attention });
  T.noGrad(() => m.output.weight.normal_(0, 1));
  return m.eval();
}

test('top-k 1 equals argmax; top-k and top-p keep the right tokens', () => {
  T.manualSeed(0);
  const logits = T.randn([6, 10]);
  assert.deepEqual(sampleLogits(logits, { topK: 1, temperature: 5 }).toArray(), logits.argmax(-1).toArray());
  const kept = filterLogits(T.tensor([[1, 4, 2, 3]]), 2, 1).toArray();
  assert.deepEqual(kept, [-Infinity, 4, -Infinity, 3]);
  // probs of [3, 2, 1, 0]-logits ≈ [.64, .24, .09, .03]: top-p 0.7 keeps the first two
  const p = filterLogits(T.tensor([[3, 2, 1, 0]]), 0, 0.7).toArray();
  assert.deepEqual(
    p.map((x) => Number.isFinite(x)),
    [true, true, false, false],
  );
  for (let i = 0; i < 20; i++) {
    const s = sampleLogits(T.tensor([[0, 5, 0, 4.5]]), { topK: 2 }).item();
    assert.ok(s === 1 || s === 3);
  }
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

test('CFG scale 1 equals the conditional model alone', () => {
  const m = model(12);
  const classes = T.tensor([0, 1, 2], 'int64');
  T.manualSeed(4);
  const a = generate(m, classes, { cfgScale: 1, temperature: 1 }).toArray();
  // the conditional model alone, step by step with the same draws
  T.manualSeed(4);
  const cache = m.newCache(3);
  const tokens: number[][] = [[], [], []];
  T.noGrad(() => {
    let logits = m.prefill(classes, cache);
    for (let s = 0; s < 16; s++) {
      const next = T.multinomial(logits.div(1).softmax(-1), 1).squeeze(1);
      next.toArray().forEach((t, b) => tokens[b]!.push(t));
      if (s < 15) logits = m.decodeStep(next, cache);
    }
  });
  cache.dispose();
  assert.deepEqual(a, tokens.flat());
  m.dispose();
});

test('restricted stage-2 output always lies in the sampled cluster; baseline path works', () => {
  T.manualSeed(2);
  const k = 4;
  const V = 20;
  const clusters = clusterTable(
    Array.from({ length: V }, (_, i) => i % k),
    k,
  );
  const stage1 = model(k);
  const stage2 = model(V, k, 'full');
  const classes = T.tensor([0, 1, 2, 0], 'int64');
  for (const cfg of [1, 2]) {
    const r = sampleTokens({ stage1, stage2, clusters }, classes, { stage2: { restrict: true, cfgScale: cfg } });
    const fine = r.fine.toArray();
    const coarse = r.coarse!.toArray();
    assert.equal(fine.length, 4 * 16);
    fine.forEach((f, i) => assert.equal(f % k, coarse[i], `position ${i}: code ${f} not in cluster ${coarse[i]}`));
  }
  const base = sampleTokens({ stage1: model(V) }, classes);
  assert.deepEqual(base.fine.shape, [4, 16]);
  assert.equal(base.coarse, undefined);
  assert.throws(() => sampleTokens({ stage1, stage2 }, classes), /needs the cluster map/);
  assert.throws(() => generate(stage1, classes, { temperature: -1 }), /temperature must be ≥ 0/);
  assert.throws(() => generate(stage1, classes, { topK: -2 }), /top-k/);
  assert.throws(() => clusterTable([0, 4], 4), /code 1 has label 4, outside 0\.\.3/);
  clusters.dispose();
});

test('sampling within clusters: the distribution of softmax over the members; argmax = argmax of masked logits', () => {
  T.manualSeed(3);
  // 10 codes in 3 labels (label 2 has one code); 2 positions, labelled 0 and 1, each drawn 20,000 times
  const labels = [0, 1, 0, 1, 0, 2, 1, 0, 1, 1];
  const table = clusterTable(labels, 3);
  assert.deepEqual(table.members.shape, [3, 5]);
  const logits = T.tensor([
    [0.5, 9, 1.5, 9, -1, 9, 9, 0, 9, 9],
    [9, 0.2, 9, -0.5, 9, 9, 1, 9, 0.7, 0],
  ]);
  const n = 20000;
  const rows = T.tensor([0, 1], 'int64').repeatInterleave(n, 0);
  const drawn = sampleWithinClusters(logits.indexSelect(0, rows), rows, table, { temperature: 1 }).toArray();
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
  const greedy = sampleWithinClusters(logits, T.tensor([0, 1], 'int64'), table, { greedy: true }).toArray();
  assert.deepEqual(greedy, [2, 6]);
  assert.deepEqual(sampleWithinClusters(logits, T.tensor([2, 2], 'int64'), table, {}).toArray(), [5, 5]);
});

test('CTF stage 1 never draws a coarse label that has no codes', () => {
  T.manualSeed(4);
  const V = 12;
  // labels 1 and 3 of 4 are empty
  const clusters = clusterTable(
    Array.from({ length: V }, (_, i) => (i % 2) * 2),
    4,
  );
  assert.deepEqual(clusters.nonEmpty.toArray(), [1, 0, 1, 0]);
  const r = sampleTokens({ stage1: model(4), stage2: model(V, 4, 'full'), clusters }, T.tensor([0, 1, 2, 0, 1, 2], 'int64'), {
    stage1: { temperature: 3 },
  });
  const coarse = r.coarse!.toArray();
  assert.ok(
    coarse.every((c) => c === 0 || c === 2),
    `coarse labels ${[...new Set(coarse)]}`,
  );
  r.fine.toArray().forEach((f, i) => assert.equal((f % 2) * 2, coarse[i]));
});
