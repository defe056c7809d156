#!/usr/bin/env node
// ctfgen command line. Each subcommand lives in its own module; this file only wires arguments
// (commander: maintained, typed, generates --help).
import { Command } from 'commander';
import { CLUSTER_METHODS } from '../cluster/kmeans.js';
import { STAGES } from '../ctf/index.js';
import { MAX_PIXELS_ENV } from '../data/decode.js';
import { PACKED_WEIGHTS } from '../models/gpt-packed.js';
import { TOKENIZER_PRESETS } from '../tokenizer/presets.js';
import { TOKEN_PRESETS } from '../train/presets.js';
import { shippedPath } from '../util/package-root.js';
import { addComputeFlags } from './compute-flags.js';
import { addLaunchCommand } from './launch-cmd.js';
import { fraction, intList, nonNegInt, oneOf, positiveInt, positiveNumber } from './parse.js';
import { addSamplingFlags } from './sampling-flags.js';

const program = new Command();
const WEIGHTS_HELP =
  'sampling weights: fp32, or int8 (linear layers dynamic-quantized through oneDNN: approximate; see docs/benchmarks.md)';
program
  .name('ctfgen')
  .description('Coarse-to-fine token prediction for class-conditional image generation (LlamaGen-compatible)')
  // options after a subcommand belong to it: `eval classifier train --out x` must not set `eval --out`
  .enablePositionalOptions()
  .option(
    '--max-pixels <n>',
    `largest image decoded from a dataset folder, in pixels (default 4096×4096; or ${MAX_PIXELS_ENV})`,
    positiveInt,
  )
  .hook('preAction', (root) => {
    const maxPixels = root.opts<{ maxPixels?: number }>().maxPixels;
    if (maxPixels !== undefined) process.env[MAX_PIXELS_ENV] = String(maxPixels);
  });
const tokenPresets = Object.keys(TOKEN_PRESETS);
const tokenizerPresets = Object.keys(TOKENIZER_PRESETS);
const OVERWRITE_HELP =
  'start over an existing checkpoint, replacing it (without --resume or this, an existing one is kept and the command stops)';

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

program
  .command('cluster')
  .description("cluster a tokenizer's codebook into coarse labels (idxToCluster)")
  .requiredOption('--tokenizer <ckpt>', 'VQ tokenizer checkpoint (ours or LlamaGen vq_ds16_c2i.pt)')
  .requiredOption('--clusters <k>', 'number of clusters', positiveInt)
  .option('--method <m>', CLUSTER_METHODS.join(' | '), oneOf(CLUSTER_METHODS), 'kmeans')
  .option('--seed <s>', 'random seed', nonNegInt, 0)
  .option('--used-by <token-cache>', 'cluster only the codes this token cache uses (the rest join their nearest centroid)')
  .option('--out <file>', 'output file (default: beside the tokenizer)')
  .action(async (o) => {
    const { clusterCommand } = await import('./cluster-cmd.js');
    await clusterCommand(o);
  });

const train = program.command('train').description('train stage 1, stage 2 or the fine-token baseline into a run folder');
const STAGE_HELP = {
  stage1: ['ar', 'stage 1: GPT over coarse labels'],
  stage2: ['aux', 'stage 2: auxiliary model, coarse map → all fine tokens in one pass'],
  baseline: [null, 'the same GPT over fine tokens (plain LlamaGen)'],
} as const;
for (const stage of STAGES) {
  const [alias, what] = STAGE_HELP[stage];
  const cmd = train
    .command(stage)
    .description(what)
    .requiredOption('--run <dir>', 'run folder (created; later commands read it)')
    .requiredOption('--tokenizer <ckpt>', 'tokenizer the caches were encoded with')
    .requiredOption('--train-cache <file>', 'token cache of the training split (ctfgen tokenizer encode)')
    .option('--val-cache <file>', 'token cache of a held-out split, for validation loss')
    .option('--preset <name>', tokenPresets.join(' | '), oneOf(tokenPresets), 'fashion-mnist')
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
    .option(
      '--keep-every <n>',
      'steps between kept weight snapshots (<stage>.step-<N>.safetensors; `ctfgen eval --step N` reads them)',
      positiveInt,
    )
    .option('--dropout <p>', 'token, residual and FFN dropout (default 0.1)', fraction)
    .option('--class-dropout <p>', 'class dropout, for classifier-free guidance (default 0.1)', fraction)
    .option('--resume', "continue from the run's last checkpoint")
    .option('--overwrite', OVERWRITE_HELP);
  addComputeFlags(cmd);
  if (alias) cmd.alias(alias);
  if (stage !== 'baseline') cmd.requiredOption('--clusters <file>', 'cluster file (ctfgen cluster)');
  if (stage === 'stage2')
    cmd
      .option('--stage2-mask', "restrict the loss's softmax to the members of each position's coarse label")
      .option('--stage2-causal', 'causal instead of full attention');
  cmd.action(async (o) => {
    const { trainCommand } = await import('./train-cmd.js');
    await trainCommand(stage, o);
  });
}

const tokenizer = program.command('tokenizer').description('the VQ tokenizer: train, evaluate, encode datasets');
addComputeFlags(tokenizer.command('train'))
  .description('train a LlamaGen VQ tokenizer with a large codebook')
  .option('--preset <name>', tokenizerPresets.join(' | '), oneOf(tokenizerPresets), 'fashion-mnist')
  .requiredOption('--out <ckpt>', 'checkpoint to write (reconstruction grids and metrics go beside it)')
  .option('--data <spec>', "training dataset (default: the preset's)")
  .option('--test-data <spec>', "validation dataset (default: the preset's)")
  .option('--steps <n>', 'optimizer steps', positiveInt)
  .option('--batch-size <n>', 'batch size', positiveInt)
  .option('--lr <x>', 'peak learning rate', positiveNumber)
  .option('--entropy-loss <w>', 'entropy loss weight (LlamaGen entropy_loss_ratio)', positiveNumber)
  .option('--codebook-size <n>', "codes in the codebook (default: the preset's)", positiveInt)
  .option('--val-images <n>', 'test images of the periodic validation (default 512)', positiveInt)
  .option('--seed <s>', 'random seed', nonNegInt, 0)
  .option('--resume', 'continue from the checkpoint at --out')
  .option('--overwrite', OVERWRITE_HELP)
  .action(async (o) => {
    const { tokenizerTrainCommand } = await import('./tokenizer-cmd.js');
    const { entropyLoss, ...rest } = o;
    await tokenizerTrainCommand({ ...rest, entropyLossRatio: entropyLoss });
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
    const { tokenizerEvalCommand } = await import('./tokenizer-cmd.js');
    await tokenizerEvalCommand(o);
  });
tokenizer
  .command('encode')
  .description('write the token cache of a dataset (codes of every image and its mirror image, plus labels)')
  .requiredOption('--tokenizer <ckpt>', 'tokenizer checkpoint')
  .requiredOption('--data <spec>', 'dataset, e.g. fashion-mnist:train')
  .requiredOption('--out <file>', 'token cache to write (.safetensors; a folder of shards with --center-crop / --ten-crop)')
  .option('--no-flip', 'skip the mirrored copies')
  .option('--center-crop', "image folder: ADM's center_crop_arr to the tokenizer's size, plus the mirrored crop")
  .option('--ten-crop', "image folder: LlamaGen's --ten-crop (center_crop_arr to size × crop range, then TenCrop)")
  .option('--crop-range <x>', '--ten-crop: centre crop size / tokenizer size (default 1.1)', positiveNumber)
  .option('--class-map <file>', 'class folder → label: JSON {"name": index} or one class per line (default: sorted folder names)')
  .option('--shard-size <n>', 'images per shard (default 10000)', positiveInt)
  .option('--resume', 'continue an interrupted folder encode after its last shard')
  .action(async (o) => {
    const { tokenizerEncodeCommand } = await import('./tokenizer-cmd.js');
    await tokenizerEncodeCommand(o);
  });

addComputeFlags(addSamplingFlags(program.command('sample')))
  .description('generate a PNG grid of images from a trained run (CTF: stage 1 + stage 2; or the baseline), or a .npz of N samples')
  .option('--run <dir>', 'run folder (the shipped Fashion-MNIST CTF run by default)', shippedPath('models/fashion-mnist/ctf'))
  .option('--weights <fp32|int8>', WEIGHTS_HELP, oneOf(PACKED_WEIGHTS), 'fp32')
  .option('--class <id|name|all>', 'class id or name; all = one row per class', 'all')
  .option('--n <count>', 'images per class (grid), or in all (--npz)', positiveInt, 8)
  .option('--out <png>', 'output grid', 'samples.png')
  .option('--each <dir>', 'also write one PNG per image into this folder (streamed: any --n)')
  .option('--max-grid <n>', 'largest grid written, in images (above it, use --each or --npz)', positiveInt, 1024)
  .option('--tokens <json>', "also write each image's class, fine-token map and coarse map (CTF) as JSON")
  .option('--npz <file>', "write N samples in the ADM evaluator's layout instead (arr_0 uint8 [N, H, W, 3], arr_1 labels)")
  .option(
    '--labels <balanced|uniform>',
    '--npz: class i mod K for image i, or uniformly random classes',
    oneOf(['balanced', 'uniform']),
    'balanced',
  )
  .option('--shard-size <n>', '--npz: images per resumable shard', positiveInt, 1000)
  .option('--resume', '--npz: continue an interrupted run from its shards')
  .action(async (o) => {
    if (o.npz) {
      if (o.class !== 'all' || o.each || o.tokens)
        throw new Error('--npz writes --n images with --labels classes; --class, --each and --tokens do not apply');
      const { sampleNpzCommand } = await import('./sample-npz-cmd.js');
      await sampleNpzCommand(o);
      return;
    }
    const { sampleCommand } = await import('./sample-cmd.js');
    await sampleCommand(o);
  });

const analyze = program.command('analyze').description('look inside a tokenizer: token redundancy, what clusters hold');
analyze
  .command('redundancy')
  .description("the paper's Figure 1b: swap tokens within a cluster, across clusters, at random; decode; compare")
  .requiredOption('--tokenizer <ckpt>', 'tokenizer checkpoint')
  .option('--data <spec>', 'test images', 'fashion-mnist:test')
  .option('--n <count>', 'images', positiveInt, 256)
  .option('--clusters <k,k,...>', 'cluster counts', intList, [32, 128, 512])
  .option('--method <m>', CLUSTER_METHODS.join(' | '), oneOf(CLUSTER_METHODS), 'kmeans')
  .option('--seed <s>', 'random seed', nonNegInt, 0)
  .option('--out-dir <dir>', 'where the PNG grids and redundancy.json go', 'docs/figures')
  .action(async (o) => {
    const { redundancyCommand } = await import('./analyze-cmd.js');
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
    const { clusterPictureCommand } = await import('./analyze-cmd.js');
    await clusterPictureCommand(o);
  });

program
  .command('export')
  .description('copy a run as a small shippable folder: weights only, tokenizer and clusters beside them')
  .requiredOption('--run <dir>', 'trained run folder')
  .requiredOption('--out <dir>', 'destination folder')
  .option('--tokenizer-out <file>', 'write the tokenizer here instead (one file shared by several exported runs)')
  .action(async (o) => {
    const { exportRun } = await import('../run/export.js');
    for (const f of await exportRun(o.run, o.out, o.tokenizerOut)) console.log(f);
  });

const evalCmd = addComputeFlags(addSamplingFlags(program.command('eval')))
  .enablePositionalOptions()
  .description("FID / sFID / KID / IS / precision / recall / class accuracy of a run's samples, or of any .npz or image folder (--samples)")
  .option('--run <dir>', 'run folder to sample and evaluate')
  .option(
    '--samples <npz|folder>',
    'evaluate these images instead: a .npz (arr_0 uint8 [N, H, W, 3], as ADM / LlamaGen / VAR write) or an image folder',
  )
  .option('--n <count>', 'generated images (--run)', positiveInt, 1000)
  .option('--weights <fp32|int8>', WEIGHTS_HELP, oneOf(PACKED_WEIGHTS), 'fp32')
  .option(
    '--classifier <ckpt>',
    "feature network: a ctfgen classifier or Inception-v3 weights (default: the classifier of the run's dataset)",
  )
  .option('--reference <spec|npz|folder>', "real images or precomputed statistics (default: the test split of the run's dataset)")
  .option('--center-crop <size>', "prepare image folders with ADM's center_crop_arr at this size", positiveInt)
  .option(
    '--pr-sets <equal|all>',
    'precision/recall on equal-sized sets (the larger thinned evenly) or on both whole sets',
    oneOf(['equal', 'all']),
    'equal',
  )
  .option('--sweep <name=v1,v2>', 'repeat over values of one sampling setting, e.g. cfg=1.5,2,3 or stage2-temperature=0.8,1.1')
  .option('--out <json>', 'write the results here')
  .action(async (o) => {
    if (o.samples) {
      if (o.run) throw new Error('give --run (sample and evaluate) or --samples (evaluate files), not both');
      const { evalSamplesCommand } = await import('./eval-cmd.js');
      await evalSamplesCommand(o);
      return;
    }
    if (!o.run)
      throw new Error(
        'ctfgen eval needs --run <dir> or --samples <npz|folder> (or use `ctfgen eval classifier train` / `ctfgen eval stats`)',
      );
    const { evalCommand } = await import('./eval-cmd.js');
    await evalCommand(o);
  });
evalCmd
  .command('stats')
  .description("write reference statistics in the ADM evaluator's layout (mu, sigma; mu_s, sigma_s with Inception)")
  .requiredOption('--data <spec|npz|folder>', 'real images: a dataset spec, a .npz (arr_0) or an image folder')
  .requiredOption('--out <npz>', 'statistics file to write')
  .option('--classifier <ckpt>', 'feature network (default: the classifier trained or tested on the dataset)')
  .option('--center-crop <size>', "prepare image folders with ADM's center_crop_arr at this size", positiveInt)
  .action(async (o) => {
    const { evalStatsCommand } = await import('./eval-cmd.js');
    await evalStatsCommand(o);
  });
const classifierTrain = evalCmd.command('classifier').description('the feature classifier behind FID/IS/precision/recall').command('train');
addComputeFlags(classifierTrain)
  .description('train the feature classifier for a dataset')
  .requiredOption('--data <preset|spec>', 'fashion-mnist | emoji | a training dataset spec')
  .option('--test <spec>', 'test split (required for a plain dataset spec)')
  .option('--out <ckpt>', 'output checkpoint')
  .option('--epochs <n>', 'epochs', positiveInt)
  .option('--batch-size <n>', 'batch size', positiveInt)
  .option('--lr <x>', 'learning rate', positiveNumber)
  .option('--seed <s>', 'random seed', nonNegInt, 0)
  .option('--resume', 'continue from the checkpoint at --out')
  .option('--overwrite', OVERWRITE_HELP)
  .action(async (o) => {
    const { classifierTrainCommand } = await import('./eval-cmd.js');
    await classifierTrainCommand(o);
  });

addLaunchCommand(program);

program
  .command('serve')
  .description('a local web app and JSON API: generate, see coarse maps, re-draw fine tokens, edit regions')
  .option('--run <dir...>', 'run or export folders to serve (default: the shipped Fashion-MNIST CTF and baseline models)')
  .option('--host <address>', 'address to bind (loopback unless you say otherwise)', '127.0.0.1')
  .option('--port <n>', 'port (0 = any free port)', nonNegInt, 7860)
  .option('--max-queue <n>', 'requests running + waiting before new ones get 429', positiveInt, 16)
  .option('--threads <n>', 'libtorch threads per model', positiveInt)
  .action(async (o) => {
    const { serveCommand } = await import('./serve-cmd.js');
    await serveCommand(o);
  });

program
  .command('study')
  .description('run (or resume) a reproduction study end to end and rewrite its report; finished steps are skipped')
  .argument(
    '[study]',
    "fashion-mnist | emoji | fashion-mnist-points (study v2 part A: operating points of the shipped models, no training) | fashion-mnist-v2 (part B: trained at the paper's proportions)",
    'fashion-mnist',
  )
  .option('--report-only', 'only rewrite the report from the files the study wrote')
  .action(async (name: string, o: { reportOnly?: boolean }) => {
    if (name === 'fashion-mnist-points') {
      const { pointsCommand } = await import('./points-cmd.js');
      console.log(`wrote ${await pointsCommand()}`);
      return;
    }
    if (name === 'fashion-mnist-v2') {
      const { trainedStudyCommand } = await import('./v2-cmd.js');
      console.log(`wrote ${await trainedStudyCommand()}`);
      return;
    }
    const { runNamedStudy } = await import('../study/runner.js');
    const r = await runNamedStudy(name, o);
    console.log(`wrote ${r.report}`);
    if (!r.ok) process.exitCode = 1;
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
