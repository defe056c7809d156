// Peak memory of writing N samples in ADM's layout, in a child process measured by /usr/bin/time -v
// (maximum resident set size): `ctfgen sample --npz` on the shipped Fashion-MNIST CTF run (32x32,
// its default batch of 64), and with --synthetic the writer alone (sample/npz-samples.ts fed
// 32x32 noise images by a torch sampler: shards, assembly and all). Memory must stay flat in N
// (target: < 1 GB at N = 50,000).
// Run: npx tsc -p tsconfig.json && node dist/bench/npz-rss.js [--synthetic] [N ...]   (default 5000 50000)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/util/package-root.js';

const synthetic = process.argv.includes('--synthetic');
const sizes = process.argv
  .slice(2)
  .filter((a) => a !== '--synthetic')
  .map(Number);
const dir = mkdtempSync(join(tmpdir(), 'ctfgen-npz-rss-'));
const dist = (p: string) => JSON.stringify(join(packageRoot, 'dist', p));
const WRITER_ONLY = `
  const { writeNpzSamples } = await import(${dist('src/sample/npz-samples.js')});
  const T = await import(${dist('src/torch/index.js')});
  const sample = (classes) => T.tidy(() => ({ images: T.rand([classes.length, 1, 32, 32]).mul(2).sub(1).toFloat32Array(), shape: [classes.length, 1, 32, 32] }));
  await writeNpzSamples({ out: process.argv[1], n: Number(process.argv[2]), numClasses: 10, labels: 'balanced', seed: 0, sample, size: [32, 32], batchSize: 64, meta: {} });
`;
try {
  for (const n of sizes.length > 0 ? sizes : [5000, 50000]) {
    const out = join(dir, `samples-${n}.npz`);
    const args = synthetic
      ? ['--input-type=module', '-e', WRITER_ONLY, out, String(n)]
      : [
          join(packageRoot, 'dist', 'src', 'cli', 'main.js'),
          'sample',
          '--run',
          join(packageRoot, 'models', 'fashion-mnist', 'ctf'),
          '--n',
          String(n),
          '--npz',
          out,
        ];
    const t0 = performance.now();
    const r = spawnSync('/usr/bin/time', ['-v', process.execPath, ...args], { encoding: 'utf8' });
    const secs = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`writing ${out} failed:\n${r.stderr}`);
    const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1]);
    console.log(
      `${synthetic ? 'writer alone' : 'sample --npz'}, N = ${n}: peak RSS ${(kb / 1024).toFixed(0)} MB, ` +
        `${(statSync(out).size / 2 ** 20).toFixed(1)} MB written, ${secs.toFixed(0)} s (${(n / secs).toFixed(1)} images/s)`,
    );
    rmSync(out);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
