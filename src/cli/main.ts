#!/usr/bin/env node
// ctfgen command line. Each subcommand lives in its own module; this file only wires arguments
// (commander: maintained, typed, generates --help).
import { Command, InvalidArgumentError } from 'commander';

const program = new Command();
program.name('ctfgen').description('Coarse-to-fine token prediction for class-conditional image generation (LlamaGen-compatible)');

export function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got '${v}'`);
  return n;
}

program
  .command('smoke')
  .description('train a tiny GPT for a few steps and print the loss falling (engine check)')
  .option('--steps <n>', 'training steps', positiveInt, 60)
  .action(async (o: { steps: number }) => {
    const { runSmoke } = await import('./smoke.js');
    const { first, last } = runSmoke(o.steps);
    if (!(last < first)) throw new Error(`smoke: loss did not fall (${first} → ${last})`);
  });

program
  .command('inspect')
  .description('list the tensors of a checkpoint (.pt zip, .safetensors or a sharded index): names, shapes, dtypes, parameter count')
  .argument('<file>')
  .option('--max-rows <n>', 'rows to print', positiveInt)
  .action(async (file: string, o: { maxRows?: number }) => {
    const { inspectCheckpoint, formatInspectSummary } = await import('../io/index.js');
    console.log(formatInspectSummary(await inspectCheckpoint(file), { maxRows: o.maxRows }));
  });

program
  .command('convert')
  .description('convert a PyTorch checkpoint to safetensors (no Python, no pickle code executed)')
  .argument('<in>', '.pt / .pth / .bin PyTorch zip checkpoint')
  .argument('<out>', 'output .safetensors')
  .option('--float32', 'convert float16/bfloat16 weights to float32')
  .action(async (input: string, out: string, o: { float32?: boolean }) => {
    const { convertToSafetensors } = await import('../io/index.js');
    const r = await convertToSafetensors(input, out, { toFloat32: o.float32 ?? false });
    console.log(`wrote ${out}: ${r.tensorCount} tensors, ${r.parameterCount} parameters, ${r.byteCount} bytes`);
  });

program
  .command('verify-llamagen')
  .description("load gpt.pt / vq.pt from a LlamaGen reference fixture folder and recompute every recorded output")
  .argument('<dir>', 'fixture folder with manifest.json (e.g. ../shared/fixtures/llamagen-ref-a)')
  .action(async (dir: string) => {
    const { verifyLlamaGenFixture } = await import('../verify/llamagen.js');
    const results = await verifyLlamaGenFixture(dir);
    for (const r of results)
      console.log(
        `${r.ok ? 'ok  ' : 'FAIL'} ${r.name.padEnd(16)} ${r.exact ? `${r.error} mismatching entries (must be 0)` : `max abs error ${r.error.toExponential(2)} (tolerance ${r.tolerance})`}`,
      );
    if (results.length === 0) throw new Error(`${dir}: the manifest describes no GPT or VQ outputs`);
    if (results.some((r) => !r.ok)) process.exitCode = 1;
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  console.error(`ctfgen: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
