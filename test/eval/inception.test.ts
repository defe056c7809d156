// Inception-v3 for the standard FID: our port against torchvision's network with pytorch-fid's
// changes (reference written by test/fixtures/gen_inception_reference.py with python3-torchvision,
// skipped where that is not installed); loading from .pt and safetensors; generated images
// converted to the network's input; ADM-layout statistics with sFID.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '../../src/torch/index.js';
import { convertToSafetensors, loadTensors, saveCheckpoint } from '../../src/io/index.js';
import { evaluateSamples, writeReferenceStats } from '../../src/eval/evaluate-files.js';
import { loadFeatureNetwork, loadInception } from '../../src/eval/load-feature-network.js';
import { networkInput } from '../../src/eval/metrics.js';
import { packageRoot } from '../../src/util/package-root.js';
import { assertClose } from '../helpers.js';

const PYTHON = process.env.CTFGEN_PYTHON ?? '/usr/bin/python3';
function hasTorchvision(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import torch, torchvision'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('Inception-v3 (FID variant) matches torchvision + pytorch-fid: features, logits and sFID spatial features; .pt and safetensors', async (t) => {
  if (!hasTorchvision()) return t.skip('python3-torchvision is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'ctf-inception-'));
  try {
    execFileSync(PYTHON, [join(packageRoot, 'test', 'fixtures', 'gen_inception_reference.py'), dir]);
    const ref = T.tensorsFromRaw((await loadTensors(join(dir, 'reference.pt'), { toFloat32: true })).tensors);
    const check = async (path: string) => {
      const loaded = await loadFeatureNetwork(path);
      assert.equal(loaded.kind, 'inception-v3');
      assert.equal(loaded.model.datasetClasses, false);
      const out = T.noGrad(() => loaded.model.forward(ref.get('images')!));
      assert.deepEqual(out.features.shape, [2, 2048]);
      assertClose(out.features.toFloat32Array(), ref.get('features')!.toFloat32Array(), 1e-4, 'features');
      assertClose(out.logits.toFloat32Array(), ref.get('logits')!.toFloat32Array(), 1e-4, 'logits');
      assert.deepEqual(out.spatial!.shape, [2, 2023]);
      assertClose(out.spatial!.toFloat32Array(), ref.get('spatial')!.toFloat32Array(), 1e-4, 'spatial (sFID) features');
      loaded.model.dispose();
      return loaded.id;
    };
    const idPt = await check(join(dir, 'inception.pt'));
    await convertToSafetensors(join(dir, 'inception.pt'), join(dir, 'inception.safetensors'));
    assert.equal(await check(join(dir, 'inception.safetensors')), idPt, 'same weights, same id');
    T.dispose(ref);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file that is neither a feature classifier nor Inception weights is a clear error; small safetensors are not taken for legacy torch files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctf-inception-'));
  try {
    const path = join(dir, 'other.safetensors');
    await saveCheckpoint(path, T.tensorsToRaw(new Map([['w', T.ones([2])]])), { kind: 'gpt' });
    await assert.rejects(loadFeatureNetwork(path), /not a feature classifier \(kind "gpt"\)/);
    await assert.rejects(loadInception(path), /no Mixed_7c\.branch_pool\.conv\.weight/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('networkInput: grey 32x32 samples become RGB 299x299 batches; matching shapes pass through', () => {
  const n = 3;
  const grey = new Float32Array(n * 32 * 32).map((_, i) => (Math.floor(i / 1024) - 1) / 2); // image k is constant (k − 1) / 2
  const batches = [...networkInput(grey, [n, 1, 32, 32], { channels: 3, imageSize: 299 }, 2)];
  assert.deepEqual(
    batches.map((b) => b.length),
    [2 * 3 * 299 * 299, 3 * 299 * 299],
  );
  const last = batches[1]!;
  assert.ok(
    last.every((v) => Math.abs(v - 0.5) < 1e-6),
    'a constant image stays constant',
  );
  assert.ok(batches[0]!.subarray(0, 3 * 299 * 299).every((v) => Math.abs(v + 0.5) < 1e-6));
  const same = [...networkInput(grey, [n, 1, 32, 32], { channels: 1, imageSize: 32 }, 2)];
  assert.deepEqual(
    same.map((b) => b.length),
    [2048, 1024],
  );
});

test("ADM's reference layout with Inception: eval stats writes mu/sigma and sFID's mu_s/sigma_s; a file without ctfgen's record (ADM's own) is used as Inception statistics", async (t) => {
  if (!hasTorchvision()) return t.skip('python3-torchvision is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'ctf-inception-'));
  try {
    execFileSync(PYTHON, [join(packageRoot, 'test', 'fixtures', 'gen_inception_reference.py'), dir]);
    execFileSync(PYTHON, [
      '-c',
      `import sys, numpy as np
rng = np.random.default_rng(0)
np.savez(sys.argv[1] + '/real.npz', arr_0=rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8))
np.savez(sys.argv[1] + '/samples.npz', arr_0=rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8))`,
      dir,
    ]);
    const p = (f: string) => join(dir, f);
    const classifier = p('inception.pt');
    const ref = await writeReferenceStats({ data: p('real.npz'), out: p('ref.npz'), classifier });
    assert.deepEqual([ref.stats.dim, ref.spatial?.dim], [2048, 2023]);
    // ADM's files hold images and statistics and no record of ctfgen's
    execFileSync(PYTHON, [
      '-c',
      `import sys, numpy as np
z, r = np.load(sys.argv[1] + '/ref.npz'), np.load(sys.argv[1] + '/real.npz')
assert z['mu_s'].shape == (2023,) and z['sigma_s'].shape == (2023, 2023)
np.savez(sys.argv[1] + '/adm.npz', arr_0=r['arr_0'], mu=z['mu'], sigma=z['sigma'], mu_s=z['mu_s'], sigma_s=z['sigma_s'])`,
      dir,
    ]);
    const fromImages = await evaluateSamples({ samples: p('samples.npz'), reference: p('real.npz'), classifier });
    const fromAdm = await evaluateSamples({ samples: p('samples.npz'), reference: p('adm.npz'), classifier });
    assert.ok(Number.isFinite(fromImages.sfid) && fromImages.sfid > 0 && fromImages.fid > 0);
    for (const k of ['fid', 'sfid', 'kid', 'precision', 'recall'] as const)
      assert.ok(
        Math.abs(fromAdm[k] - fromImages[k]) <= 1e-9 * Math.max(1, Math.abs(fromImages[k])),
        `${k}: ${fromAdm[k]} vs ${fromImages[k]}`,
      );
    assert.ok(Number.isNaN(fromImages.classAccuracy), "Inception's classes are not the data's");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
