// Peak memory of `ctfgen sample --npz` against N: the shipped Fashion-MNIST CTF run writes N samples
// (32x32) in ADM's layout in a child process measured by /usr/bin/time -v (maximum resident set
// size), with its sampling rate. Memory must stay flat in N (target: < 1 GB at N = 50,000).
// Run: npx tsc -p tsconfig.json && node dist/bench/npz-rss.js [N ...]   (default 5000 50000)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/util/package-root.js';

const sizes = process.argv.slice(2).map(Number);
const dir = mkdtempSync(join(tmpdir(), 'ctfgen-npz-rss-'));
try {
  for (const n of sizes.length > 0 ? sizes : [5000, 50000]) {
    const out = join(dir, `samples-${n}.npz`);
    const cli = join(packageRoot, 'dist', 'src', 'cli', 'main.js');
    const run = join(packageRoot, 'models', 'fashion-mnist', 'ctf');
    const t0 = performance.now();
    const r = spawnSync('/usr/bin/time', ['-v', process.execPath, cli, 'sample', '--run', run, '--n', String(n), '--npz', out], {
      encoding: 'utf8',
    });
    const secs = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`sample --npz failed:\n${r.stderr}`);
    const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1]);
    console.log(
      `N = ${n}: peak RSS ${(kb / 1024).toFixed(0)} MB, ${(statSync(out).size / 2 ** 20).toFixed(1)} MB written, ` +
        `${secs.toFixed(0)} s (${(n / secs).toFixed(1)} images/s)`,
    );
    rmSync(out);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
