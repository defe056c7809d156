// Each op against hand-computed values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';
import { assertClose } from '../helpers.js';

const t = T.tensor;

test('creation, dtype and copy-out', () => {
  assert.deepEqual(T.zeros([2, 2]).toArray(), [0, 0, 0, 0]);
  assert.deepEqual(T.ones([3], 'int64').toArray(), [1, 1, 1]);
  assert.deepEqual(T.full([2], 7.5).toArray(), [7.5, 7.5]);
  assert.deepEqual(T.arange(2, 8, 2).toArray(), [2, 4, 6]);
  assert.equal(T.arange(3).dtype, 'int64');
  const x = T.fromArray(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
  assert.deepEqual(x.shape, [2, 3]);
  assert.equal(x.dtype, 'float32');
  assert.deepEqual(x.to('bfloat16').to('float32').toArray(), [1, 2, 3, 4, 5, 6]);
  // raw bytes of another dtype: bfloat16 1.0 = 0x3f80
  const bf = T.fromArray(new Uint8Array([0x80, 0x3f, 0x00, 0x40]), [2], 'bfloat16');
  assert.deepEqual(bf.toArray(), [1, 2]);
  assert.deepEqual(Array.from(bf.toBytes()), [0x80, 0x3f, 0x00, 0x40]);
  assert.deepEqual(t([[1, 0]], 'bool').toArray(), [1, 0]);
  assert.equal(t(2.5).item(), 2.5);
  assert.throws(() => T.fromArray(new Float32Array(5), [2, 3]), /20 bytes but shape needs 24 bytes/);
});

test('seeded random draws repeat and have the right moments', () => {
  T.manualSeed(7);
  const a = T.randn([1000]).data();
  T.manualSeed(7);
  const b = T.randn([1000]).data();
  assert.deepEqual(a, b);
  const m = T.randn([20000]);
  assert.ok(Math.abs(m.mean().item()) < 0.03);
  assert.ok(Math.abs(m.var().item() - 1) < 0.05);
  const r = T.randint(3, 6, [500]).toInt32Array();
  assert.ok(r.every((v) => v >= 3 && v < 6));
  const u = T.rand([500]).data() as Float32Array;
  assert.ok(u.every((v) => v >= 0 && v < 1));
  const perm = T.randperm(10)
    .toArray()
    .sort((x, y) => x - y);
  assert.deepEqual(perm, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const state = T.getRngState();
  const c = T.rand([5]).data();
  T.setRngState(state);
  assert.deepEqual(T.rand([5]).data(), c);
});

test('views and indexing', () => {
  const x = T.arange(0, 6, 1, 'float32').reshape(2, 3); // [[0,1,2],[3,4,5]]
  assert.deepEqual(x.transpose(0, 1).contiguous().toArray(), [0, 3, 1, 4, 2, 5]);
  assert.deepEqual(x.permute(1, 0).reshape(6).toArray(), [0, 3, 1, 4, 2, 5]);
  assert.deepEqual(x.slice(1, 1, 3).reshape(4).toArray(), [1, 2, 4, 5]);
  assert.deepEqual(x.slice(1, 0, undefined, 2).reshape(4).toArray(), [0, 2, 3, 5]);
  assert.deepEqual(x.select(0, 1).toArray(), [3, 4, 5]);
  assert.deepEqual(
    x
      .indexSelect(1, t([2, 0], 'int64'))
      .reshape(4)
      .toArray(),
    [2, 0, 5, 3],
  );
  assert.deepEqual(x.gather(1, t([[1], [2]], 'int64')).toArray(), [1, 5]);
  assert.deepEqual(Array.from(T.cat([x, x], 0).shape), [4, 3]);
  assert.deepEqual(T.stack([x, x], 1).shape, [2, 2, 3]);
  const [a, b] = x.split(2, 1);
  assert.deepEqual(a!.shape, [2, 2]);
  assert.deepEqual(b!.shape, [2, 1]);
  assert.deepEqual(
    x.split([1, 2], 1).map((p) => p.shape[1]),
    [1, 2],
  );
  assert.equal(x.chunk(3, 1).length, 3);
  assert.deepEqual(t([1, 2]).reshape(2, 1).expand(2, 3).contiguous().toArray(), [1, 1, 1, 2, 2, 2]);
  assert.deepEqual(x.unsqueeze(0).shape, [1, 2, 3]);
  assert.deepEqual(x.unsqueeze(0).squeeze(0).shape, [2, 3]);
  assert.deepEqual(x.flatten().shape, [6]);
  assert.deepEqual(x.flip(1).reshape(6).toArray(), [2, 1, 0, 5, 4, 3]);
  assert.deepEqual(t([1, 2]).repeat(2).toArray(), [1, 2, 1, 2]);
  assert.deepEqual(t([1, 2]).repeatInterleave(2, 0).toArray(), [1, 1, 2, 2]);
  assert.deepEqual(T.ones([2, 2]).tril().toArray(), [1, 0, 1, 1]);
  assert.deepEqual(T.ones([2, 2]).triu(1).toArray(), [0, 1, 0, 0]);
  assert.deepEqual(t([0, 2], 'int64').oneHot(3).toArray(), [1, 0, 0, 0, 0, 1]);
  assert.deepEqual(
    T.zeros([3])
      .scatter(0, t([2], 'int64'), 5)
      .toArray(),
    [0, 0, 5],
  );
  assert.deepEqual(
    T.zeros([2])
      .scatterAdd(0, t([1, 1, 0], 'int64'), t([1, 2, 3]))
      .toArray(),
    [3, 3],
  );
  assert.deepEqual(
    T.zeros([2, 2])
      .indexAdd(0, t([1, 1], 'int64'), T.ones([2, 2]))
      .toArray(),
    [0, 0, 2, 2],
  );
  assert.deepEqual(T.where(t([1, 0, 1], 'bool'), t([1, 2, 3]), 0).toArray(), [1, 0, 3]);
  assert.deepEqual(
    t([1, 2, 3])
      .maskedFill(t([0, 1, 0], 'bool'), -1)
      .toArray(),
    [1, -1, 3],
  );
  assert.deepEqual(t([0, 2, 2, 5], 'int64').bincount(7).toArray(), [1, 0, 2, 0, 0, 1, 0]);
  const big = T.zeros([2, 4]);
  big.sliceAssign_(1, 1, T.ones([2, 2]));
  assert.deepEqual(big.toArray(), [0, 1, 1, 0, 0, 1, 1, 0]);
});

test('elementwise math broadcasts and keeps integer tensors integral', () => {
  const a = t([[1, 2, 3]]);
  const b = t([[10], [20]]);
  assert.deepEqual(a.add(b).toArray(), [11, 12, 13, 21, 22, 23]);
  assert.deepEqual(b.sub(a).toArray(), [9, 8, 7, 19, 18, 17]);
  assert.deepEqual(a.mul(2).toArray(), [2, 4, 6]);
  assert.deepEqual(a.div(2).toArray(), [0.5, 1, 1.5]);
  assert.deepEqual(a.pow(2).toArray(), [1, 4, 9]);
  assert.deepEqual(a.maximum(2).toArray(), [2, 2, 3]);
  assert.deepEqual(a.minimum(2).toArray(), [1, 2, 2]);
  assert.deepEqual(t([5, 7], 'int64').remainder(3).toArray(), [2, 1]);
  assert.deepEqual(t([5, 7], 'int64').floorDivide(2).toArray(), [2, 3]);
  const i = T.arange(3);
  assert.equal(i.add(1).dtype, 'int64');
  assert.equal(i.mul(0.5).dtype, 'float32');
  assert.equal(a.to('bfloat16').mul(3).dtype, 'bfloat16');
  assert.deepEqual(a.eq(2).toArray(), [0, 1, 0]);
  assert.deepEqual(a.gt(1).toArray(), [0, 1, 1]);
  assert.deepEqual(a.ge(2).logicalAnd(a.le(2)).toArray(), [0, 1, 0]);
  assert.deepEqual(a.lt(2).logicalOr(a.ne(2)).toArray(), [1, 0, 1]);
  assertClose(t([0, 1]).exp().data(), [1, Math.E]);
  assertClose(t([1, Math.E]).log().data(), [0, 1]);
  assertClose(t([4, 9]).sqrt().data(), [2, 3]);
  assertClose(t([4]).rsqrt().data(), [0.5]);
  assertClose(t([-2, 3]).abs().data(), [2, 3]);
  assertClose(t([0]).sin().data(), [0]);
  assertClose(t([0]).cos().data(), [1]);
  assertClose(t([0.5]).tanh().data(), [Math.tanh(0.5)]);
  assertClose(t([0]).sigmoid().data(), [0.5]);
  assertClose(t([-1, 2]).relu().data(), [0, 2]);
  assertClose(t([1]).silu().data(), [1 / (1 + Math.exp(-1))]);
  assertClose(t([1]).gelu().data(), [0.8413447460685429]);
  assertClose(t([-3]).square().data(), [9]);
  assertClose(t([4]).reciprocal().data(), [0.25]);
  assertClose(t([1.5, -1.5]).floor().data(), [1, -2]);
  assertClose(t([1.5, -1.5]).ceil().data(), [2, -1]);
  assertClose(t([1.4, 2.6]).round().data(), [1, 3]);
  assertClose(t([-2, 0, 3]).sign().data(), [-1, 0, 1]);
  assertClose(t([0.5]).erf().data(), [0.5204998778130465]);
  assertClose(t([0.5]).log1p().data(), [Math.log1p(0.5)]);
  assertClose(t([-1, 0, 2]).clamp(-0.5, 1).data(), [-0.5, 0, 1]);
  assertClose(
    t([0, 10])
      .lerp(t([10, 20]), 0.25)
      .data(),
    [2.5, 12.5],
  );
  assert.deepEqual(t([1, 0]).logicalNot().toArray(), [0, 1]);
  assert.deepEqual(t([0, NaN]).isnan().toArray(), [0, 1]);
  assertClose(t([1]).neg().data(), [-1]);
});

test('reductions, sorting and matmul', () => {
  const x = t([
    [1, 5, 3],
    [4, 2, 6],
  ]);
  assertClose(x.sum().data(), [21]);
  assertClose(x.sum(1).data(), [9, 12]);
  assert.deepEqual(x.sum(1, true).shape, [2, 1]);
  assertClose(x.mean(0).data(), [2.5, 3.5, 4.5]);
  assertClose(x.amax(1).data(), [5, 6]);
  assertClose(x.amin().data(), [1]);
  assertClose(t([0, 0]).logsumexp().data(), [Math.log(2)]);
  assertClose(t([1, 2, 3, 4]).var().data(), [5 / 3]);
  assertClose(t([1, 2, 3, 4]).var(0, false).data(), [1.25]);
  assert.deepEqual(x.argmax(1).toArray(), [1, 2]);
  assert.deepEqual(x.argmin(1).toArray(), [0, 1]);
  const mx = x.max(0);
  assertClose(mx.values.data(), [4, 5, 6]);
  assert.deepEqual(mx.indices.toArray(), [1, 0, 1]);
  assertClose(x.min(1).values.data(), [1, 2]);
  const tk = t([3, 1, 4, 1, 5]).topk(2);
  assertClose(tk.values.data(), [5, 4]);
  assert.deepEqual(tk.indices.toArray(), [4, 2]);
  assertClose(t([3, 1, 2]).sort(0, true).values.data(), [3, 2, 1]);
  assertClose(t([1, 2, 3]).cumsum(0).data(), [1, 3, 6]);
  assert.equal(t([1, 0], 'bool').any().item(), 1);
  assert.equal(t([1, 0], 'bool').all().item(), 0);
  assertClose(
    t([
      [1, 2],
      [3, 4],
    ])
      .matmul(t([[5], [6]]))
      .data(),
    [17, 39],
  );
  assertClose(
    t([[[1, 2]], [[3, 4]]])
      .bmm(
        t([
          [[1], [1]],
          [[2], [0]],
        ]),
      )
      .data(),
    [3, 6],
  );
});

test('eigh / eigvalsh / cholesky: ascending eigenvalues, orthonormal vectors that rebuild the matrix (lower triangle read); L Lᵀ or null', () => {
  T.tidy(() => {
    assert.deepEqual(
      T.eigvalsh(
        t(
          [
            [3, 0],
            [0, -1],
          ],
          'float64',
        ),
      ).toArray(),
      [-1, 3],
    );
    const b = T.fromArray(
      Float64Array.from({ length: 36 }, (_, i) => Math.sin(i * 1.7)),
      [6, 6],
      'float64',
    );
    const a = b.add(b.transpose(0, 1));
    const { values, vectors: v } = T.eigh(a);
    const vals = Array.from(values.data() as Float64Array);
    for (let k = 1; k < 6; k++) assert.ok(vals[k - 1]! <= vals[k]!);
    assertClose(
      v.transpose(0, 1).matmul(v).data() as Float64Array,
      Float64Array.from({ length: 36 }, (_, i) => (i % 7 === 0 ? 1 : 0)),
      1e-12,
      'VᵀV',
    );
    assertClose(v.mul(values.unsqueeze(0)).matmul(v.transpose(0, 1)).data() as Float64Array, a.data() as Float64Array, 1e-12, 'V Λ Vᵀ');
    const upperGarbage = a.add(T.ones([6, 6], 'float64').triu(1).mul(100));
    assertClose(T.eigvalsh(upperGarbage).data() as Float64Array, vals, 1e-12, 'lower triangle only');
    // a = L Lᵀ for a positive definite matrix; null for an indefinite one
    const spd = b.matmul(b.transpose(0, 1)).add(
      T.fromArray(
        Float64Array.from({ length: 36 }, (_, i) => (i % 7 === 0 ? 1 : 0)),
        [6, 6],
        'float64',
      ),
    );
    const l = T.cholesky(spd)!;
    assertClose(l.matmul(l.transpose(0, 1)).data() as Float64Array, spd.data() as Float64Array, 1e-12, 'L Lᵀ');
    assert.equal((l.triu(1).abs().sum().item() as number) === 0, true, 'lower triangular');
    assert.equal(T.cholesky(a), null, 'a has negative eigenvalues');
  });
});

test('neural-network functions', () => {
  assertClose(
    t([[1, 2, 3]])
      .softmax(1)
      .data(),
    [0.09003057, 0.24472847, 0.66524096],
  );
  assertClose(
    t([[1, 2, 3]])
      .logSoftmax(1)
      .data(),
    [-2.40760596, -1.40760596, -0.40760596],
  );
  const logits = t([
    [2, 0],
    [0, 2],
  ]);
  const target = t([0, 1], 'int64');
  const ce = Math.log(1 + Math.exp(-2));
  assertClose(T.crossEntropy(logits, target).data(), [ce]);
  assertClose(T.crossEntropy(logits, t([0, -100], 'int64')).data(), [ce]);
  assertClose(T.crossEntropy(logits, target, { reduction: 'none' }).data(), [ce, ce]);
  assertClose(T.crossEntropy(logits, target, { reduction: 'sum' }).data(), [2 * ce]);
  // label smoothing 0.2 over 2 classes: target distribution (0.9, 0.1)
  const lp = [-ce, -2 - ce];
  assertClose(T.crossEntropy(logits, target, { labelSmoothing: 0.2 }).data(), [-(0.9 * lp[0]! + 0.1 * lp[1]!)]);
  assertClose(
    T.embedding(
      t([
        [1, 2],
        [3, 4],
        [5, 6],
      ]),
      t([2, 0], 'int64'),
    ).data(),
    [5, 6, 1, 2],
  );
  assertClose(
    T.linear(
      t([[1, 2]]),
      t([
        [1, 1],
        [2, -1],
      ]),
      t([10, 20]),
    ).data(),
    [13, 20],
  );
  // 3x3 input, 2x2 all-ones kernel, stride 1: sums of 2x2 windows
  const img = T.arange(1, 10, 1, 'float32').reshape(1, 1, 3, 3);
  assertClose(T.conv2d(img, T.ones([1, 1, 2, 2])).data(), [12, 16, 24, 28]);
  assertClose(T.conv2d(img, T.ones([1, 1, 3, 3]), T.full([1], 1), { padding: 1, stride: 2 }).data(), [13, 17, 25, 29]);
  const gn = T.groupNorm(t([1, 3, 5, 7]).reshape(1, 2, 2, 1), 1, null, null, 0);
  const sd = Math.sqrt(5);
  assertClose(gn.data(), [-3 / sd, -1 / sd, 1 / sd, 3 / sd]);
  assertClose(T.layerNorm(t([[1, 3]]), [2], null, null, 0).data(), [-1, 1]);
  assertClose(T.rmsNorm(t([[3, 4]]), t([1, 2]), 0).data(), [3 / Math.sqrt(12.5), 8 / Math.sqrt(12.5)]);
  assertClose(T.upsampleNearest2d(t([1, 2]).reshape(1, 1, 1, 2), 2).data(), [1, 1, 2, 2, 1, 1, 2, 2]);
  assertClose(T.interpolateBilinear(t([0, 2]).reshape(1, 1, 1, 2), [1, 3], true).data(), [0, 1, 2]);
  assertClose(T.avgPool2d(img.slice(2, 0, 2).slice(3, 0, 2), 2).data(), [3]);
  assertClose(T.maxPool2d(img, 2, 1).data(), [5, 6, 8, 9]);
  // padded windows: the corner sees 1, 2, 4, 5 (mean 3 over real pixels, 12/9 counting the padding)
  assertClose(T.avgPool2d(img, 3, 1, { padding: 1, countIncludePad: false }).data().slice(0, 2), [3, 3.5]);
  assertClose(T.avgPool2d(img, 3, 1, { padding: 1 }).data().slice(0, 1), [12 / 9]);
  assertClose(T.maxPool2d(img, 3, 1, 1).data(), [5, 6, 6, 8, 9, 9, 8, 9, 9]);
  assertClose(T.adaptiveAvgPool2d(img, 1).data(), [5]);
  assertClose(T.pad(t([[1]]), [1, 0, 0, 1], 9).data(), [9, 1, 9, 9]);
  assertClose(T.dropout(T.ones([4]), 0.5, false).data(), [1, 1, 1, 1]);
  T.manualSeed(1);
  const d = T.dropout(T.ones([1000]), 0.5, true).data() as Float32Array;
  assert.ok(d.every((v) => v === 0 || v === 2));
  assertClose(
    T.cdist(
      t([[0, 0]]),
      t([
        [3, 4],
        [0, 1],
      ]),
    ).data(),
    [5, 1],
  );
});

test('attention: causal, masks and KV-cache alignment', () => {
  // one head, keys orthogonal; values identify keys
  const q = t([
    [
      [10, 0],
      [0, 10],
    ],
  ]); // [1, 2, 2]
  const k = t([
    [
      [1, 0],
      [0, 1],
    ],
  ]);
  const v = t([
    [
      [1, 0],
      [0, 1],
    ],
  ]);
  // without mask each query attends mostly to its matching key
  const full = T.sdpa(q, k, v, { scale: 1 }).data();
  assert.ok(full[0]! > 0.99 && full[3]! > 0.99);
  // causal: query 0 sees key 0 only
  const causal = T.sdpa(q, k, v, { causal: true, scale: 1 }).data();
  assertClose([causal[0]!, causal[1]!], [1, 0]);
  // explicit bool mask forbidding key 0 for everyone
  const masked = T.sdpa(q, k, v, { mask: t([[0, 1]], 'bool'), scale: 1 }).data();
  assertClose(masked, [0, 1, 0, 1]);
  // KV-cache step: the last query against all keys equals the causal full pass's last row
  const step = T.sdpa(q.slice(1, 1, 2), k, v, { causal: true, scale: 1 }).data();
  assertClose(step, Array.from(causal.slice(2, 4) as Float32Array));
  // default scale 1/sqrt(D)
  const s = T.sdpa(
    t([[[1, 1]]]),
    t([
      [
        [1, 1],
        [0, 0],
      ],
    ]),
    t([
      [
        [1, 0],
        [0, 1],
      ],
    ]),
  ).data();
  const w = Math.exp(Math.SQRT2) / (Math.exp(Math.SQRT2) + 1);
  assertClose(s, [w, 1 - w]);
});

test('multinomial follows the weights', () => {
  T.manualSeed(3);
  const draws = T.multinomial(t([[0, 1, 0]]), 5, true).toInt32Array();
  assert.deepEqual(Array.from(draws), [1, 1, 1, 1, 1]);
  const many = T.multinomial(
    t([[1, 3]])
      .expand(4000, 2)
      .contiguous(),
    1,
  ).toInt32Array();
  const ones = many.reduce((n, x) => n + x, 0);
  assert.ok(Math.abs(ones / 4000 - 0.75) < 0.03, `${ones / 4000}`);
});

test('errors name the op and the shapes and never crash', () => {
  assert.throws(() => t([1, 2, 3]).add(t([1, 2])), /add: .*size of tensor a \(3\).*inputs: #0 float32\[3\], #1 float32\[2\]/);
  assert.throws(() => t([[1, 2]]).matmul(t([[1, 2]])), /matmul: .*float32\[1, 2\].*float32\[1, 2\]/);
  assert.throws(() => T.crossEntropy(t([[1, 2]]), t([0])), /crossEntropy: target must be int64/);
  assert.throws(() => T.embedding(t([[1]]), t([5], 'int64')), /embedding: .*index out of range|embedding: .*out of range/i);
  const x = t([1]);
  x.dispose();
  assert.throws(() => x.add(1), /used after dispose/);
  assert.throws(() => T.zeros([2], 'complex' as T.DType), /unknown dtype 'complex'/);
  assert.throws(() => t([1]).backward(), /does not require grad/);
  assert.throws(() => T.conv2d(T.ones([1, 2, 4, 4]), T.ones([1, 3, 3, 3])), /conv2d: .*float32\[1, 2, 4, 4\].*float32\[1, 3, 3, 3\]/);
});
