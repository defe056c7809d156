// Codebook clustering: planted clusters, balanced sizes, determinism, errors, file round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '../../src/torch/index.js';
import { clusterVectors } from '../../src/cluster/kmeans.js';
import { clusterCodebook, clusterMembers, loadClusters, saveClusters } from '../../src/cluster/clusters.js';

/** 6 well-separated centres in 4-D, 40 noisy points each; returns points and true labels. */
function planted(): { x: T.Tensor; labels: number[] } {
  T.manualSeed(3);
  const centres = T.randn([6, 4]).mul(10);
  const labels = Array.from({ length: 240 }, (_, i) => i % 6);
  const idx = T.tensor(labels, 'int64');
  const x = T.keep(centres.indexSelect(0, idx).add(T.randn([240, 4]).mul(0.1)));
  return { x, labels };
}

/** Same partition up to renaming of clusters. */
function samePartition(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  const map = new Map<number, number>();
  const inv = new Map<number, number>();
  for (let i = 0; i < a.length; i++) {
    if ((map.get(a[i]!) ?? b[i]) !== b[i] || (inv.get(b[i]!) ?? a[i]) !== a[i]) return false;
    map.set(a[i]!, b[i]!);
    inv.set(b[i]!, a[i]!);
  }
  return true;
}

test('k-means recovers planted clusters', () => {
  const { x, labels } = planted();
  for (const seed of [0, 1, 2]) {
    const r = clusterVectors(x, 6, { seed });
    assert.ok(samePartition(r.assignment, labels), `seed ${seed}`);
    assert.ok(r.inertia < 240 * 4 * 0.01 * 2);
  }
  x.dispose();
});

test('balanced k-means gives sizes differing by at most one and still finds planted structure', () => {
  const { x, labels } = planted();
  const r = clusterVectors(x, 6, { method: 'balanced', seed: 0 });
  assert.ok(samePartition(r.assignment, labels));
  const r7 = clusterVectors(x, 7, { method: 'balanced', seed: 0 });
  const sizes = clusterMembers(r7.assignment, 7).map((m) => m.length);
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `sizes ${sizes}`);
  const rr = clusterVectors(x, 7, { method: 'random', seed: 0 });
  const rsizes = clusterMembers(rr.assignment, 7).map((m) => m.length);
  assert.ok(Math.max(...rsizes) - Math.min(...rsizes) <= 1);
  assert.ok(!samePartition(rr.assignment, labels));
  x.dispose();
});

test('clustering is deterministic under a seed and errors are clear', () => {
  T.manualSeed(0);
  const x = T.keep(T.randn([200, 8]));
  const a = clusterVectors(x, 10, { seed: 5 });
  const b = clusterVectors(x, 10, { seed: 5 });
  assert.deepEqual(a.assignment, b.assignment);
  assert.throws(() => clusterVectors(x, 200), /must be smaller than the number of codes \(200\)/);
  assert.throws(() => clusterVectors(x, 0), /positive integer/);
  x.dispose();
});

test('codebook clustering labels every code, restricts to used codes, and round-trips to disk', async () => {
  T.manualSeed(1);
  const codebook = T.keep(T.randn([300, 8]).mul(3));
  const used = Int32Array.from({ length: 100 }, (_, i) => i * 3);
  const c = clusterCodebook(codebook, 16, { seed: 2, restrictTo: used, tokenizerId: 'abc' });
  assert.equal(c.idxToCluster.length, 300);
  assert.ok(c.idxToCluster.every((l) => l >= 0 && l < 16));
  assert.equal(c.stats.clusteredCodes, 100);
  assert.ok(c.stats.meanSpread < c.stats.meanPairDistance);
  const file = join(mkdtempSync(join(tmpdir(), 'ctf-cl-')), 'c.safetensors');
  await saveClusters(file, c);
  const back = await loadClusters(file);
  assert.deepEqual(back.idxToCluster, c.idxToCluster);
  assert.deepEqual(back.centroids, c.centroids);
  assert.equal(back.id, c.id);
  assert.equal(back.tokenizerId, 'abc');
  codebook.dispose();
});
