// LlamaGen VQ tokenizer configurations: the fields of LlamaGen's ModelArgs
// (tokenizer/tokenizer_image/vq_model.py) plus the Encoder/Decoder arguments LlamaGen leaves at
// their defaults (ch 128, num_res_blocks 2, 3 image channels).

export interface VQConfig {
  /** Codebook rows (LlamaGen codebook_size). */
  codebookSize: number;
  /** Width of a code vector (codebook_embed_dim). */
  codebookDim: number;
  /** Base channel width of encoder and decoder (LlamaGen's Encoder/Decoder default: 128). */
  ch: number;
  /** Channel multipliers per resolution level of the encoder (and of the decoder unless decoderChMult is given). */
  chMult: number[];
  /** Decoder multipliers (LlamaGen decoder_ch_mult), listed from the finest level like chMult. Default: chMult. */
  decoderChMult?: number[];
  /** Channels between encoder/decoder and quant_conv/post_quant_conv (z_channels). */
  zChannels: number;
  /** ResnetBlocks per encoder level (the decoder has one more per level). Default 2. */
  numResBlocks?: number;
  /** Image channels in and out: 3 (RGB, default) or 1 (grayscale). */
  inChannels?: number;
  /** Dropout inside ResnetBlocks while training (dropout_p). Default 0. */
  dropout?: number;
  /** Training/reference image side; informative (the model runs at any size divisible by the downsample factor). */
  imageSize?: number;
  /** Commitment loss weight β (commit_loss_beta). Default 0.25. */
  commitBeta?: number;
  /** Entropy loss weight (entropy_loss_ratio). Default 0 (off). */
  entropyLossRatio?: number;
  /** l2-normalise z and the codebook rows (codebook_l2_norm). Default true. */
  codebookL2Norm?: boolean;
  /** Keep LlamaGen's `quantize.codebook_used` buffer of recent codes (codebook_show_usage). Default true. */
  showUsage?: boolean;
}

/** A config with every default filled in (imageSize stays optional). */
export type ResolvedVQConfig = Required<Omit<VQConfig, 'imageSize'>> & { imageSize?: number };

/** GroupNorm in every block: 32 groups, eps 1e-6 (LlamaGen's Normalize). */
export const VQ_NORM_GROUPS = 32;
export const VQ_NORM_EPS = 1e-6;
/** Length of LlamaGen's codebook_used buffer. */
export const CODEBOOK_USED_LENGTH = 65536;

/** LlamaGen VQ-16 (vq_ds16_c2i.pt): 16x downsampling, codebook 16384 x 8. */
export const VQ_16: Readonly<VQConfig> = Object.freeze({
  codebookSize: 16384,
  codebookDim: 8,
  ch: 128,
  chMult: [1, 1, 2, 2, 4],
  zChannels: 256,
  numResBlocks: 2,
  inChannels: 3,
  dropout: 0,
});

/** LlamaGen VQ-8: 8x downsampling, otherwise as VQ-16. */
export const VQ_8: Readonly<VQConfig> = Object.freeze({ ...VQ_16, chMult: [1, 2, 2, 4] });

/** LlamaGen's defaults for everything a config leaves out; checks what the architecture needs. */
export function resolveVQConfig(c: VQConfig): ResolvedVQConfig {
  const r: ResolvedVQConfig = {
    numResBlocks: 2,
    inChannels: 3,
    dropout: 0,
    commitBeta: 0.25,
    entropyLossRatio: 0,
    codebookL2Norm: true,
    showUsage: true,
    ...(Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined && v !== null)) as VQConfig),
    decoderChMult: c.decoderChMult ?? c.chMult,
  } as ResolvedVQConfig;
  const posInt = (name: string, v: unknown) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
      throw new Error(`VQ config: ${name} must be a positive integer, got ${String(v)}`);
  };
  for (const k of ['codebookSize', 'codebookDim', 'ch', 'zChannels', 'numResBlocks', 'inChannels'] as const) posInt(k, r[k]);
  if (r.imageSize !== undefined) posInt('imageSize', r.imageSize);
  for (const k of ['chMult', 'decoderChMult'] as const) {
    const m = r[k];
    if (!Array.isArray(m) || m.length === 0) throw new Error(`VQ config: ${k} must be a non-empty array`);
    m.forEach((v, i) => posInt(`${k}[${i}]`, v));
    for (const v of m)
      if ((r.ch * v) % VQ_NORM_GROUPS !== 0)
        throw new Error(
          `VQ config: ${k} gives ${r.ch * v} channels (ch ${r.ch} x ${v}), not divisible by the ${VQ_NORM_GROUPS} GroupNorm groups`,
        );
  }
  if (r.codebookSize > CODEBOOK_USED_LENGTH && r.showUsage)
    throw new Error(`VQ config: codebookSize ${r.codebookSize} exceeds LlamaGen's codebook_used buffer (${CODEBOOK_USED_LENGTH})`);
  if (!(r.dropout >= 0 && r.dropout < 1)) throw new Error(`VQ config: dropout must be in [0, 1), got ${r.dropout}`);
  if (!(r.commitBeta >= 0)) throw new Error(`VQ config: commitBeta must be >= 0, got ${r.commitBeta}`);
  if (!(r.entropyLossRatio >= 0)) throw new Error(`VQ config: entropyLossRatio must be >= 0, got ${r.entropyLossRatio}`);
  return r;
}

/** Image side / code-grid side of the encoder: 2^(levels - 1). */
export function vqDownsampleFactor(c: VQConfig): number {
  return 2 ** (c.chMult.length - 1);
}

/** Code-grid side / image side of the decoder: 2^(decoder levels - 1). */
export function vqUpsampleFactor(c: VQConfig): number {
  return 2 ** ((c.decoderChMult ?? c.chMult).length - 1);
}

/**
 * A VQConfig from LlamaGen's naming, as in a fixture manifest's vq_config or ModelArgs:
 * codebook_size, codebook_embed_dim, encoder_ch_mult, decoder_ch_mult, z_channels, ch, and
 * optionally image_size, dropout_p, num_res_blocks, in_channels, commit_loss_beta,
 * entropy_loss_ratio, codebook_l2_norm, codebook_show_usage. Absent keys take LlamaGen's defaults.
 */
export function vqConfigFromLlamaGen(m: Record<string, unknown>): VQConfig {
  const num = (k: string, dflt: number): number => {
    const v = m[k] ?? dflt;
    if (typeof v !== 'number') throw new Error(`VQ config: '${k}' is not a number (${JSON.stringify(v)})`);
    return v;
  };
  const bool = (k: string, dflt: boolean): boolean => {
    const v = m[k] ?? dflt;
    if (typeof v !== 'boolean') throw new Error(`VQ config: '${k}' is not a boolean (${JSON.stringify(v)})`);
    return v;
  };
  const mult = (k: string, dflt: number[]): number[] => {
    const v = m[k] ?? dflt;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'number'))
      throw new Error(`VQ config: '${k}' is not a list of numbers (${JSON.stringify(v)})`);
    return [...(v as number[])];
  };
  const chMult = mult('encoder_ch_mult', [...VQ_16.chMult]);
  const config: VQConfig = {
    codebookSize: num('codebook_size', 16384),
    codebookDim: num('codebook_embed_dim', 8),
    ch: num('ch', 128),
    chMult,
    decoderChMult: mult('decoder_ch_mult', chMult),
    zChannels: num('z_channels', 256),
    numResBlocks: num('num_res_blocks', 2),
    inChannels: num('in_channels', 3),
    dropout: num('dropout_p', 0),
    commitBeta: num('commit_loss_beta', 0.25),
    entropyLossRatio: num('entropy_loss_ratio', 0),
    codebookL2Norm: bool('codebook_l2_norm', true),
    showUsage: bool('codebook_show_usage', true),
  };
  if (m.image_size !== undefined && m.image_size !== null) config.imageSize = num('image_size', 0);
  resolveVQConfig(config);
  return config;
}
