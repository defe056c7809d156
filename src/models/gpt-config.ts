// LlamaGen GPT configurations (class-conditional, c2i). Field meanings follow LlamaGen's ModelArgs.
export interface GPTConfig {
  dim: number;
  nLayer: number;
  nHead: number;
  /** Key/value heads (grouped-query attention); defaults to nHead. */
  nKvHead?: number;
  /** Output vocabulary: codebook size (fine tokens) or number of clusters (coarse labels). */
  vocabSize: number;
  /** Input token vocabulary when it differs from the output (stage 2 reads coarse labels). */
  inputVocabSize?: number;
  /** 'causal' (autoregressive, default) or 'full' (bidirectional, stage 2's default). */
  attention?: 'causal' | 'full';
  numClasses: number;
  /** Image tokens per sample (grid², e.g. 256 for 16x16). */
  blockSize: number;
  clsTokenNum?: number;
  ffnDimMultiplier?: number | null;
  multipleOf?: number;
  normEps?: number;
  ropeBase?: number;
  tokenDropout?: number;
  attnDropout?: number;
  residDropout?: number;
  ffnDropout?: number;
  /** Probability of replacing the class by the null class in training (CFG). */
  classDropout?: number;
}

export type GPTSize = 'B' | 'L' | 'XL' | 'XXL' | '3B';

export const GPT_SIZES: Record<GPTSize, Pick<GPTConfig, 'nLayer' | 'nHead' | 'dim'>> = {
  B: { nLayer: 12, nHead: 12, dim: 768 },
  L: { nLayer: 24, nHead: 16, dim: 1024 },
  XL: { nLayer: 36, nHead: 20, dim: 1280 },
  XXL: { nLayer: 48, nHead: 24, dim: 1536 },
  '3B': { nLayer: 24, nHead: 32, dim: 3200 },
};

/** LlamaGen's defaults (ModelArgs) for everything a config leaves out. */
export function resolveGPTConfig(c: GPTConfig): Required<GPTConfig> {
  const r: Required<GPTConfig> = {
    nKvHead: c.nHead,
    inputVocabSize: c.vocabSize,
    attention: 'causal',
    clsTokenNum: 1,
    ffnDimMultiplier: c.ffnDimMultiplier ?? null,
    multipleOf: 256,
    normEps: 1e-5,
    ropeBase: 10000,
    tokenDropout: 0.1,
    attnDropout: 0,
    residDropout: 0.1,
    ffnDropout: 0.1,
    classDropout: 0.1,
    ...Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined && v !== null)),
  } as Required<GPTConfig>;
  if (r.attention !== 'causal' && r.attention !== 'full')
    throw new Error(`GPT config: attention must be 'causal' or 'full', got '${r.attention}'`);
  if (r.dim % r.nHead !== 0) throw new Error(`GPT config: dim ${r.dim} is not divisible by nHead ${r.nHead}`);
  if ((r.dim / r.nHead) % 4 !== 0) throw new Error(`GPT config: head dim ${r.dim / r.nHead} must be a multiple of 4 for 2-D RoPE`);
  if (r.nHead % r.nKvHead !== 0) throw new Error(`GPT config: nHead ${r.nHead} is not a multiple of nKvHead ${r.nKvHead}`);
  const grid = Math.round(Math.sqrt(r.blockSize));
  if (grid * grid !== r.blockSize) throw new Error(`GPT config: blockSize ${r.blockSize} is not a square number of tokens`);
  for (const k of ['dim', 'nLayer', 'nHead', 'vocabSize', 'inputVocabSize', 'numClasses', 'blockSize'] as const)
    if (!Number.isInteger(r[k]) || r[k] < 1) throw new Error(`GPT config: ${k} must be a positive integer, got ${r[k]}`);
  return r;
}

/** FFN hidden width: roundUpToMultiple(floor(2·4·dim/3) [× multiplier], multipleOf). */
export function ffnHidden(c: Required<GPTConfig>): number {
  let hidden = Math.floor((2 * 4 * c.dim) / 3);
  if (c.ffnDimMultiplier !== null) hidden = Math.floor(c.ffnDimMultiplier * hidden);
  return Math.ceil(hidden / c.multipleOf) * c.multipleOf;
}

export function gptConfigForSize(size: GPTSize, rest: Omit<GPTConfig, 'nLayer' | 'nHead' | 'dim'>): GPTConfig {
  const s = GPT_SIZES[size];
  if (!s) throw new Error(`unknown GPT size '${size}' (use ${Object.keys(GPT_SIZES).join(', ')})`);
  return { ...s, ...rest };
}
