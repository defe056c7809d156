// Sampling throughput of this checkout against another checkout of ctfgen (an older commit, to
// measure a speed-up over time), on this machine, in one run. Each checkout's own
// `dist/bench/sampling.js` (the study sizes: batch 100, CFG 2, 8x8 tokens, K = 128, V = 4096) runs
// in its own process, the two checkouts alternating round by round so that background load hits
// both alike; a process is stopped once it has printed its fp32 CTF and baseline rows (the rest of
// that bench, int8 and the KV-cache comparison, is not needed here). Ratios are this checkout's
// images/s over the other's, per round, and their median.
//   prepare the other side: git worktree add --detach ../pre19 4a9c42d && cd ../pre19 && npm ci && npx tsc -p tsconfig.json
//   run: npx tsc -p tsconfig.json && node dist/bench/sampling-against.js --against ../pre19 [--rounds 3]
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argValue, median, printTable } from './shared-tensors.js';

const against = argValue('--against');
const rounds = Number(argValue('--rounds') ?? 3);
const here = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
if (!against) throw new Error('--against <checkout> is required: a ctfgen checkout built with `npx tsc -p tsconfig.json`');
const other = resolve(against);
for (const root of [here, other]) {
  const script = join(root, 'dist/bench/sampling.js');
  if (!existsSync(script))
    throw new Error(`${script} not found: build that checkout first (npx tsc -p tsconfig.json, and its native addon)`);
}

interface Throughput {
  ctf: number;
  baseline: number;
}

/** The fp32 rows of one `sampling.js` process: the last column of its table is images/s. */
function runOnce(root: string): Promise<Throughput> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(root, 'dist/bench/sampling.js'), '--reps', '3'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const found: Partial<Throughput> = {};
    let text = '';
    const imagesPerSecond = (line: string) => Number(line.trim().split(/\s+/).at(-1));
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      for (const line of text.split('\n')) {
        if (line.startsWith('CTF (K = ')) found.ctf = imagesPerSecond(line);
        if (line.startsWith('baseline (V = ')) found.baseline = imagesPerSecond(line);
      }
      if (found.ctf !== undefined && found.baseline !== undefined) child.kill();
    });
    child.on('close', () => {
      if (found.ctf === undefined || found.baseline === undefined || !(found.ctf > 0) || !(found.baseline > 0))
        fail(new Error(`${root}: sampling.js printed no fp32 CTF and baseline rows:\n${text}`));
      else done(found as Throughput);
    });
  });
}

console.log(`Sampling images/s (fp32, study sizes): ${here} (this) against ${other}, ${rounds} alternating rounds`);
const rows = [['round', 'this CTF', 'other CTF', 'CTF ratio', 'this baseline', 'other baseline', 'baseline ratio']];
const ratios: Throughput[] = [];
for (let r = 0; r < rounds; r++) {
  const mine = await runOnce(here);
  const theirs = await runOnce(other);
  ratios.push({ ctf: mine.ctf / theirs.ctf, baseline: mine.baseline / theirs.baseline });
  rows.push([
    String(r + 1),
    mine.ctf.toFixed(1),
    theirs.ctf.toFixed(1),
    `${ratios[r]!.ctf.toFixed(2)}x`,
    mine.baseline.toFixed(1),
    theirs.baseline.toFixed(1),
    `${ratios[r]!.baseline.toFixed(2)}x`,
  ]);
}
printTable(rows);
const ctf = median(ratios.map((x) => x.ctf));
const baseline = median(ratios.map((x) => x.baseline));
console.log(
  `median ratio (this ÷ other images/s): CTF ${ctf.toFixed(2)}x, baseline ${baseline.toFixed(2)}x (issue 19 target ≥ 2x against 4a9c42d)`,
);
