// The worker side of a Generator: one loaded run (CTF or baseline) and the three things it does —
// generate, refine (stage 2 alone over a given coarse map) and edit (re-generate a region).
import { SAMPLING_DEFAULTS, labelCodes, type SamplingOverrides, type SamplingSettings } from '../ctf/index.js';
import { imageGeometry, loadRun, type LoadedRun, type SystemKind } from '../run/load-run.js';
import { editImages, refineImages, type Region } from '../sample/edit.js';
import { decodeTokenMaps, resolveClass, sampleImages, type GenerationProgress, type SampledImages } from '../sample/images.js';
import type { StopSignal } from '../util/progress.js';
import { packHWC } from './images.js';

export interface GeneratorInfo {
  run: string;
  kind: SystemKind;
  classNames: string[];
  numClasses: number;
  imageSize: { width: number; height: number };
  channels: number;
  /** token cells per side (the coarse map and token maps are grid × grid) */
  grid: number;
  /** fine codes of the tokenizer */
  codebookSize: number;
  /** coarse labels (CTF) */
  clusters?: number;
  /** what the sampling settings default to */
  defaults: SamplingSettings;
}

/** What crosses back from the worker: all images in one buffer, all token maps in another. */
export interface PackedImages {
  n: number;
  width: number;
  height: number;
  channels: number;
  /** n × height × width × channels bytes */
  pixels: Uint8Array;
  classes: number[];
  /** n × grid² fine tokens */
  tokens: Int32Array;
  /** n × grid² coarse labels (CTF) */
  coarse?: Int32Array;
  seconds: { stage1: number; stage2: number; decode: number };
}

interface Ctx {
  onProgress: (p: GenerationProgress) => void;
  signal: StopSignal;
}

export interface GenerateArgs {
  classes: (number | string)[];
  seed?: number;
  firstIndex?: number;
  batchSize?: number;
  sampling?: SamplingOverrides;
}
export interface RefineArgs {
  classes: (number | string)[];
  coarse: Int32Array;
  seed?: number;
  firstIndex?: number;
  sampling?: SamplingOverrides;
}
export interface EditArgs {
  classes: (number | string)[];
  tokens?: Int32Array;
  coarse?: Int32Array;
  region: Region;
  seed?: number;
  firstIndex?: number;
  sampling?: SamplingOverrides;
}

function pack(r: SampledImages, classes: number[]): PackedImages {
  const [n, c, h, w] = r.shape;
  return {
    n,
    width: w,
    height: h,
    channels: c,
    pixels: packHWC(r.images, r.shape),
    classes,
    tokens: r.tokens,
    coarse: r.coarse,
    seconds: r.seconds,
  };
}

export async function openGenerator(args: { run: string; system?: SystemKind }) {
  const run: LoadedRun = await loadRun(args.run, args.system);
  const m = run.models;
  const { grid, width, height } = imageGeometry(run);
  const info: GeneratorInfo = {
    run: args.run,
    kind: run.kind,
    classNames: run.info.classNames,
    numClasses: run.info.numClasses,
    imageSize: { width, height },
    channels: run.tokenizer.model.config.inChannels ?? 3,
    grid,
    codebookSize: run.tokenizer.model.config.codebookSize,
    clusters: m.kind === 'ctf' ? m.clusters.k : undefined,
    defaults: { ...SAMPLING_DEFAULTS, stage2: { ...SAMPLING_DEFAULTS.stage2 } },
  };
  const ids = (classes: (number | string)[]) => {
    if (!Array.isArray(classes) || classes.length === 0) throw new Error('classes: give at least one class id or name');
    return classes.map((c) => resolveClass(c, run.info.classNames));
  };
  return {
    info,
    methods: {
      generate(a: GenerateArgs, ctx: Ctx): PackedImages {
        const classes = ids(a.classes);
        const r = sampleImages(run, {
          classes,
          seed: a.seed,
          firstIndex: a.firstIndex,
          batchSize: a.batchSize,
          sampling: a.sampling,
          onProgress: ctx.onProgress,
          signal: ctx.signal,
        });
        return pack(r, classes);
      },
      refine(a: RefineArgs): PackedImages {
        const classes = ids(a.classes);
        return pack(
          refineImages(run, { classes, coarse: a.coarse, seed: a.seed, firstIndex: a.firstIndex, sampling: a.sampling }),
          classes,
        );
      },
      /** CTF: the member codes of a coarse label, each decoded as a map filled with that one code */
      members(a: { label: number; max?: number }): PackedImages & { codes: number[] } {
        if (m.kind !== 'ctf') throw new Error('coarse labels exist in CTF runs only');
        if (!Number.isInteger(a.label) || a.label < 0 || a.label >= m.clusters.k)
          throw new Error(`label must be an integer in 0..${m.clusters.k - 1}, got ${a.label}`);
        const max = a.max ?? 16;
        if (!Number.isInteger(max) || max < 1 || max > 256) throw new Error(`max must be an integer in 1..256, got ${max}`);
        const codes = labelCodes(m.clusters, a.label).slice(0, max);
        const flat = Int32Array.from({ length: codes.length * grid * grid }, (_, i) => codes[Math.floor(i / (grid * grid))]!);
        return { ...pack(decodeTokenMaps(run, flat), []), codes };
      },
      edit(a: EditArgs): PackedImages {
        const classes = ids(a.classes);
        return pack(
          editImages(run, {
            classes,
            tokens: a.tokens,
            coarse: a.coarse,
            region: a.region,
            seed: a.seed,
            firstIndex: a.firstIndex,
            sampling: a.sampling,
          }),
          classes,
        );
      },
    },
    dispose: () => run.dispose(),
  };
}
