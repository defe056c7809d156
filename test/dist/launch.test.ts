// `ctfgen launch` with real processes: torchrun's variables for every worker, output prefixed
// with the rank, the launch failing as soon as one worker fails (the others stopped), signals
// passed on to the workers, bad layouts refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cli, freePort, start } from './helpers.js';

const launchArgs = (port: number) => [process.execPath, cli, ...'launch --nproc-per-node 2 --master-port'.split(' '), String(port), '--'];

test('every worker gets the torchrun variables; its lines come out prefixed with its rank', async () => {
  const port = await freePort();
  const script =
    "const e = process.env; console.log(`${e.RANK} of ${e.WORLD_SIZE}, local ${e.LOCAL_RANK}/${e.LOCAL_WORLD_SIZE} at ${e.MASTER_ADDR}:${e.MASTER_PORT}`); console.error('to stderr');";
  const r = await start([...launchArgs(port), process.execPath, '-e', script]).done;
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n').filter(Boolean).sort();
  assert.deepEqual(lines, [`[0] 0 of 2, local 0/2 at 127.0.0.1:${port}`, `[1] 1 of 2, local 1/2 at 127.0.0.1:${port}`]);
  assert.deepEqual(r.stderr.split('\n').filter(Boolean).sort(), ['[0] to stderr', '[1] to stderr']);
});

test('a failing worker ends the launch at once with its exit code, stopping the others', async () => {
  const script = "if (process.env.RANK === '1') setTimeout(() => process.exit(3), 300); else setInterval(() => {}, 1000);";
  const r = await start([...launchArgs(await freePort()), process.execPath, '-e', script]).done;
  assert.equal(r.code, 3);
  assert.match(r.stderr, /ctfgen launch: rank 1 exited with code 3; stopping the other workers/);
  assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
});

test('SIGTERM to the launch reaches every worker; the launch exits with 128 + 15', async () => {
  const script =
    "process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(0); }); console.log('ready'); setInterval(() => {}, 1000);";
  const p = start([...launchArgs(await freePort()), process.execPath, '-e', script]);
  while (!(p.stdout().includes('[0] ready') && p.stdout().includes('[1] ready'))) await new Promise((resolve) => setTimeout(resolve, 20));
  p.kill('SIGTERM');
  const r = await p.done;
  assert.equal(r.code, 143, r.stderr);
  assert.deepEqual(
    r.stdout
      .split('\n')
      .filter((l) => l.includes('SIGTERM'))
      .sort(),
    ['[0] got SIGTERM', '[1] got SIGTERM'],
  );
});

test('a layout that cannot work is refused with the fix', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'launch', ...args, '--', 'true'], { encoding: 'utf8' });
  assert.match(
    run('--nproc-per-node', '1', '--nnodes', '2', '--node-rank', '2', '--master-addr', 'x').stderr,
    /--node-rank 2 is outside 0\.\.1/,
  );
  assert.match(run('--nproc-per-node', '1', '--nnodes', '2').stderr, /with --nnodes > 1 give --master-addr/);
  assert.match(run('--nproc-per-node', '0').stderr, /--nproc-per-node.*expected a positive integer/);
});
