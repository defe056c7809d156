// Autograd against central finite differences (float64) for every differentiable op.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';
import { hostRandom } from '../helpers.js';

type Fn = (...xs: T.Tensor[]) => T.Tensor;

/** Checks d(sum(fn(x) * R))/dx from backward() against central differences. */
function gradcheck(name: string, shapes: number[][], fn: Fn, opts: { positive?: boolean; tol?: number; seed?: number } = {}): void {
  const rnd = hostRandom(opts.seed ?? 42);
  const values = shapes.map((s) => {
    const n = s.reduce((a, b) => a * b, 1);
    return Float64Array.from({ length: n }, () => (opts.positive ? 0.5 + rnd() : rnd() * 2 - 1));
  });
  const weightsFor = (shape: number[]) => {
    const r = hostRandom(7);
    return Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1);
  };
  const loss = (vals: Float64Array[], withGrad: boolean): { value: number; grads: Float64Array[] } =>
    T.tidy(() => {
      const xs = vals.map((v, i) => T.fromArray(v, shapes[i]!).requiresGrad_(withGrad));
      const out = fn(...xs);
      const l = out.mul(T.fromArray(weightsFor(out.shape), out.shape)).sum();
      if (!withGrad) return { value: l.item(), grads: [] };
      l.backward();
      return { value: l.item(), grads: xs.map((x) => (x.grad ? (x.grad.data() as Float64Array) : new Float64Array(x.numel))) };
    });
  const analytic = loss(values, true).grads;
  const eps = 1e-6;
  const tol = opts.tol ?? 1e-5;
  values.forEach((v, i) => {
    for (let j = 0; j < v.length; j++) {
      const orig = v[j]!;
      v[j] = orig + eps;
      const up = T.noGrad(() => loss(values, false).value);
      v[j] = orig - eps;
      const down = T.noGrad(() => loss(values, false).value);
      v[j] = orig;
      const numeric = (up - down) / (2 * eps);
      const a = analytic[i]![j]!;
      if (Math.abs(a - numeric) > tol * Math.max(1, Math.abs(numeric)))
        assert.fail(`${name}: d/dx${i}[${j}] autograd ${a} vs finite difference ${numeric}`);
    }
  });
}

const cases: [string, number[][], Fn, { positive?: boolean; tol?: number }?][] = [
  ['add', [[2, 3], [3]], (a, b) => a.add(b!)],
  [
    'sub',
    [
      [2, 3],
      [2, 1],
    ],
    (a, b) => a.sub(b!),
  ],
  [
    'mul',
    [
      [2, 3],
      [2, 3],
    ],
    (a, b) => a.mul(b!),
  ],
  ['div', [[2, 3], [3]], (a, b) => a.div(b!), { positive: true }],
  ['pow', [[4], [4]], (a, b) => a.pow(b!), { positive: true }],
  ['pow scalar', [[4]], (a) => a.pow(3)],
  ['maximum', [[5], [5]], (a, b) => a.maximum(b!)],
  ['minimum', [[5], [5]], (a, b) => a.minimum(b!)],
  ['neg', [[3]], (a) => a.neg()],
  ['exp', [[3]], (a) => a.exp()],
  ['log', [[3]], (a) => a.log(), { positive: true }],
  ['log1p', [[3]], (a) => a.log1p(), { positive: true }],
  ['sqrt', [[3]], (a) => a.sqrt(), { positive: true }],
  ['rsqrt', [[3]], (a) => a.rsqrt(), { positive: true }],
  ['abs', [[3]], (a) => a.abs()],
  ['sin', [[3]], (a) => a.sin()],
  ['cos', [[3]], (a) => a.cos()],
  ['tanh', [[3]], (a) => a.tanh()],
  ['sigmoid', [[3]], (a) => a.sigmoid()],
  ['relu', [[6]], (a) => a.relu()],
  ['silu', [[6]], (a) => a.silu()],
  ['gelu', [[6]], (a) => a.gelu()],
  ['gelu tanh', [[6]], (a) => a.gelu(true)],
  ['square', [[3]], (a) => a.square()],
  ['reciprocal', [[3]], (a) => a.reciprocal(), { positive: true }],
  ['erf', [[3]], (a) => a.erf()],
  ['clamp', [[6]], (a) => a.clamp(-0.5, 0.5)],
  ['lerp', [[4], [4]], (a, b) => a.lerp(b!, 0.3)],
  ['sum dim', [[2, 3]], (a) => a.sum(1)],
  ['mean', [[2, 3]], (a) => a.mean(0, true)],
  ['amax', [[2, 3]], (a) => a.amax(1)],
  ['amin', [[2, 3]], (a) => a.amin(1)],
  ['max values', [[2, 3]], (a) => a.max(1).values],
  ['logsumexp', [[2, 3]], (a) => a.logsumexp(1)],
  ['var', [[2, 3]], (a) => a.var(1)],
  ['cumsum', [[4]], (a) => a.cumsum(0)],
  ['topk values', [[5]], (a) => a.topk(2).values],
  ['sort values', [[5]], (a) => a.sort(0, true).values],
  [
    'matmul',
    [
      [2, 3],
      [3, 2],
    ],
    (a, b) => a.matmul(b!),
  ],
  [
    'batched matmul',
    [
      [2, 2, 3],
      [3, 2],
    ],
    (a, b) => a.matmul(b!),
  ],
  [
    'bmm',
    [
      [2, 2, 3],
      [2, 3, 2],
    ],
    (a, b) => a.bmm(b!),
  ],
  ['softmax', [[2, 4]], (a) => a.softmax(1)],
  ['logSoftmax', [[2, 4]], (a) => a.logSoftmax(-1)],
  ['crossEntropy', [[3, 4]], (a) => T.crossEntropy(a, T.tensor([0, 3, 1], 'int64'))],
  ['crossEntropy smoothing+ignore', [[3, 4]], (a) => T.crossEntropy(a, T.tensor([0, -100, 2], 'int64'), { labelSmoothing: 0.1 })],
  [
    'embedding',
    [[4, 3]],
    (w) =>
      T.embedding(
        w,
        T.tensor(
          [
            [0, 2],
            [2, 3],
          ],
          'int64',
        ),
      ),
  ],
  ['linear', [[2, 3], [4, 3], [4]], (x, w, b) => T.linear(x, w!, b!)],
  ['conv2d', [[1, 2, 4, 4], [3, 2, 3, 3], [3]], (x, w, b) => T.conv2d(x, w!, b!, { stride: 2, padding: 1 })],
  ['groupNorm', [[2, 4, 2, 2], [4], [4]], (x, w, b) => T.groupNorm(x, 2, w!, b!, 1e-6)],
  ['layerNorm', [[2, 4], [4], [4]], (x, w, b) => T.layerNorm(x, [4], w!, b!, 1e-5)],
  ['rmsNorm', [[2, 4], [4]], (x, w) => T.rmsNorm(x, w!, 1e-5)],
  ['upsampleNearest2d', [[1, 2, 2, 2]], (x) => T.upsampleNearest2d(x, 2)],
  ['interpolateBilinear', [[1, 1, 2, 3]], (x) => T.interpolateBilinear(x, [3, 4])],
  ['avgPool2d', [[1, 1, 4, 4]], (x) => T.avgPool2d(x, 2)],
  ['maxPool2d', [[1, 1, 4, 4]], (x) => T.maxPool2d(x, 2)],
  ['adaptiveAvgPool2d', [[1, 2, 4, 4]], (x) => T.adaptiveAvgPool2d(x, 1)],
  ['pad', [[1, 2, 2]], (x) => T.pad(x, [1, 0, 0, 2], 0.5)],
  [
    'sdpa causal',
    [
      [1, 2, 3, 4],
      [1, 2, 3, 4],
      [1, 2, 3, 4],
    ],
    (q, k, v) => T.sdpa(q, k!, v!, { causal: true }),
  ],
  [
    'sdpa float mask',
    [
      [1, 2, 4],
      [1, 3, 4],
      [1, 3, 4],
    ],
    (q, k, v) =>
      T.sdpa(q, k!, v!, {
        mask: T.tensor(
          [
            [0, -1, 2],
            [1, 0, 0],
          ],
          'float64',
        ),
      }),
  ],
  [
    'cdist',
    [
      [3, 2],
      [4, 2],
    ],
    (a, b) => T.cdist(a, b!),
  ],
  ['where', [[4], [4]], (a, b) => T.where(T.tensor([1, 0, 0, 1], 'bool'), a, b!)],
  ['maskedFill', [[4]], (a) => a.maskedFill(T.tensor([1, 0, 0, 1], 'bool'), 2)],
  ['reshape/permute/transpose', [[2, 3, 2]], (a) => a.permute(2, 0, 1).transpose(0, 2).reshape(3, 4)],
  ['slice/select/flip', [[3, 4]], (a) => a.slice(1, 1, 4, 2).select(0, 2).flip(0)],
  [
    'indexSelect/gather',
    [[3, 4]],
    (a) =>
      a.indexSelect(0, T.tensor([2, 0], 'int64')).gather(
        1,
        T.tensor(
          [
            [1, 1],
            [3, 0],
          ],
          'int64',
        ),
      ),
  ],
  [
    'cat/stack/split',
    [
      [2, 2],
      [1, 2],
    ],
    (a, b) => T.stack(T.cat([a, b!], 0).split(1, 0), 2),
  ],
  ['expand/repeat/unsqueeze', [[2, 1]], (a) => a.expand(2, 3).unsqueeze(0).repeat(2, 1, 1)],
  ['scatter/indexAdd', [[3], [2]], (a, b) => a.scatter(0, T.tensor([1], 'int64'), 0).indexAdd(0, T.tensor([0, 0], 'int64'), b!)],
  ['tril', [[3, 3]], (a) => a.tril()],
];

for (const [name, shapes, fn, opts] of cases) test(`gradient: ${name}`, () => gradcheck(name, shapes, fn, opts));

test('gradients accumulate, zeroGrad clears, detach and noGrad stop recording', () => {
  const w = T.tensor([1, 2]).requiresGrad_();
  T.tidy(() => w.mul(3).sum().backward());
  T.tidy(() => w.mul(3).sum().backward());
  assert.deepEqual(w.grad!.toArray(), [6, 6]);
  T.zeroGrad([w]);
  assert.equal(w.grad, null);
  assert.equal(w.detach().requiresGrad, false);
  assert.equal(
    T.noGrad(() => w.mul(2).requiresGrad),
    false,
  );
  assert.equal(T.isGradEnabled(), true);
  assert.equal(w.mul(2).requiresGrad, true);
});
