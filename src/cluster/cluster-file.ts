// The cluster file: a codebook's coarse labels (idxToCluster), centroids and statistics, as a small
// ctfgen safetensors file referenced by id (a hash of the mapping) from later stages. No engine
// needed to read or write it.
import { loadCheckpoint, saveCheckpoint, type RawTensor } from '../io/index.js';
import type { ClusterMethod } from './kmeans.js';

export interface ClusterStats {
  sizes: { min: number; max: number; mean: number; empty: number };
  /** Σ‖x − c(x)‖² over clustered codes (normalised codewords) */
  inertia: number;
  /** mean distance of a code to its centroid */
  meanSpread: number;
  /** mean distance between a code and a random code (scale for meanSpread) */
  meanPairDistance: number;
  iterations: number;
  clusteredCodes: number;
}

export interface Clusters {
  id: string;
  method: ClusterMethod;
  k: number;
  seed: number;
  /** id of the codebook the clusters were made from */
  tokenizerId: string;
  /** [V] cluster of every code */
  idxToCluster: Int32Array;
  /** [K, D] centroids of the normalised codewords */
  centroids: Float32Array;
  dim: number;
  stats: ClusterStats;
}

/** Members of every cluster: members[c] lists the codes with label c. */
export function clusterMembers(idxToCluster: Int32Array, k: number): Int32Array[] {
  const lists: number[][] = Array.from({ length: k }, () => []);
  idxToCluster.forEach((c, code) => lists[c]!.push(code));
  return lists.map((l) => Int32Array.from(l));
}

const bytes = (a: Int32Array | Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export async function saveClusters(path: string, c: Clusters): Promise<void> {
  const tensors = new Map<string, RawTensor>([
    ['idx_to_cluster', { dtype: 'int32', shape: [c.idxToCluster.length], data: bytes(c.idxToCluster) }],
    ['centroids', { dtype: 'float32', shape: [c.k, c.dim], data: bytes(c.centroids) }],
  ]);
  const { idxToCluster: _i, centroids: _c, ...meta } = c;
  await saveCheckpoint(path, tensors, { kind: 'clusters', ...meta });
}

/** Reads a cluster file, checking its tensors against its metadata (errors name the file). */
export async function loadClusters(path: string): Promise<Clusters> {
  const { tensors, meta } = await loadCheckpoint(path);
  if (meta.kind !== 'clusters')
    throw new Error(`${path}: not a clusters file (kind '${String(meta.kind)}'); make one with \`ctfgen cluster\``);
  const idx = tensors.get('idx_to_cluster');
  const cen = tensors.get('centroids');
  if (!idx || !cen) throw new Error(`${path}: clusters file lacks idx_to_cluster or centroids`);
  const bad = (what: string) => new Error(`${path}: corrupt clusters file: ${what}; make it again with \`ctfgen cluster\``);
  const k = meta.k;
  if (typeof k !== 'number' || !Number.isSafeInteger(k) || k < 1) throw bad(`k is ${JSON.stringify(k)}`);
  if (idx.dtype !== 'int32' || idx.shape.length !== 1)
    throw bad(`idx_to_cluster must be int32 [codes], found ${idx.dtype} [${idx.shape.join(', ')}]`);
  if (cen.dtype !== 'float32' || cen.shape.length !== 2 || cen.shape[0] !== k || cen.shape[1] !== meta.dim)
    throw bad(`centroids must be float32 [${k}, ${String(meta.dim)}], found ${cen.dtype} [${cen.shape.join(', ')}]`);
  const copy = (r: RawTensor) => r.data.slice().buffer;
  const idxToCluster = new Int32Array(copy(idx));
  const out = idxToCluster.findIndex((c) => c < 0 || c >= k);
  if (out >= 0) throw bad(`code ${out} has label ${idxToCluster[out]}, not one of its ${k} clusters`);
  const { kind: _k, ...rest } = meta;
  return {
    ...(rest as Omit<Clusters, 'idxToCluster' | 'centroids'>),
    idxToCluster,
    centroids: new Float32Array(copy(cen)),
  };
}
