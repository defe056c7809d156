// The library's generator: load a run once, generate many times, off the caller's thread.
import type { SamplingOverrides, SamplingSettings, Stage2Sampling } from '../ctf/defaults.js';
import type { SystemKind } from '../run/load-run.js';
import type { Region } from '../sample/edit.js';
import type { GenerationProgress } from '../sample/images.js';
import { unpackImages, type Image } from './images.js';
import type { EditArgs, GenerateArgs, GeneratorInfo, PackedImages, RefineArgs } from './generator-session.js';
import { concatInt32 } from '../util/typed-arrays.js';
import { SessionHandle, WorkerSession } from './session.js';
import { shippedRun } from './shipped.js';

export type { GenerationProgress, Region };

export interface LoadGeneratorOptions {
  /** libtorch intra-op threads of this generator's worker (default: CTFGEN_THREADS or every core) */
  threads?: number;
  /** 'cpu' (this build computes on the CPU) */
  device?: string;
  /** which system to load when the run folder holds both (default: CTF when it has stage 1/2) */
  system?: SystemKind;
}

/** Sampling settings as `generate`, `refine` and `edit` take them (unset fields keep the defaults). */
export interface SamplingOptions {
  /** classifier-free guidance scale of stage 1 / the baseline (default 2) */
  cfg?: number;
  cfgSchedule?: SamplingSettings['cfgSchedule'];
  /** stage-1 temperature τ1 (default 1.1) */
  temperature?: number;
  topK?: number;
  topP?: number;
  /** stage 2 (CTF): temperature τ2, top-k/top-p, `restrict` to the position's coarse label, guidance */
  stage2?: Partial<Stage2Sampling>;
}

export interface GenerateOptions extends SamplingOptions {
  /** one entry per image: class ids or names (case-insensitive) */
  classes: (number | string)[];
  /** image i of the request is drawn from (seed, firstIndex + i) alone (default 0) */
  seed?: number;
  /** number of the first image (to continue a numbered set across calls; default 0) */
  firstIndex?: number;
  /** images per forward pass (default 32) */
  batchSize?: number;
  onProgress?: (p: GenerationProgress) => void;
  signal?: AbortSignal;
}

export interface GenerateResult {
  images: Image[];
  /** class id of each image */
  classes: number[];
  /** fine-token map of each image (grid × grid, row-major) */
  tokens: Int32Array[];
  /** coarse-label map of each image (CTF only) */
  coarse?: Int32Array[];
  /** seconds spent in each part, and in the whole call */
  timings: { stage1: number; stage2: number; decode: number; total: number };
}

export interface RefineOptions {
  /** class of each image */
  classes: (number | string)[];
  /** coarse maps to keep, one per image */
  coarse: Int32Array[];
  seed?: number;
  firstIndex?: number;
  stage2?: Partial<Stage2Sampling>;
  signal?: AbortSignal;
}

export interface EditOptions extends SamplingOptions {
  /** class of each image inside the region (another class than the image's own: class-conditional editing) */
  classes: (number | string)[];
  /** the images' fine-token maps (or, CTF only, their coarse maps) */
  tokens?: Int32Array[];
  coarse?: Int32Array[];
  /** token cells x0 ≤ x < x1, y0 ≤ y < y1 */
  region: Region;
  seed?: number;
  firstIndex?: number;
  signal?: AbortSignal;
}

const concat = (maps: Int32Array[] | undefined): Int32Array | undefined => maps && concatInt32(maps);

function sampling(o: SamplingOptions): SamplingOverrides {
  return { cfg: o.cfg, cfgSchedule: o.cfgSchedule, temperature: o.temperature, topK: o.topK, topP: o.topP, stage2: o.stage2 };
}

/** A loaded run (CTF or baseline) that generates images; dispose it when done. */
export class Generator extends SessionHandle<GeneratorInfo> {
  /** the run folder it was loaded from */
  readonly run: string;
  readonly kind: SystemKind;
  readonly classNames: readonly string[];
  readonly imageSize: { width: number; height: number };
  readonly channels: number;
  /** token cells per side of the token and coarse maps */
  readonly grid: number;
  readonly codebookSize: number;
  /** coarse labels (CTF) */
  readonly clusters?: number;
  /** the sampling settings used where a call leaves them unset */
  readonly defaults: SamplingSettings;

  /** @internal use loadGenerator */
  constructor(session: WorkerSession<GeneratorInfo>) {
    super(session);
    const i = session.info;
    this.run = i.run;
    this.kind = i.kind;
    this.classNames = Object.freeze([...i.classNames]);
    this.imageSize = i.imageSize;
    this.channels = i.channels;
    this.grid = i.grid;
    this.codebookSize = i.codebookSize;
    this.clusters = i.clusters;
    this.defaults = i.defaults;
  }

  async #call(
    method: string,
    args: unknown,
    o: { onProgress?: (p: GenerationProgress) => void; signal?: AbortSignal },
  ): Promise<GenerateResult> {
    this.check(method);
    const t0 = performance.now();
    const r = await this.session.call<PackedImages, GenerationProgress>(method, args, o);
    const L = this.grid * this.grid;
    const maps = (a: Int32Array) => Array.from({ length: r.n }, (_, i) => a.subarray(i * L, (i + 1) * L));
    return {
      images: unpackImages(r.pixels, r.n, r.width, r.height, r.channels),
      classes: r.classes,
      tokens: maps(r.tokens),
      coarse: r.coarse ? maps(r.coarse) : undefined,
      timings: { ...r.seconds, total: (performance.now() - t0) / 1000 },
    };
  }

  /** Generates one image per entry of `classes`. */
  generate(o: GenerateOptions): Promise<GenerateResult> {
    const args: GenerateArgs = {
      classes: o.classes,
      seed: o.seed,
      firstIndex: o.firstIndex,
      batchSize: o.batchSize,
      sampling: sampling(o),
    };
    return this.#call('generate', args, o);
  }

  /** CTF: keeps each coarse map and re-draws every fine token (stage 2 alone). */
  refine(o: RefineOptions): Promise<GenerateResult> {
    const args: RefineArgs = {
      classes: o.classes,
      coarse: concat(o.coarse)!,
      seed: o.seed,
      firstIndex: o.firstIndex,
      sampling: { stage2: o.stage2 },
    };
    return this.#call('refine', args, o);
  }

  /** Re-generates a region of each image, consistent with what surrounds it; tokens outside it stay. */
  edit(o: EditOptions): Promise<GenerateResult> {
    const args: EditArgs = {
      classes: o.classes,
      tokens: concat(o.tokens),
      coarse: concat(o.coarse),
      region: o.region,
      seed: o.seed,
      firstIndex: o.firstIndex,
      sampling: sampling(o),
    };
    return this.#call('edit', args, o);
  }

  /** CTF: what a coarse label stands for — its member codes, each decoded as a map filled with that code. */
  async labelMembers(label: number, o: { max?: number } = {}): Promise<{ codes: number[]; images: Image[] }> {
    this.check('labelMembers');
    const r = await this.session.call<PackedImages & { codes: number[] }>('members', { label, max: o.max });
    return { codes: r.codes, images: unpackImages(r.pixels, r.n, r.width, r.height, r.channels) };
  }
}

/**
 * Loads a CTF or baseline run folder (as `ctfgen train` writes it, or an `export`ed one) into a
 * worker thread of its own. Without a folder: the shipped Fashion-MNIST CTF model.
 */
export async function loadGenerator(runDir: string = shippedRun('ctf'), o: LoadGeneratorOptions = {}): Promise<Generator> {
  if (o.device !== undefined && o.device !== 'cpu')
    throw new Error(`device '${o.device}' is not available: this build of ctfgen computes on the CPU (device 'cpu')`);
  if (o.threads !== undefined && !(Number.isInteger(o.threads) && o.threads >= 1))
    throw new Error(`threads must be a positive integer, got ${o.threads}`);
  return new Generator(await WorkerSession.open<GeneratorInfo>('generator', { run: runDir, system: o.system }, o.threads));
}
