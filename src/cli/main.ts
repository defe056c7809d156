#!/usr/bin/env node
// ctfgen command line. Each subcommand lives in its own module; this file only wires arguments
// (commander: maintained, typed, generates --help).
import { Command, InvalidArgumentError } from 'commander';

const program = new Command();
program
  .name('ctfgen')
  .description('Coarse-to-fine token prediction for class-conditional image generation (LlamaGen-compatible)')
  // options after a subcommand belong to it: `eval classifier train --out x` must not set `eval --out`
  .enablePositionalOptions();

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
  .description('load gpt.pt / vq.pt from a LlamaGen reference fixture folder and recompute every recorded output')
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

const nonNegInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a non-negative integer, got '${v}'`);
  return n;
};
const positiveNumber = (v: string): number => {
  const n = Number(v);
  if (!(n > 0)) throw new InvalidArgumentError(`expected a positive number, got '${v}'`);
  return n;
};

program
  .command('cluster')
  .description("cluster a tokenizer's codebook into coarse labels (idxToCluster)")
  .requiredOption('--tokenizer <ckpt>', 'VQ tokenizer checkpoint (ours or LlamaGen vq_ds16_c2i.pt)')
  .requiredOption('--clusters <k>', 'number of clusters', positiveInt)
  .option('--method <m>', 'kmeans | balanced | random', 'kmeans')
  .option('--seed <s>', 'random seed', nonNegInt, 0)
  .option('--used-by <token-cache>', 'cluster only the codes this token cache uses (the rest join their nearest centroid)')
  .option('--out <file>', 'output file (default: beside the tokenizer)')
  .action(async (o) => {
    const { clusterCommand } = await import('./cluster-cmd.js');
    await clusterCommand(o);
  });

const train = program.command('train').description('train stage 1 (ar), stage 2 (aux) or the fine-token baseline');
for (const [stage, what] of [
  ['ar', 'stage 1: GPT over coarse labels'],
  ['aux', 'stage 2: auxiliary model, coarse map → all fine tokens in one pass'],
  ['baseline', 'the same GPT over fine tokens (plain LlamaGen)'],
] as const) {
  const cmd = train
    .command(stage)
    .description(what)
    .requiredOption('--run <dir>', 'run folder (created; later commands read it)')
    .requiredOption('--tokenizer <ckpt>', 'tokenizer the caches were encoded with')
    .requiredOption('--train-cache <file>', 'token cache of the training split (ctfgen tokenizer encode)')
    .option('--val-cache <file>', 'token cache of the test split, for validation loss')
    .option('--preset <name>', 'fashion-mnist | emoji | tiny', 'fashion-mnist')
    .option('--steps <n>', 'optimizer steps', positiveInt)
    .option('--batch-size <n>', 'batch size', positiveInt)
    .option('--grad-accum <n>', 'micro-batches per optimizer step', positiveInt)
    .option('--ema <decay>', 'keep EMA weights with this decay (e.g. 0.999); sampling uses them', positiveNumber)
    .option('--lr <x>', 'peak learning rate', positiveNumber)
    .option('--dim <n>', 'model width', positiveInt)
    .option('--layers <n>', 'transformer layers', positiveInt)
    .option('--heads <n>', 'attention heads', positiveInt)
    .option('--seed <s>', 'random seed', nonNegInt, 0)
    .option('--validate-every <n>', 'steps between validations', positiveInt)
    .option('--save-every <n>', 'steps between checkpoints', positiveInt)
    .option('--resume', "continue from the run's last checkpoint");
  if (stage !== 'baseline') cmd.requiredOption('--clusters <file>', 'cluster file (ctfgen cluster)');
  if (stage === 'aux')
    cmd
      .option('--aux-mask', 'restrict the loss to members of each coarse label')
      .option('--aux-causal', 'causal instead of full attention');
  cmd.action(async (o) => {
    const { trainCommand } = await import('./train-cmd.js');
    await trainCommand(stage, o);
  });
}

const tokenizer = program.command('tokenizer').description('the VQ tokenizer: train, evaluate, encode datasets');
tokenizer
  .command('train')
  .description('train a LlamaGen VQ tokenizer with a large codebook')
  .option('--preset <name>', 'fashion-mnist | emoji | tiny', 'fashion-mnist')
  .requiredOption('--out <ckpt>', 'checkpoint to write (reconstruction grids and metrics go beside it)')
  .option('--data <spec>', "training dataset (default: the preset's)")
  .option('--test-data <spec>', "validation dataset (default: the preset's)")
  .option('--steps <n>', 'optimizer steps', positiveInt)
  .option('--batch-size <n>', 'batch size', positiveInt)
  .option('--lr <x>', 'peak learning rate', positiveNumber)
  .option('--entropy-loss <w>', 'entropy loss weight (LlamaGen entropy_loss_ratio)', positiveNumber)
  .option('--seed <s>', 'random seed', nonNegInt, 0)
  .option('--resume', 'continue from the checkpoint at --out')
  .action(async (o) => {
    const { trainTokenizer } = await import('../tokenizer/train-tokenizer.js');
    const r = await trainTokenizer({ ...o, entropyLossRatio: o.entropyLoss });
    console.log(
      `tokenizer: ${r.steps} steps in ${r.seconds.toFixed(0)} s; test PSNR ${r.val.psnr.toFixed(2)} dB (MSE ${r.val.mse.toFixed(5)}), ` +
        `codebook usage ${(100 * r.val.usage).toFixed(1)}%, perplexity ${r.val.perplexity.toFixed(0)} on ${r.val.n} test images → ${o.out}`,
    );
    r.model.dispose();
  });
tokenizer
  .command('eval')
  .description('reconstruction MSE/PSNR, codebook usage and perplexity on a test split')
  .requiredOption('--tokenizer <ckpt>', 'tokenizer checkpoint (ours or LlamaGen .pt)')
  .requiredOption('--data <spec>', 'dataset, e.g. fashion-mnist:test')
  .option('--limit <n>', 'evaluate only this many images', positiveInt)
  .option('--grid <png>', 'also write originals above reconstructions')
  .option('--out <json>', 'also write the statistics here')
  .action(async (o) => {
    const { tokenizerEvalCommand } = await import('../tokenizer/eval-command.js');
    await tokenizerEvalCommand(o);
  });
tokenizer
  .command('encode')
  .description('write the token cache of a dataset (codes of every image and its mirror image, plus labels)')
  .requiredOption('--tokenizer <ckpt>', 'tokenizer checkpoint')
  .requiredOption('--data <spec>', 'dataset, e.g. fashion-mnist:train')
  .requiredOption('--out <file>', 'token cache to write (.safetensors)')
  .option('--no-flip', 'skip the mirrored copies')
  .action(async (o) => {
    const { openTokenizer } = await import('../tokenizer/tokenizer-file.js');
    const { encodeCommand } = await import('../tokenizer/encode-dataset.js');
    const tok = await openTokenizer(o.tokenizer);
    await encodeCommand({ ...o, noFlip: o.flip === false }, tok);
    tok.model.dispose();
  });

const nonNegNumber = (v: string): number => {
  const n = Number(v);
  if (!(n >= 0)) throw new InvalidArgumentError(`expected a number ≥ 0, got '${v}'`);
  return n;
};
const weightsKind = (v: string): 'fp32' | 'int8' => {
  if (v !== 'fp32' && v !== 'int8') throw new InvalidArgumentError(`expected fp32 or int8, got '${v}'`);
  return v;
};
/** The sampling settings `sample` and `eval` share (SampleCmdOptions). */
function samplingOptions(cmd: Command): Command {
  return cmd
    .option('--system <kind>', 'ctf | baseline (when a run holds both)')
    .option('--cfg <scale>', 'classifier-free guidance scale (1 = off; default 2.0)', nonNegNumber)
    .option('--cfg-schedule <s>', 'constant | linear')
    .option('--temperature <t>', 'stage-1 temperature (default 1.1)', nonNegNumber)
    .option('--top-k <k>', 'stage-1 top-k (0 = all)', nonNegInt)
    .option('--top-p <p>', 'stage-1 top-p (1 = all)', positiveNumber)
    .option('--temperature2 <t>', 'stage-2 temperature (default 1.1)', nonNegNumber)
    .option('--top-k2 <k>', 'stage-2 top-k (1 = argmax, 0 = all)', nonNegInt)
    .option('--cfg2 <scale>', 'stage-2 guidance scale (default 1 = off)', nonNegNumber)
    .option('--no-restrict', 'let stage 2 pick codes outside the sampled coarse label')
    .option('--seed <s>', 'random seed', nonNegInt, 0)
    .option('--batch-size <n>', 'images per sampling batch', positiveInt)
    .option('--weights <fp32|int8>', 'sampling weights: fp32, or int8 (linear layers dynamic-quantized: faster, approximate)', weightsKind);
}

samplingOptions(program.command('sample'))
  .description('generate a PNG grid of images from a trained run (CTF: stage 1 + stage 2; or the baseline)')
  .option('--run <dir>', 'run folder', 'models/fashion-mnist/ctf')
  .option('--class <id|name|all>', 'class id or name; all = one row per class', 'all')
  .option('--n <count>', 'images per class', positiveInt, 8)
  .option('--out <png>', 'output grid', 'samples.png')
  .option('--each <dir>', 'also write one PNG per image into this folder')
  .action(async (o) => {
    const { sampleCommand } = await import('../sample/sample-command.js');
    await sampleCommand({ ...o, noRestrict: o.restrict === false });
  });

const intList = (v: string): number[] => {
  const xs = v.split(',').map((x) => Number(x.trim()));
  if (xs.length === 0 || xs.some((x) => !Number.isInteger(x) || x < 1))
    throw new InvalidArgumentError(`expected a comma-separated list of positive integers, got '${v}'`);
  return xs;
};
const analyze = program.command('analyze').description('look inside a tokenizer: token redundancy, what clusters hold');
analyze
  .command('redundancy')
  .description("the paper's Figure 1b: swap tokens within a cluster, across clusters, at random; decode; compare")
  .requiredOption('--tokenizer <ckpt>', 'tokenizer checkpoint')
  .option('--data <spec>', 'test images', 'fashion-mnist:test')
  .option('--n <count>', 'images', positiveInt, 256)
  .option('--clusters <k,k,...>', 'cluster counts', intList, [32, 128, 512])
  .option('--method <m>', 'kmeans | balanced | random', 'kmeans')
  .option('--seed <s>', 'random seed', nonNegInt, 0)
  .option('--out-dir <dir>', 'where the PNG grids and redundancy.json go', 'docs/figures')
  .action(async (o) => {
    const { redundancyCommand } = await import('../cluster/analyze-command.js');
    await redundancyCommand(o);
  });
analyze
  .command('clusters')
  .description('picture of sampled clusters: each member code decoded as a flat token map')
  .requiredOption('--tokenizer <ckpt>', 'tokenizer checkpoint')
  .requiredOption('--clusters <file>', 'cluster file')
  .option('--out <png>', 'output', 'clusters.png')
  .option('--rows <n>', 'clusters shown', positiveInt, 8)
  .option('--cols <n>', 'members per cluster', positiveInt, 10)
  .option('--seed <s>', 'random seed', nonNegInt, 0)
  .action(async (o) => {
    const { clusterPictureCommand } = await import('../cluster/analyze-command.js');
    await clusterPictureCommand(o);
  });

program
  .command('export')
  .description('copy a run as a small shippable folder: weights only, tokenizer and clusters beside them')
  .requiredOption('--run <dir>', 'trained run folder')
  .requiredOption('--out <dir>', 'destination folder')
  .option('--tokenizer-out <file>', 'write the tokenizer here instead (one file shared by several exported runs)')
  .action(async (o) => {
    const { exportRun } = await import('../train/export.js');
    for (const f of await exportRun(o.run, o.out, o.tokenizerOut)) console.log(f);
  });

const evalCmd = samplingOptions(program.command('eval'))
  .enablePositionalOptions()
  .description("FID / IS / precision / recall / class accuracy of a run's samples (and the feature classifier they use)")
  .option('--run <dir>', 'run folder')
  .option('--n <count>', 'generated images', positiveInt, 1000)
  .option(
    '--classifier <ckpt>',
    'feature network: a ctfgen classifier, or Inception-v3 weights',
    'models/fashion-mnist-classifier.safetensors',
  )
  .option('--reference <spec>', 'real images for the statistics', 'fashion-mnist:test')
  .option('--sweep <key=v1,v2>', 'repeat over values of one setting, e.g. cfg=1.5,2,3')
  .option('--out <json>', 'write the results here')
  .action(async (o) => {
    if (!o.run) throw new Error('ctfgen eval needs --run <dir> (or use `ctfgen eval classifier train`)');
    const { evaluateRun } = await import('../eval/evaluate-run.js');
    await evaluateRun({ ...o, noRestrict: o.restrict === false });
  });
evalCmd
  .command('classifier')
  .description('the feature classifier behind FID/IS/precision/recall')
  .command('train')
  .description('train the feature classifier for a dataset')
  .requiredOption('--data <preset|spec>', 'fashion-mnist | emoji | a training dataset spec')
  .option('--test <spec>', 'test split (required for a plain dataset spec)')
  .option('--out <ckpt>', 'output checkpoint')
  .option('--epochs <n>', 'epochs', positiveInt)
  .option('--batch-size <n>', 'batch size', positiveInt)
  .option('--lr <x>', 'learning rate', positiveNumber)
  .option('--seed <s>', 'random seed', nonNegInt, 0)
  .action(async (o) => {
    const { runClassifierTrainCli } = await import('../eval/train-classifier.js');
    await runClassifierTrainCli(o);
  });

program
  .command('report')
  .description('rewrite a study report (Markdown tables and PNG plots comparing the runs) from the files the study wrote')
  .argument('[study]', 'fashion-mnist | emoji', 'fashion-mnist')
  .option('--out <md>', "report path (default: the study's, e.g. docs/results.md)")
  .action(async (name: string, o: { out?: string }) => {
    const { writeReport } = await import('../study/report.js');
    const { StudyLog } = await import('../study/runner.js');
    const { studyConfig } = await import('../study/studies.js');
    const c = studyConfig(name);
    await writeReport(c, new StudyLog(c.log), o.out);
    console.log(`wrote ${o.out ?? c.report}`);
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  console.error(`ctfgen: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
