// The package as a user installs it: `npm pack`, unpacked into another project's node_modules (its
// dependencies linked from ours, the addon copied in instead of rebuilt — the install script would
// build the same file), then `import('ctfgen')` by name and the shipped example run from there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { encodePNG, imageGrid, loadGenerator, shippedRun } from '../../src/index.js';
import { packageRoot } from '../../src/util/package-root.js';

test('the packed package imports by name and its example writes the images the API generates', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctf-pack-'));
  const packed = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
    cwd: packageRoot,
    encoding: 'utf8',
  });
  const [{ filename, files }] = JSON.parse(packed) as [{ filename: string; files: { path: string }[] }];
  const paths = files.map((f) => f.path);
  for (const need of [
    'dist/src/index.js',
    'dist/src/index.d.ts',
    'dist/src/api/worker-host.js',
    'native/binding.gyp',
    'models/fashion-mnist/ctf/run.json',
    'examples/generate.mjs',
  ])
    assert.ok(paths.includes(need), `the package lacks ${need}`);
  assert.ok(!paths.some((p) => /^(test|bench|dist\/test|dist\/bench|runs)\//.test(p)), 'tests, benchmarks or runs were packed');

  // a user's project with ctfgen installed
  const proj = join(dir, 'project');
  const modules = join(proj, 'node_modules');
  mkdirSync(modules, { recursive: true });
  writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'user-project', private: true, type: 'module' }));
  execFileSync('tar', ['-xzf', join(dir, filename), '-C', modules]);
  renameSync(join(modules, 'package'), join(modules, 'ctfgen'));
  for (const dep of readdirSync(join(packageRoot, 'node_modules')))
    if (!dep.startsWith('.') && !existsSync(join(modules, dep))) symlinkSync(join(packageRoot, 'node_modules', dep), join(modules, dep));
  const addon = join(modules, 'ctfgen', 'native', 'build', 'Release');
  mkdirSync(addon, { recursive: true });
  copyFileSync(join(packageRoot, 'native', 'build', 'Release', 'ctfgen_torch.node'), join(addon, 'ctfgen_torch.node'));

  const keys = execFileSync(process.execPath, ['-e', "import('ctfgen').then((m) => console.log(JSON.stringify(Object.keys(m))))"], {
    cwd: proj,
    encoding: 'utf8',
  });
  const exported = JSON.parse(keys) as string[];
  for (const name of [
    'loadGenerator',
    'loadTokenizer',
    'encodePNG',
    'imageGrid',
    'trainStage',
    'evaluateRun',
    'loadClusters',
    'SAMPLING_DEFAULTS',
  ])
    assert.ok(exported.includes(name), `import('ctfgen') lacks ${name}`);

  const out = join(proj, 'four.png');
  const run = spawnSync(process.execPath, [join(modules, 'ctfgen', 'examples', 'generate.mjs'), out], { cwd: proj, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /four\.png: Sneaker, Bag, Dress, Trouser \(ctf/);
  const png = PNG.sync.read(readFileSync(out));
  assert.ok(png.width > 4 * 32 && png.height > 32);
  // the same request through the API in this process gives the same bytes
  const g = await loadGenerator(shippedRun('ctf'), { threads: 1 });
  try {
    const { images } = await g.generate({ classes: ['Sneaker', 'Bag', 'Dress', 'Trouser'], seed: 0 });
    assert.deepEqual(readFileSync(out), Buffer.from(encodePNG(imageGrid(images, { cols: 4, scale: 4 }))));
  } finally {
    await g.dispose();
  }
});
