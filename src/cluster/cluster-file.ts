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

export async function loadClusters(path: string): Promise<Clusters> {
  const { tensors, meta } = await loadCheckpoint(path);
  if (meta.kind !== 'clusters')
    throw new Error(`${path}: not a clusters file (kind '${String(meta.kind)}'); make one with \`ctfgen cluster\``);
  const idx = tensors.get('idx_to_cluster');
  const cen = tensors.get('centroids');
  if (!idx || !cen) throw new Error(`${path}: clusters file lacks idx_to_cluster or centroids`);
  const copy = (r: RawTensor) => r.data.slice().buffer;
  const { kind: _k, ...rest } = meta;
  return {
    ...(rest as Omit<Clusters, 'idxToCluster' | 'centroids'>),
    idxToCluster: new Int32Array(copy(idx)),
    centroids: new Float32Array(copy(cen)),
  };
}
