// The flags of commands that compute (train, sample, eval): device and precision; and the process
// group that a launcher (`ctfgen launch`, torchrun) describes in the environment.
import { InvalidArgumentError, type Command } from 'commander';
import { startProcess, type ProcessGroup } from '../dist/group.js';
import { PRECISIONS, type Precision } from '../torch/index.js';
import { oneOf } from './parse.js';

export interface ComputeFlags {
  device: string;
  precision: Precision;
}

function deviceName(v: string): string {
  if (!/^(cpu|cuda(:\d+)?)$/.test(v)) throw new InvalidArgumentError(`expected cpu, cuda or cuda:N, got '${v}'`);
  return v;
}

export function addComputeFlags(cmd: Command): Command {
  return cmd
    .option(
      '--device <d>',
      'cpu | cuda | cuda:N (under `ctfgen launch` or torchrun, cuda is cuda:LOCAL_RANK); CUDA needs the addon built against a CUDA libtorch (LIBTORCH=…)',
      deviceName,
      'cpu',
    )
    .option(
      '--precision <p>',
      "fp32 | bf16 (autocast: bfloat16 matmuls, float32 weights, optimizer state and loss). Debian's CPU libtorch has no fast bfloat16 kernels (a 1024³ matmul runs ~20x slower than in float32): use bf16 on a GPU",
      oneOf(PRECISIONS),
      'fp32',
    );
}

/** Runs fn on the flags' device, in the process group of the environment (null when alone). */
export async function withCompute<R>(o: ComputeFlags, fn: (group: ProcessGroup | null) => Promise<R>): Promise<R> {
  const group = startProcess(o.device);
  try {
    return await fn(group);
  } finally {
    group?.destroy();
  }
}
