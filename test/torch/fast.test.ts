// The inference ops of fast.ts against the composite ops they replace: packed linear (fp32 and
// int8), RMSNorm, SwiGLU and embedding into preallocated outputs, one-query attention over a KV
// cache (RoPE, cache write, grouped-query heads), RoPE with the head split for a block of tokens,
// version sums and clear errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';
import { applyRope, ropeTable2d } from '../../src/models/rope2d.js';
import { assertClose } from '../helpers.js';

test('packed linear: fp32 equals F.linear, into and accumulating into a preallocated output', () =>
  T.tidy(() => {
    T.manualSeed(1);
    const w = T.randn([37, 20]);
    const x = T.randn([5, 20]);
    const ref = T.linear(x, w);
    const p = new T.PackedLinear(w, 'fp32');
    assert.deepEqual([p.inFeatures, p.outFeatures, p.kind], [20, 37, 'fp32']);
    assertClose(p.apply(x).toFloat32Array(), ref.toFloat32Array(), 1e-5, 'apply');
    const dst = T.ones([5, 37]);
    p.into(dst, x);
    assertClose(dst.toFloat32Array(), ref.toFloat32Array(), 1e-5, 'into');
    p.into(dst, x, true);
    assertClose(dst.toFloat32Array(), ref.mul(2).toFloat32Array(), 1e-5, 'accumulate');
    assert.throws(() => p.into(T.zeros([5, 36]), x), /output must be contiguous float32 \[rows, 37\]/);
    assert.throws(() => p.apply(T.zeros([5, 21])), /input must be float32 \[rows, 20\]/);
    p.dispose();
    assert.throws(() => p.apply(x), /packed weight used after dispose/);
    assert.throws(() => new T.PackedLinear(w, 'int4' as T.PackedKind), /kind must be 'fp32' or 'int8'/);
  }));

test('packed linear: int8 (oneDNN dynamic quantization) stays within a few percent of fp32', () =>
  T.tidy(() => {
    T.manualSeed(2);
    const w = T.randn([64, 48]).mul(0.05);
    const x = T.randn([7, 48]);
    const ref = T.linear(x, w);
    const p = new T.PackedLinear(w, 'int8');
    const y = p.apply(x);
    const scale = ref.abs().amax().item();
    const err = y.sub(ref).abs().amax().item();
    assert.ok(err < 0.03 * scale, `int8 error ${err} vs output scale ${scale}`);
    assert.ok(err > 0, 'int8 output should differ from fp32 (it is quantized)');
    const dst = T.zeros([7, 64]);
    p.into(dst, x);
    p.into(dst, x, true);
    assertClose(dst.toFloat32Array(), y.mul(2).toFloat32Array(), 1e-5, 'int8 accumulate');
    p.dispose();
  }));

test('rmsNormInto, swigluInto and embeddingInto equal their composite ops', () =>
  T.tidy(() => {
    T.manualSeed(3);
    const x = T.randn([6, 21]);
    const w = T.randn([21]);
    const dst = T.zeros([6, 21]);
    T.rmsNormInto(dst, x, w, 1e-5);
    assertClose(dst.toFloat32Array(), T.rmsNorm(x, w, 1e-5).toFloat32Array(), 1e-5, 'rmsnorm');
    const gu = T.randn([6, 10]);
    const g = T.zeros([6, 5]);
    T.swigluInto(g, gu);
    assertClose(
      g.toFloat32Array(),
      gu
        .slice(1, 0, 5)
        .silu()
        .mul(gu.slice(1, 5, 10))
        .toFloat32Array(),
      1e-6,
      'swiglu',
    );
    const table = T.randn([9, 4]);
    const idx = T.tensor([3, 0, 8], 'int64');
    const e = T.zeros([3, 4]);
    T.embeddingInto(e, table, idx);
    assertClose(e.toFloat32Array(), T.embedding(table, idx).toFloat32Array(), 0, 'embedding');
    assert.throws(() => T.rmsNormInto(T.zeros([6, 20]), x, w, 1e-5), /output must be contiguous float32 of the input's shape/);
    assert.throws(() => T.swigluInto(T.zeros([6, 4]), gu), /gateUp must be \[rows, 2h\]/);
  }));

/** Reference of one decode step: rope q/k at pos, write k/v into the caches, sdpa over 0..pos. */
function referenceAttention(qkv: T.Tensor, cos: T.Tensor, sin: T.Tensor, keys: T.Tensor, values: T.Tensor, pos: number, H: number) {
  const [B, G, , D] = keys.shape as [number, number, number, number];
  const [q, k, v] = qkv.split([H * D, G * D, G * D], 1) as [T.Tensor, T.Tensor, T.Tensor];
  const c = cos.slice(0, pos, pos + 1);
  const s = sin.slice(0, pos, pos + 1);
  const qr = applyRope(q.reshape(B, 1, H, D), c, s).transpose(1, 2);
  keys.sliceAssign_(2, pos, applyRope(k.reshape(B, 1, G, D), c, s).transpose(1, 2));
  values.sliceAssign_(2, pos, v.reshape(B, 1, G, D).transpose(1, 2));
  const kk = keys.slice(2, 0, pos + 1).repeatInterleave(H / G, 1);
  const vv = values.slice(2, 0, pos + 1).repeatInterleave(H / G, 1);
  return T.sdpa(qr, kk, vv)
    .transpose(1, 2)
    .reshape(B, H * D);
}

for (const [H, G, D] of [
  [4, 4, 64],
  [6, 2, 12],
  [2, 1, 8],
] as const)
  test(`decodeAttention equals RoPE + cache write + sdpa (heads ${H}, kv heads ${G}, head dim ${D})`, () =>
    T.tidy(() => {
      T.manualSeed(4);
      const [B, S] = [3, 11];
      const rope = ropeTable2d(3, D, 10000, 2);
      const keys = T.randn([B, G, S, D]);
      const values = T.randn([B, G, S, D]);
      const refKeys = keys.clone();
      const refValues = values.clone();
      const work = T.zeros([2 * B * H * S]);
      const out = T.zeros([B, H * D]);
      for (const pos of [0, 4, 10]) {
        const qkv = T.randn([B, (H + 2 * G) * D]);
        T.decodeAttention({ qkv, cos: rope.cos, sin: rope.sin, keys, values, pos, out, work, scale: 1 / Math.sqrt(D) });
        const ref = referenceAttention(qkv, rope.cos, rope.sin, refKeys, refValues, pos, H);
        assertClose(out.toFloat32Array(), ref.toFloat32Array(), 1e-5, `attention at ${pos}`);
        assertClose(keys.toFloat32Array(), refKeys.toFloat32Array(), 1e-6, `keys after ${pos}`);
        assertClose(values.toFloat32Array(), refValues.toFloat32Array(), 0, `values after ${pos}`);
      }
      const qkv = T.zeros([B, (H + 2 * G) * D]);
      const args = { qkv, cos: rope.cos, sin: rope.sin, keys, values, pos: 0, out, work, scale: 1 };
      assert.throws(() => T.decodeAttention({ ...args, pos: S }), /outside the cache \(capacity 11\)/);
      assert.throws(() => T.decodeAttention({ ...args, work: T.zeros([4]) }), /work buffer too small/);
      assert.throws(() => T.decodeAttention({ ...args, qkv: T.zeros([B, H * D]) }), /qkv must be \[B, \(H \+ 2G\)·D\]/);
      assert.throws(() => T.decodeAttention({ ...args, keys: T.zeros([B, G, S, 2 * D]).slice(3, 0, D) }), /contiguous float32/);
    }));

test('ropeHeads equals applyRope and the head split (grouped-query, positions from an offset)', () =>
  T.tidy(() => {
    T.manualSeed(6);
    const [B, Tn, H, G, D, start] = [2, 5, 4, 2, 8, 3];
    const rope = ropeTable2d(3, D, 10000, 1);
    const qkv = T.randn([B * Tn, (H + 2 * G) * D]);
    const out = { q: T.zeros([B, H, Tn, D]), k: T.zeros([B, G, Tn, D]), v: T.zeros([B, G, Tn, D]) };
    T.ropeHeads(qkv, rope.cos, rope.sin, start, out);
    const [q, k, v] = qkv.reshape(B, Tn, (H + 2 * G) * D).split([H * D, G * D, G * D], -1) as [T.Tensor, T.Tensor, T.Tensor];
    const c = rope.cos.slice(0, start, start + Tn);
    const s = rope.sin.slice(0, start, start + Tn);
    /** x [B, Tn, n·D] in the head-major layout [B, n, Tn, D], rotated or not */
    const heads = (x: T.Tensor, n: number, rotate: boolean) => {
      const split = x.reshape(B, Tn, n, D);
      return (rotate ? applyRope(split, c, s) : split).transpose(1, 2).contiguous().toFloat32Array();
    };
    assertClose(out.q.toFloat32Array(), heads(q, H, true), 1e-6, 'q');
    assertClose(out.k.toFloat32Array(), heads(k, G, true), 1e-6, 'k');
    assertClose(out.v.toFloat32Array(), heads(v, G, false), 0, 'v');
    assert.throws(() => T.ropeHeads(qkv, rope.cos, rope.sin, 6, out), /covering start\.\.start\+T-1/);
  }));

test('versionSum grows with every in-place write, not with reads', () =>
  T.tidy(() => {
    const a = T.zeros([3]);
    const b = T.zeros([2]);
    const v0 = T.versionSum([a, b]);
    a.add(1);
    assert.equal(T.versionSum([a, b]), v0);
    T.noGrad(() => b.copy_(T.ones([2])));
    const v1 = T.versionSum([a, b]);
    assert.ok(v1 > v0);
    T.noGrad(() => a.slice(0, 0, 1).fill_(2)); // a write through a view counts for its base
    assert.ok(T.versionSum([a, b]) > v1);
  }));
