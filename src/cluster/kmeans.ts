// Clustering of codebook vectors into coarse labels: k-means (k-means++ init + Lloyd), balanced
// k-means (equal cluster sizes, as IAR) and random balanced assignment (ablation). Distances go
// through one matmul per iteration: ‖x‖² − 2x·c + ‖c‖².
import * as T from '../torch/index.js';
import { Rng } from '../data/rng.js';

export type ClusterMethod = 'kmeans' | 'balanced' | 'random';
export const CLUSTER_METHODS: readonly ClusterMethod[] = ['kmeans', 'balanced', 'random'];

export interface ClusterResult {
  method: ClusterMethod;
  /** cluster of every input vector, [N] */
  assignment: Int32Array;
  /** [K, D] row-major */
  centroids: Float32Array;
  k: number;
  dim: number;
  /** Σ‖x − c(x)‖² */
  inertia: number;
  iterations: number;
}

export interface KMeansOptions {
  method?: ClusterMethod;
  seed?: number;
  maxIters?: number;
}

/** Squared distances [N, K] between rows of x [N, D] and c [K, D]. */
function sqDistances(x: T.Tensor, c: T.Tensor): T.Tensor {
  return x
    .square()
    .sum(1, true)
    .sub(x.matmul(c.transpose(0, 1)).mul(2))
    .add(c.square().sum(1).unsqueeze(0))
    .clamp(0);
}

function kmeansPlusPlus(x: T.Tensor, k: number): T.Tensor {
  const n = x.size(0);
  const first = T.randint(0, n, [1]);
  const chosen: T.Tensor[] = [T.keep(x.indexSelect(0, first))];
  let minD = T.keep(sqDistances(x, chosen[0]!).squeeze(1));
  for (let i = 1; i < k; i++) {
    T.tidy(() => {
      const total = minD.sum().item();
      // all points coincide with chosen centers: fall back to a uniform draw
      const idx = total > 0 ? T.multinomial(minD.unsqueeze(0), 1).squeeze(0) : T.randint(0, n, [1]);
      const c = T.keep(x.indexSelect(0, idx));
      chosen.push(c);
      const next = T.keep(minD.minimum(sqDistances(x, c).squeeze(1)));
      minD.dispose();
      minD = next;
    });
  }
  minD.dispose();
  const out = T.cat(chosen, 0);
  T.dispose(chosen);
  return out;
}

/** Centroids as member means; an empty cluster keeps its old centroid. */
function updateCentroids(x: T.Tensor, assign: T.Tensor, old: T.Tensor): T.Tensor {
  const k = old.size(0);
  const sums = T.zeros([k, x.size(1)]).indexAdd(0, assign, x);
  const counts = T.zeros([k])
    .indexAdd(0, assign, T.ones([x.size(0)]))
    .unsqueeze(1);
  return T.where(counts.gt(0), sums.div(counts.clamp(1)), old);
}

/**
 * Assignment under equal capacities (sizes differ by at most one): (point, cluster) pairs in order
 * of distance, each point taking the nearest cluster that still has room. Only each point's
 * `reach` nearest clusters are ranked (a full N·K sort is needlessly slow); the rare point whose
 * near clusters all fill up takes the nearest cluster with room.
 */
function balancedAssign(dist: T.Tensor, reach = 16): Int32Array {
  const [n, k] = dist.shape as [number, number];
  const m = Math.min(k, reach);
  const near = dist.topk(m, 1, false);
  const order = near.values.reshape(-1).sort(0).indices.toInt32Array();
  const cluster = near.indices.reshape(-1).toInt32Array();
  const base = Math.floor(n / k);
  let extra = n % k; // clusters allowed base + 1 members
  const size = new Int32Array(k);
  const out = new Int32Array(n).fill(-1);
  const take = (p: number, c: number): boolean => {
    if (size[c]! < base || (size[c] === base && extra > 0)) {
      if (size[c] === base) extra--;
      size[c]!++;
      out[p] = c;
      return true;
    }
    return false;
  };
  for (const pair of order) {
    const p = Math.floor(pair / m);
    if (out[p] === -1) take(p, cluster[pair]!);
  }
  const left = Array.from(out.keys()).filter((p) => out[p] === -1);
  if (left.length) {
    const rows = dist
      .indexSelect(0, T.fromArray(Int32Array.from(left), [left.length], 'int64'))
      .sort(1)
      .indices.toInt32Array();
    left.forEach((p, i) => {
      for (let j = 0; j < k && !take(p, rows[i * k + j]!); j++);
    });
  }
  return out;
}

export function clusterVectors(vectors: T.Tensor, k: number, opts: KMeansOptions = {}): ClusterResult {
  const method = opts.method ?? 'kmeans';
  const n = vectors.size(0);
  if (!Number.isInteger(k) || k < 1) throw new Error(`number of clusters must be a positive integer, got ${k}`);
  if (k >= n) throw new Error(`number of clusters (${k}) must be smaller than the number of codes (${n}); use fewer clusters`);
  const seed = opts.seed ?? 0;
  T.manualSeed(seed);
  return T.noGrad(() =>
    T.tidy(() => {
      const x = vectors.float();
      if (method === 'random') {
        const perm = new Rng(seed).permutation(n);
        const assignment = new Int32Array(n);
        perm.forEach((p, i) => (assignment[p] = i % k));
        return finish(x, assignment, k, method, 0);
      }
      let centroids = T.keep(kmeansPlusPlus(x, k));
      let assignment: Int32Array = new Int32Array(n);
      let iterations = 0;
      const maxIters = opts.maxIters ?? (method === 'balanced' ? 30 : 100);
      for (; iterations < maxIters; iterations++) {
        const next = T.tidy(() => {
          const dist = sqDistances(x, centroids);
          return method === 'balanced' ? balancedAssign(dist) : dist.argmin(1).toInt32Array();
        });
        // balanced assignment can cycle between equal-cost solutions: stop when few codes move
        const moved = next.reduce((acc, v, i) => acc + (v !== assignment[i] ? 1 : 0), 0);
        const changed = iterations === 0 || (method === 'balanced' ? moved > n * 1e-3 : moved > 0);
        assignment = next;
        const updated = T.keep(T.tidy(() => updateCentroids(x, T.fromArray(assignment, [n], 'int64'), centroids)));
        centroids.dispose();
        centroids = updated;
        if (!changed) break;
      }
      centroids.dispose();
      return finish(x, assignment, k, method, iterations);
    }),
  );
}

function finish(x: T.Tensor, assignment: Int32Array, k: number, method: ClusterMethod, iterations: number): ClusterResult {
  const assign = T.fromArray(assignment, [assignment.length], 'int64');
  const centroids = updateCentroids(x, assign, T.zeros([k, x.size(1)]));
  const inertia = x.sub(centroids.indexSelect(0, assign)).square().sum().item();
  return { method, assignment, centroids: centroids.toFloat32Array(), k, dim: x.size(1), inertia, iterations };
}
