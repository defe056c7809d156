// The paper's Figure 1b, measured: replace every token of an image by (a) a random other member
// of its own cluster, (b) a random code from another cluster, (c) a uniformly random code; decode
// each and compare with the decode of the original codes. If similar codewords are redundant,
// (a) hurts far less than (b) and (c).
import { Rng } from '../data/rng.js';
import * as T from '../torch/index.js';
import type { VQModel } from '../tokenizer/vq-model.js';
import { clusterMembers } from './clusters.js';

export type Swap = 'same-cluster' | 'other-cluster' | 'random';
export const SWAPS: Swap[] = ['same-cluster', 'other-cluster', 'random'];

export interface SwapError {
  swap: Swap;
  mse: number;
  psnr: number;
}

/** Codes [N·L] with every token replaced according to `swap`. */
export function swapCodes(codes: Int32Array, idxToCluster: Int32Array, k: number, swap: Swap, rng: Rng): Int32Array {
  const V = idxToCluster.length;
  const members = clusterMembers(idxToCluster, k);
  return codes.map((code) => {
    const c = idxToCluster[code]!;
    const own = members[c]!;
    if (swap === 'random') return rng.int(V);
    if (swap === 'same-cluster') {
      if (own.length === 1) return code;
      // a uniformly random member other than the code itself
      let j = rng.int(own.length - 1);
      if (j >= own.indexOf(code)) j++;
      return own[j]!;
    }
    // other cluster: a uniformly random code outside the own cluster
    for (;;) {
      const r = rng.int(V);
      if (idxToCluster[r] !== c) return r;
    }
  });
}

export interface RedundancyResult {
  k: number;
  errors: SwapError[];
  /** [N·4, C, H, W]: per image original | same | other | random (first `gridImages` images) */
  grid: Float32Array;
  gridShape: [number, number, number, number];
}

/**
 * codes int32 [N, h, w] of test images; returns decode errors against the original decode.
 */
export function redundancyExperiment(
  model: VQModel,
  codes: Int32Array,
  shape: [number, number, number],
  idxToCluster: Int32Array,
  k: number,
  opts: { seed?: number; gridImages?: number; batchSize?: number } = {},
): RedundancyResult {
  const [n, h, w] = shape;
  const rng = new Rng(opts.seed ?? 0, k);
  const variants = [codes, ...SWAPS.map((s) => swapCodes(codes, idxToCluster, k, s, rng))];
  const bs = opts.batchSize ?? 64;
  const se = new Float64Array(SWAPS.length);
  const g = Math.min(opts.gridImages ?? 6, n);
  const gridParts: Float32Array[][] = Array.from({ length: g }, () => []);
  let imgShape: [number, number, number] = [0, 0, 0];
  let pixels = 0;
  T.noGrad(() => {
    for (let from = 0; from < n; from += bs) {
      const m = Math.min(bs, n - from);
      T.tidy(() => {
        const decoded = variants.map((v) =>
          model.decodeCodes(T.fromArray(v.subarray(from * h * w, (from + m) * h * w), [m, h, w], 'int64')).clamp(-1, 1),
        );
        const ref = decoded[0]!;
        imgShape = ref.shape.slice(1) as [number, number, number];
        pixels += ref.numel;
        SWAPS.forEach((_, s) => (se[s]! += decoded[s + 1]!.sub(ref).square().sum().item()));
        for (let i = from; i < Math.min(from + m, g); i++)
          for (const d of decoded) gridParts[i]!.push(d.select(0, i - from).toFloat32Array());
      });
    }
  });
  const errors = SWAPS.map((swap, s) => {
    const mse = se[s]! / pixels;
    return { swap, mse, psnr: 10 * Math.log10(4 / mse) };
  });
  const flat = gridParts.flat();
  const grid = new Float32Array(flat.reduce((a, p) => a + p.length, 0));
  flat.reduce((off, p) => (grid.set(p, off), off + p.length), 0);
  return { k, errors, grid, gridShape: [flat.length, ...imgShape] };
}

/** Images of the members of sampled clusters: each code decoded as a flat token map (all tokens = that code). */
export function clusterPicture(
  model: VQModel,
  idxToCluster: Int32Array,
  k: number,
  opts: { rows?: number; cols?: number; grid?: number; seed?: number } = {},
) {
  const rows = Math.min(opts.rows ?? 8, k);
  const cols = opts.cols ?? 10;
  const gsz = opts.grid ?? 2;
  const rng = new Rng(opts.seed ?? 0);
  const members = clusterMembers(idxToCluster, k);
  const bySize = [...members.keys()].filter((c) => members[c]!.length > 1);
  const chosen = rng.shuffle(bySize.slice()).slice(0, rows);
  const codes: number[] = [];
  const labels: string[] = [];
  for (const c of chosen) {
    const m = rng.shuffle(Array.from(members[c]!)).slice(0, cols);
    labels.push(`cluster ${c} (${members[c]!.length})`);
    for (let j = 0; j < cols; j++) codes.push(m[j] ?? -1);
  }
  const images = T.noGrad(() =>
    T.tidy(() => {
      const maps = T.fromArray(
        Float64Array.from(codes, (c) => Math.max(c, 0)),
        [codes.length],
        'int64',
      )
        .reshape(codes.length, 1, 1)
        .expand(codes.length, gsz, gsz)
        .contiguous();
      const out = model.decodeCodes(maps).clamp(-1, 1);
      // empty cells (cluster smaller than cols) become background
      const keepMask = T.tensor(codes.map((c) => (c >= 0 ? 1 : 0))).reshape(codes.length, 1, 1, 1);
      return { data: out.mul(keepMask).add(keepMask.sub(1).neg()).toFloat32Array(), shape: out.shape as [number, number, number, number] };
    }),
  );
  return { images: images.data, shape: images.shape, rowLabels: labels, cols };
}
