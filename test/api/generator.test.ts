// The library API as a program uses it: load once, generate many times off the main thread, the
// same images as the CLI, progress, cancellation that frees memory, two generators side by side,
// disposal, and coarse-to-fine's own operations (refine, region edit).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import {
  coarseMapImage,
  encodePNG,
  imageGrid,
  loadClusters,
  loadGenerator,
  loadTokenizer,
  shippedRun,
  type Generator,
} from '../../src/index.js';
import { packageRoot } from '../../src/util/package-root.js';

const cli = join(packageRoot, 'dist', 'src', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'ctf-api-'));

let ctf: Generator;
test.before(async () => {
  ctf = await loadGenerator(shippedRun('ctf'), { threads: 1 });
});
test.after(async () => {
  await ctf.dispose();
});

test('a generator describes its run and generates images, token maps and coarse maps that agree', async () => {
  assert.equal(ctf.kind, 'ctf');
  assert.equal(ctf.classNames.length, 10);
  assert.deepEqual(ctf.imageSize, { width: 32, height: 32 });
  assert.equal(ctf.channels, 1);
  assert.equal(ctf.grid, 8);
  assert.equal(ctf.defaults.cfg, 2);
  const progress: string[] = [];
  const r = await ctf.generate({ classes: ['Sneaker', 1, 'bag'], seed: 3, onProgress: (p) => progress.push(p.stage) });
  assert.deepEqual(r.classes, [7, 1, 8]);
  assert.equal(r.images.length, 3);
  for (const im of r.images) assert.deepEqual([im.width, im.height, im.channels, im.data.length], [32, 32, 1, 1024]);
  assert.ok(progress.includes('stage1') && progress.includes('stage2') && progress.includes('decode'));
  assert.ok(r.timings.total > 0 && r.timings.stage1 > 0);
  const { idxToCluster } = await loadClusters(join(shippedRun('ctf'), 'clusters.safetensors'));
  r.tokens.forEach((t, i) => {
    assert.equal(t.length, 64);
    t.forEach((code, p) =>
      assert.equal(idxToCluster[code], r.coarse![i]![p], `image ${i} cell ${p}: code ${code} outside its coarse label`),
    );
  });
  // the same request gives the same images, in any batch size
  const again = await ctf.generate({ classes: ['Sneaker', 1, 'bag'], seed: 3, batchSize: 1 });
  assert.deepEqual(again.tokens, r.tokens);
  assert.deepEqual(
    again.images.map((im) => im.data),
    r.images.map((im) => im.data),
  );
  await assert.rejects(ctf.generate({ classes: ['Spaceship'] }), /unknown class 'Spaceship'/);
  await assert.rejects(ctf.generate({ classes: [12] }), /class 12 is out of range/);
  await assert.rejects(ctf.generate({ classes: [0], temperature: -1 }), /stage 1: temperature/);
  await assert.rejects(ctf.generate({ classes: [] }), /at least one class/);
});

test('the API draws exactly what `ctfgen sample` draws for the same seed and settings', async () => {
  const tokensFile = join(dir, 'cli-tokens.json');
  const each = join(dir, 'each');
  const cmd = ['sample', '--run', shippedRun('ctf'), '--class', 'Dress', '--n', '3', '--seed', '5', '--cfg', '1.5'];
  const c = spawnSync(process.execPath, [cli, ...cmd, '--out', join(dir, 'grid.png'), '--tokens', tokensFile, '--each', each], {
    encoding: 'utf8',
  });
  assert.equal(c.status, 0, c.stderr);
  const fromCli = JSON.parse(readFileSync(tokensFile, 'utf8')) as { tokens: number[][]; coarse: number[][] };
  const r = await ctf.generate({ classes: ['Dress', 'Dress', 'Dress'], seed: 5, cfg: 1.5 });
  assert.deepEqual(
    r.tokens.map((t) => Array.from(t)),
    fromCli.tokens,
  );
  assert.deepEqual(
    r.coarse!.map((t) => Array.from(t)),
    fromCli.coarse,
  );
  readdirSync(each)
    .sort()
    .forEach((f, i) => {
      const png = PNG.sync.read(readFileSync(join(each, f)));
      const grey = Uint8Array.from({ length: 1024 }, (_, p) => png.data[4 * p]!);
      assert.deepEqual(grey, r.images[i]!.data, `${f} differs from the API's image ${i}`);
    });
});

test('generation does not block the event loop: a 10 ms timer keeps firing', async () => {
  let last = performance.now();
  let worst = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
    ticks++;
  }, 10);
  const t0 = performance.now();
  let n = 16;
  // at least 2 seconds of generation
  while (performance.now() - t0 < 2000) {
    await ctf.generate({ classes: Array.from({ length: n }, (_, i) => i % 10), seed: 1 });
    n *= 2;
  }
  clearInterval(timer);
  assert.ok(ticks > 50, `only ${ticks} timer ticks in ${(performance.now() - t0).toFixed(0)} ms`);
  assert.ok(worst < 100, `the event loop stalled for ${worst.toFixed(0)} ms`);
});

test('two generators in one process run concurrently and each draws what it draws alone', async () => {
  const base = await loadGenerator(shippedRun('baseline'), { threads: 1 });
  try {
    assert.equal(base.kind, 'baseline');
    const req = { classes: [0, 3, 7, 9], seed: 11 };
    const [a, b] = [await ctf.generate(req), await base.generate(req)];
    const [a2, b2] = await Promise.all([ctf.generate(req), base.generate(req)]);
    assert.deepEqual(a2.tokens, a.tokens);
    assert.deepEqual(b2.tokens, b.tokens);
    assert.equal(b.coarse, undefined);
    assert.notDeepEqual(a.tokens, b.tokens);
  } finally {
    await base.dispose();
  }
});

test('an aborted generation rejects with AbortError and frees its memory (50 aborts)', async () => {
  const request = () => {
    const ac = new AbortController();
    return ctf.generate({
      classes: Array.from({ length: 64 }, (_, i) => i % 10),
      seed: 2,
      signal: ac.signal,
      onProgress: (p) => {
        if (p.stage === 'stage1' && p.done >= 5) ac.abort();
      },
    });
  };
  await assert.rejects(request(), (e: Error) => e.name === 'AbortError');
  const rss = () => process.memoryUsage().rss;
  // the allocator settles within ~25 requests (RSS then stays flat over hundreds: a leak would climb)
  for (let i = 0; i < 25; i++) await request().catch(() => {});
  const before = rss();
  for (let i = 0; i < 50; i++) await assert.rejects(request(), (e: Error) => e.name === 'AbortError');
  const after = rss();
  assert.ok(after < before * 1.1, `RSS grew from ${(before / 2 ** 20).toFixed(0)} MB to ${(after / 2 ** 20).toFixed(0)} MB over 50 aborts`);
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(ctf.generate({ classes: [0], signal: ac.signal }), (e: Error) => e.name === 'AbortError');
  // the generator still works afterwards
  assert.equal((await ctf.generate({ classes: [1] })).images.length, 1);
});

test('refine keeps the coarse maps and re-draws fine tokens; edit changes only the region', async () => {
  const g = await ctf.generate({ classes: ['Coat', 'Sandal'], seed: 4 });
  const refined = await ctf.refine({ classes: g.classes, coarse: g.coarse!, seed: 9 });
  assert.deepEqual(refined.coarse, g.coarse);
  assert.notDeepEqual(refined.tokens, g.tokens);
  const { idxToCluster } = await loadClusters(join(shippedRun('ctf'), 'clusters.safetensors'));
  refined.tokens.forEach((t, i) => t.forEach((code, p) => assert.equal(idxToCluster[code], g.coarse![i]![p])));

  const region = { x0: 2, y0: 3, x1: 6, y1: 7 };
  const inside = (p: number) => p % 8 >= 2 && p % 8 < 6 && Math.floor(p / 8) >= 3 && Math.floor(p / 8) < 7;
  const edited = await ctf.edit({ classes: ['Bag', 'Bag'], tokens: g.tokens, region, seed: 1 });
  for (let i = 0; i < 2; i++) {
    let changed = 0;
    g.tokens[i]!.forEach((code, p) => {
      if (!inside(p)) assert.equal(edited.tokens[i]![p], code, `image ${i} cell ${p} outside the region changed`);
      else if (edited.tokens[i]![p] !== code) changed++;
    });
    assert.ok(changed > 0, `image ${i}: nothing changed inside the region`);
  }
  await assert.rejects(ctf.edit({ classes: [0], tokens: [g.tokens[0]!], region: { x0: 3, y0: 0, x1: 3, y1: 2 } }), /x0 < x1/);
  await assert.rejects(
    ctf.edit({ classes: [0], tokens: [g.tokens[0]!], region: { x0: 0, y0: 0, x1: 9, y1: 2 } }),
    /region.x1 must be an integer in 0..8/,
  );
  await assert.rejects(ctf.refine({ classes: [0], coarse: [new Int32Array(5)] }), /expected 1 maps of 64 cells/);

  const base = await loadGenerator(shippedRun('baseline'), { threads: 1 });
  try {
    const b = await base.generate({ classes: [5], seed: 2 });
    const e = await base.edit({ classes: [5], tokens: b.tokens, region, seed: 3 });
    b.tokens[0]!.forEach((code, p) => {
      if (!inside(p)) assert.equal(e.tokens[0]![p], code);
    });
    await assert.rejects(base.refine({ classes: [5], coarse: [new Int32Array(64)] }), /refining needs a CTF run/);
  } finally {
    await base.dispose();
  }
});

test('images: PNG encoding, grids and coarse maps; the tokenizer decodes token maps into the same images', async () => {
  const g = await ctf.generate({ classes: [0, 1], seed: 0 });
  const png = PNG.sync.read(Buffer.from(encodePNG(g.images[0]!)));
  assert.deepEqual([png.width, png.height], [32, 32]);
  assert.deepEqual(
    Uint8Array.from({ length: 1024 }, (_, p) => png.data[4 * p]!),
    g.images[0]!.data,
  );
  const grid = imageGrid(g.images, { labels: ['two images'], scale: 2 });
  assert.equal(grid.channels, 3);
  assert.ok(grid.width > 2 * 64 && grid.height >= 64);
  const map = coarseMapImage(g.coarse![0]!, ctf.clusters!);
  assert.deepEqual([map.width, map.height, map.channels], [8, 8, 3]);
  assert.throws(() => coarseMapImage([0, 1, 2], 4), /not square/);
  assert.throws(() => encodePNG({ width: 2, height: 2, channels: 2, data: new Uint8Array(8) }), /channels must be 1, 3 or 4/);

  const tok = await loadTokenizer(join(packageRoot, 'models', 'fashion-mnist', 'tokenizer.safetensors'));
  try {
    assert.equal(tok.info.codebookSize, 4096);
    const decoded = await tok.decode(g.tokens);
    assert.deepEqual(
      decoded.map((im) => im.data),
      g.images.map((im) => im.data),
    );
    const codes = await tok.encode(decoded);
    assert.equal(codes.length, 2);
    assert.equal(codes[0]!.length, 64);
  } finally {
    await tok.dispose();
  }
});

test('dispose frees the generator; a second dispose is harmless; use after dispose is a clear error', async () => {
  const g = await loadGenerator(shippedRun('ctf'), { threads: 1 });
  await g.dispose();
  await g.dispose();
  assert.equal(g.disposed, true);
  await assert.rejects(g.generate({ classes: [0] }), /Generator.generate: this generator was disposed; load it again/);
  await assert.rejects(loadGenerator(join(dir, 'no-such-run')), /not a ctfgen run folder/);
  await assert.rejects(loadGenerator(shippedRun('ctf'), { device: 'cuda' }), /device 'cuda' is not available/);
  {
    await using scoped = await loadGenerator(shippedRun('baseline'), { threads: 1 });
    assert.equal(scoped.kind, 'baseline');
  }
});
