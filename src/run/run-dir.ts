// The run folder every command understands:
//   <run>/run.json                 what the run is made of (dataset, tokenizer, clusters, caches)
//   <run>/<stage>.safetensors      weights + optimizer + config of each trained stage
//   <run>/<stage>.metrics.jsonl    training metrics
//   <run>/<stage>-curve.png        training curve
//   <run>/samples/                 sample grids
// Stages: `stage1` (CTF's autoregressive GPT over coarse labels), `stage2` (CTF's auxiliary model,
// coarse map → fine tokens) and `baseline` (the same GPT over fine tokens). Folders written before
// the stages had these names (`ar`, `aux`) keep loading: their files are found under the old names.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { writeJsonAtomicSync } from '../io/index.js';
import type { Stage } from '../ctf/stages.js';

/** What the stages' files were called before they were named stage1 / stage2. */
const LEGACY_NAME: Partial<Record<Stage, string>> = { stage1: 'ar', stage2: 'aux' };

export interface RunInfo {
  /** tokenizer checkpoint (VQ weights + config) */
  tokenizer: string;
  /** cluster file (CTF runs) */
  clusters?: string;
  /** token caches used in training ('' when shipped without them) */
  trainCache: string;
  valCache?: string;
  dataset: string;
  classNames: string[];
  numClasses: number;
}

const FILE_KEYS = ['tokenizer', 'clusters', 'trainCache', 'valCache'] as const;

export class RunDir {
  readonly root: string;
  constructor(root: string) {
    this.root = resolve(root);
  }
  get infoPath(): string {
    return join(this.root, 'run.json');
  }
  /** `<stage><suffix>` in the run folder, or the legacy name's file when only that exists. */
  #file(stage: Stage, suffix: string): string {
    const path = join(this.root, `${stage}${suffix}`);
    const legacy = LEGACY_NAME[stage];
    if (legacy && !existsSync(path)) {
      const old = join(this.root, `${legacy}${suffix}`);
      if (existsSync(old)) return old;
    }
    return path;
  }
  checkpoint(stage: Stage): string {
    return this.#file(stage, '.safetensors');
  }
  metrics(stage: Stage): string {
    return this.#file(stage, '.metrics.jsonl');
  }
  curve(stage: Stage): string {
    return this.#file(stage, '-curve.png');
  }
  get samplesDir(): string {
    return join(this.root, 'samples');
  }
  has(stage: Stage): boolean {
    return existsSync(this.checkpoint(stage));
  }
  ensure(): this {
    mkdirSync(this.root, { recursive: true });
    return this;
  }

  /** run.json with its file references resolved to absolute paths. */
  readInfo(): RunInfo {
    if (!existsSync(this.infoPath)) throw new Error(`${this.root} is not a ctfgen run folder (no run.json); train a stage into it first`);
    const info = JSON.parse(readFileSync(this.infoPath, 'utf8')) as RunInfo;
    for (const k of FILE_KEYS) if (info[k]) info[k] = isAbsolute(info[k]) ? info[k] : resolve(this.root, info[k]);
    return info;
  }

  /** Writes run.json; an existing run must agree on tokenizer, clusters and dataset. */
  writeInfo(info: RunInfo): void {
    if (existsSync(this.infoPath)) {
      const old = this.readInfo();
      for (const k of ['tokenizer', 'clusters', 'dataset'] as const)
        if (old[k] !== undefined && info[k] !== undefined && resolve(String(old[k])) !== resolve(String(info[k])))
          throw new Error(`${this.root}: run was made with ${k} ${old[k]}, not ${info[k]}; use a new --run folder`);
      info = { ...old, ...Object.fromEntries(Object.entries(info).filter(([, v]) => v !== undefined)) } as RunInfo;
    }
    this.ensure();
    // references are stored relative to the run folder, so a run can be moved or shipped whole
    const stored = { ...info };
    for (const k of FILE_KEYS) if (stored[k]) stored[k] = relative(this.root, resolve(stored[k]));
    writeJsonAtomicSync(this.infoPath, stored);
  }
}
