// LlamaGen's 2-D rotary position embedding. Head channels are split in two halves of frequency
// pairs: the first rotates by the token's grid row, the second by its column. Rotation acts on
// adjacent channel pairs (2i, 2i+1). Class-token slots get cos = sin = 0, zeroing their q and k.
import { arange, cat, stack, zeros, type Tensor } from '../torch/index.js';

export interface RopeTable {
  /** [clsTokenNum + grid², headDim / 2] */
  cos: Tensor;
  sin: Tensor;
}

export function ropeTable2d(gridSize: number, headDim: number, base: number, clsTokenNum: number): RopeTable {
  const half = headDim / 2;
  // freqs = 1 / base^(arange(0, half, 2) / half), computed in float32 as LlamaGen does
  const exponents = arange(0, half, 2, 'float32').div(half);
  const freqs = zeros([1]).add(base).pow(exponents).reciprocal(); // [half / 2]
  const t = arange(0, gridSize, 1, 'float32');
  const outer = t.unsqueeze(1).mul(freqs.unsqueeze(0)); // [grid, half/2]
  const rows = outer.unsqueeze(1).expand(gridSize, gridSize, half / 2);
  const cols = outer.unsqueeze(0).expand(gridSize, gridSize, half / 2);
  const angles = cat([rows, cols], -1).reshape(gridSize * gridSize, half);
  const pad = zeros([clsTokenNum, half]);
  return { cos: cat([pad, angles.cos()], 0), sin: cat([pad, angles.sin()], 0) };
}

/**
 * Rotates x [B, T, H, headDim] with cos/sin [T, headDim/2] (rows already chosen for the
 * positions of x). Computed in float32 and cast back, as LlamaGen's apply_rotary_emb.
 */
export function applyRope(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const [b, t, h, d] = x.shape as [number, number, number, number];
  const xf = x.dtype === 'float32' || x.dtype === 'float64' ? x : x.float();
  const pairs = xf.reshape(b, t, h, d / 2, 2);
  const x0 = pairs.select(-1, 0);
  const x1 = pairs.select(-1, 1);
  const c = cos.reshape(1, t, 1, d / 2);
  const s = sin.reshape(1, t, 1, d / 2);
  const out = stack([x0.mul(c).sub(x1.mul(s)), x1.mul(c).add(x0.mul(s))], -1).reshape(b, t, h, d);
  return out.dtype === x.dtype ? out : out.to(x.dtype);
}
