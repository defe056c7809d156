// The LlamaGen VQ tokenizer: fixture reproduction (codes exact, pixels within 1e-4), key layout,
// clear load errors, the straight-through gradient, LlamaGen's losses and a 1-channel config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '../../src/torch/index.js';
import { loadStateDict, writeSafetensors, type RawTensor } from '../../src/io/index.js';
import { readBinArray } from '../../src/io/fixture-bin.js';
import { VQModel, l2Normalize } from '../../src/tokenizer/vq-model.js';
import { loadVQModel } from '../../src/tokenizer/load.js';
import { VQ_16, resolveVQConfig, vqConfigFromLlamaGen, vqDownsampleFactor, type VQConfig } from '../../src/tokenizer/vq-config.js';
import { assertClose, sharedDir } from '../helpers.js';

const shared = sharedDir();
const fixtureDir = shared === null ? null : join(shared, 'fixtures', 'llamagen-ref-a');
const haveFixture = fixtureDir !== null && existsSync(join(fixtureDir, 'vq.pt'));
const skipFixture = haveFixture ? false : 'LlamaGen fixture shared/fixtures/llamagen-ref-a/vq.pt is absent';

interface Manifest {
  vq_config: Record<string, unknown>;
  tensors: Record<string, { dtype: string; shape: number[] }>;
}
const manifest = (): Manifest => JSON.parse(readFileSync(join(fixtureDir!, 'manifest.json'), 'utf8')) as Manifest;
const bin = (m: Manifest, name: string) => readBinArray(join(fixtureDir!, `${name}.bin`), m.tensors[name]!);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** A small VQ like the fixture's: ch 32, two levels (4x4 codes from 8x8 images), codebook 16 x 4. */
const SMALL: VQConfig = { codebookSize: 16, codebookDim: 4, ch: 32, chMult: [1, 2], zChannels: 32, numResBlocks: 1 };

test('LlamaGen fixture: encode codes exactly, decode_code pixels within 1e-4', { skip: skipFixture }, async (t) => {
  const m = manifest();
  const config = vqConfigFromLlamaGen(m.vq_config);
  assert.deepEqual([config.ch, config.chMult, config.decoderChMult, config.zChannels], [32, [1, 2], [1, 2], 32]);
  const model = await loadVQModel(join(fixtureDir!, 'vq.pt'), config);
  try {
    const image = bin(m, 'vq_image');
    const codesRef = bin(m, 'vq_codes');
    const decodedRef = bin(m, 'vq_decoded');
    const { codes, decoded, decodedOwn } = T.noGrad(() =>
      T.tidy(() => {
        const c = model.encode(T.fromArray(image.data, image.shape));
        assert.equal(c.dtype, 'int64');
        assert.deepEqual(c.shape, codesRef.shape);
        const d = model.decodeCodes(T.fromArray(codesRef.data, codesRef.shape, 'int64'));
        assert.deepEqual(d.shape, decodedRef.shape);
        return { codes: c.toInt32Array(), decoded: d.toFloat32Array(), decodedOwn: model.decodeCodes(c).toFloat32Array() };
      }),
    );
    assert.deepEqual(Array.from(codes), Array.from(codesRef.data), 'codes differ from LlamaGen encode');
    const err = maxAbsDiff(decoded, decodedRef.data);
    const errOwn = maxAbsDiff(decodedOwn, decodedRef.data);
    t.diagnostic(`decode_code max abs error ${err.toExponential(3)} (from our own codes ${errOwn.toExponential(3)})`);
    assert.ok(err <= 1e-4, `decoded pixels: max abs error ${err} > 1e-4`);
  } finally {
    model.dispose();
  }
});

test('LlamaGen fixture: the model has exactly the checkpoint keys and shapes', { skip: skipFixture }, async () => {
  const raw = await loadStateDict(join(fixtureDir!, 'vq.pt'));
  const model = new VQModel(vqConfigFromLlamaGen(manifest().vq_config));
  const ours = new Map([...model.stateDict()].map(([k, v]) => [k, v.shape]));
  assert.deepEqual([...ours.keys()].sort(), [...raw.keys()].sort());
  for (const [k, r] of raw) assert.deepEqual(ours.get(k), r.shape, k);
  model.dispose();
});

test('loading a checkpoint of another architecture names the mismatches', { skip: skipFixture }, async () => {
  const base = vqConfigFromLlamaGen(manifest().vq_config);
  const path = join(fixtureDir!, 'vq.pt');
  await assert.rejects(loadVQModel(path, { ...base, codebookSize: 32 }), (e: Error) => {
    assert.match(e.message, /vq\.pt/);
    assert.match(e.message, /shape mismatches: quantize\.embedding\.weight: checkpoint \[64, 8\] vs model \[32, 8\]/);
    return true;
  });
  await assert.rejects(
    loadVQModel(path, { ...base, zChannels: 64 }),
    /encoder\.conv_out\.weight: checkpoint \[32, 64, 3, 3\] vs model \[64, 64, 3, 3\]/,
  );
  await assert.rejects(loadVQModel(path, { ...base, chMult: [1, 2, 2] }), (e: Error) => {
    assert.match(e.message, /missing keys: .*encoder\.conv_blocks\.2\.res\.0\.norm1\.weight/);
    return true;
  });
  await assert.rejects(
    loadVQModel(path, { ...base, numResBlocks: 1 }),
    /unexpected keys: .*encoder\.conv_blocks\.0\.res\.1\.conv1\.weight/,
  );
});

test('safetensors round trip: saved weights load back and decode identically', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctfgen-vq-'));
  T.manualSeed(3);
  const a = new VQModel(SMALL).eval();
  try {
    const path = join(dir, 'vq.safetensors');
    await writeSafetensors(path, new Map<string, RawTensor>([...a.stateDict()].map(([k, v]) => [k, T.toRaw(v)])));
    const b = await loadVQModel(path, SMALL);
    T.noGrad(() =>
      T.tidy(() => {
        const codes = T.randint(0, 16, [1, 4, 4]);
        assert.deepEqual(Array.from(b.decodeCodes(codes).toFloat32Array()), Array.from(a.decodeCodes(codes).toFloat32Array()));
      }),
    );
    b.dispose();
  } finally {
    a.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('straight-through estimator: a reconstruction loss reaches the encoder; quantizer losses as LlamaGen', () => {
  T.manualSeed(7);
  const model = new VQModel(SMALL).train();
  const images = T.keep(T.rand([2, 3, 8, 8]).mul(2).sub(1));
  T.tidy(() => {
    const out = model.forward(images);
    assert.deepEqual(out.recon.shape, [2, 3, 8, 8]);
    assert.deepEqual(out.zq.shape, [2, 4, 4, 4]);
    assert.deepEqual(out.codes.shape, [2, 4, 4]);
    // forward value of the straight-through vectors = the chosen (l2-normalised) codewords
    assertClose(out.zq.toFloat32Array(), model.codeVectors(out.codes).toFloat32Array(), 1e-6, 'zq');
    // the losses, recomputed from their definitions
    const zn = T.noGrad(() => l2Normalize(model.encodeToLatent(images), 1));
    const mse = T.noGrad(() => out.zq.sub(zn).square().mean().item());
    assertClose([out.codebookLoss.item(), out.commitLoss.item()], [mse, 0.25 * mse], 1e-5, 'losses');
    assert.equal(out.entropyLoss, undefined);
    assert.ok(out.codebookUsage !== undefined && out.codebookUsage > 0);
    // reconstruction only: the gradient to the encoder exists only through the estimator
    out.recon.sub(images).square().mean().backward();
    for (const name of ['encoder.conv_in.weight', 'quant_conv.weight', 'decoder.conv_out.weight']) {
      const g = model.stateDict().get(name)!.grad;
      assert.ok(g !== null, `${name} has no gradient`);
      assert.ok(g.abs().sum().item() > 0, `${name} gradient is zero`);
    }
    assert.equal(model.quantizer.embedding.weight.grad, null, 'the codebook must get no gradient from the reconstruction');
  });
  T.zeroGrad(model.parameters());
  T.tidy(() => {
    const out = model.forward(images);
    out.codebookLoss.backward();
    const g = model.quantizer.embedding.weight.grad;
    assert.ok(g !== null && g.abs().sum().item() > 0, 'codebook loss must train the codebook');
    assert.equal(model.encoder.convIn.weight.grad, null, 'codebook loss must not reach the encoder');
  });
  images.dispose();
  model.dispose();
});

test('codebook_used records the latest codes as LlamaGen does; entropy loss when enabled', () => {
  T.manualSeed(8);
  const model = new VQModel({ ...SMALL, entropyLossRatio: 0.1 }).train();
  T.tidy(() => {
    const images = T.rand([2, 3, 8, 8]).mul(2).sub(1);
    const a = model.forward(images);
    const b = model.forward(images.flip(3));
    const used = model.quantizer.codebookUsed!;
    assert.deepEqual(used.slice(0, 0, 65536 - 64).toArray(), new Array(65536 - 64).fill(0));
    assert.deepEqual(used.slice(0, 65536 - 64, 65536 - 32).toArray(), a.codes.flatten().toArray());
    assert.deepEqual(used.slice(0, 65536 - 32).toArray(), b.codes.flatten().toArray());
    assert.ok(a.entropyLoss !== undefined && Number.isFinite(a.entropyLoss.item()));
    model.eval();
    assert.equal(model.forward(images).codebookUsage, undefined);
  });
  model.dispose();
});

test('quantisation by row blocks (large codebook) picks the nearest codeword of every vector', () => {
  T.manualSeed(10);
  const model = new VQModel({ ...SMALL, codebookSize: 65536 }).eval(); // 16 rows per block: 2 x 16 vectors → 2 blocks
  T.noGrad(() =>
    T.tidy(() => {
      const z = model.encodeToLatent(T.rand([2, 3, 8, 8]).mul(2).sub(1));
      const { codes, zq } = model.quantize(z);
      const zn = l2Normalize(z.permute(0, 2, 3, 1).reshape(-1, 4));
      const book = l2Normalize(model.quantizer.embedding.weight);
      const dist = zn
        .square()
        .sum(1, true)
        .add(book.square().sum(1))
        .sub(zn.matmul(book.transpose(0, 1)).mul(2));
      const chosen = dist.gather(1, codes.reshape(-1, 1)).squeeze(1);
      assertClose(chosen.toFloat32Array(), dist.amin(1).toFloat32Array(), 1e-5, 'distance of the chosen code');
      assertClose(zq.toFloat32Array(), model.codeVectors(codes).toFloat32Array(), 0, 'zq');
    }),
  );
  model.dispose();
});

test('1-channel config: grayscale in and out', () => {
  T.manualSeed(9);
  const config: VQConfig = { ...SMALL, inChannels: 1 };
  const model = new VQModel(config).eval();
  const sd = model.stateDict();
  assert.deepEqual(sd.get('encoder.conv_in.weight')!.shape, [32, 1, 3, 3]);
  assert.deepEqual(sd.get('decoder.conv_out.weight')!.shape, [1, 32, 3, 3]);
  T.noGrad(() =>
    T.tidy(() => {
      const images = T.rand([3, 1, 16, 16]).mul(2).sub(1);
      const codes = model.encode(images);
      assert.deepEqual(codes.shape, [3, 8, 8]);
      assert.deepEqual(model.decodeCodes(codes).shape, [3, 1, 16, 16]);
      assert.throws(() => model.encode(T.zeros([1, 3, 16, 16])), /images must be \[N, 1, H, W\]/);
      assert.throws(() => model.decodeCodes(T.full([1, 2, 2], 16, 'int64')), /codes must lie in \[0, 16\)/);
    }),
  );
  model.dispose();
});

test('config: VQ-16 preset, LlamaGen naming, checks', () => {
  const r = resolveVQConfig(VQ_16);
  assert.equal(vqDownsampleFactor(VQ_16), 16);
  assert.deepEqual(r.decoderChMult, [1, 1, 2, 2, 4]);
  assert.equal(r.commitBeta, 0.25);
  const c = vqConfigFromLlamaGen({
    codebook_size: 64,
    codebook_embed_dim: 8,
    encoder_ch_mult: [1, 2],
    decoder_ch_mult: [1, 2, 2],
    z_channels: 32,
    ch: 32,
  });
  assert.deepEqual(c.decoderChMult, [1, 2, 2]);
  assert.equal(vqConfigFromLlamaGen({}).ch, 128);
  assert.throws(() => resolveVQConfig({ ...VQ_16, ch: 40 }), /not divisible by the 32 GroupNorm groups/);
  assert.throws(() => vqConfigFromLlamaGen({ z_channels: '256' }), /'z_channels' is not a number/);
});
