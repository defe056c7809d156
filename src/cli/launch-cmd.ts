// `ctfgen launch`: the command's wiring; the launcher itself is src/dist/launch.ts.
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { DEFAULT_MASTER_PORT, launch } from '../dist/launch.js';
import { nonNegInt, positiveInt, positiveNumber } from './parse.js';

interface LaunchCmdOptions {
  nprocPerNode: number;
  nnodes: number;
  nodeRank: number;
  masterAddr?: string;
  masterPort: number;
  timeout?: number;
}

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError(`expected a TCP port (1-65535), got '${v}'`);
  return n;
}

export function addLaunchCommand(program: Command): void {
  program
    .command('launch')
    .description(
      "run a command in several processes (on this machine, or on several with one launch per machine) with torchrun's environment " +
        '(RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT): train, sample and eval then share the work. ' +
        'Output lines are prefixed with the rank; the launch fails as soon as one process fails. ' +
        'Example: ctfgen launch --nproc-per-node 2 -- ctfgen train baseline --run runs/b ...',
    )
    .requiredOption('--nproc-per-node <n>', 'processes on this machine', positiveInt)
    .option('--nnodes <m>', 'machines taking part (start one launch on each)', positiveInt, 1)
    .option('--node-rank <i>', "this machine's place, 0..nnodes-1 (node 0 hosts rank 0)", nonNegInt, 0)
    .option('--master-addr <addr>', 'address of node 0 that every machine reaches (default 127.0.0.1 on one machine)')
    .option('--master-port <port>', 'free TCP port on node 0 for the rendezvous', port, DEFAULT_MASTER_PORT)
    .option(
      '--timeout <s>',
      'seconds a process waits for the others in a collective before failing (CTFGEN_DIST_TIMEOUT, default 600)',
      positiveNumber,
    )
    .argument('<command...>', 'the command every process runs, after --; `ctfgen …` runs this ctfgen')
    .passThroughOptions()
    .action(async (command: string[], o: LaunchCmdOptions) => {
      // `ctfgen …` is this very CLI, run by this Node (no npx lookup per process)
      const argv = command[0] === 'ctfgen' ? [process.execPath, process.argv[1]!, ...command.slice(1)] : command;
      const r = await launch({
        command: argv,
        nprocPerNode: o.nprocPerNode,
        nnodes: o.nnodes,
        nodeRank: o.nodeRank,
        masterAddr: o.masterAddr ?? (o.nnodes === 1 ? '127.0.0.1' : undefined),
        masterPort: o.masterPort,
        env: o.timeout !== undefined ? { CTFGEN_DIST_TIMEOUT: String(o.timeout) } : {},
        onLine: (rank, stream, line) => (stream === 'stdout' ? process.stdout : process.stderr).write(`[${rank}] ${line}\n`),
        onEvent: (message) => process.stderr.write(`ctfgen launch: ${message}\n`),
      });
      process.exitCode = r.exitCode;
    });
}
