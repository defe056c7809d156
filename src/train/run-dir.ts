// The run folder every command understands:
//   <run>/run.json                 what the run is made of (dataset, tokenizer, clusters, caches)
//   <run>/<stage>.safetensors      weights + optimizer + config of each trained stage (ar, aux, baseline)
//   <run>/<stage>.metrics.jsonl    training metrics
//   <run>/<stage>-curve.png        training curve
//   <run>/samples/                 sample grids
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeJsonAtomicSync } from '../io/index.js';

export type Stage = 'ar' | 'aux' | 'baseline';
export const STAGES: Stage[] = ['ar', 'aux', 'baseline'];

export interface RunInfo {
  /** tokenizer checkpoint (VQ weights + config) */
  tokenizer: string;
  /** cluster file (CTF runs) */
  clusters?: string;
  trainCache: string;
  valCache?: string;
  dataset: string;
  classNames: string[];
  numClasses: number;
}

export class RunDir {
  readonly root: string;
  constructor(root: string) {
    this.root = resolve(root);
  }
  get infoPath(): string {
    return join(this.root, 'run.json');
  }
  checkpoint(stage: Stage): string {
    return join(this.root, `${stage}.safetensors`);
  }
  metrics(stage: Stage): string {
    return join(this.root, `${stage}.metrics.jsonl`);
  }
  curve(stage: Stage): string {
    return join(this.root, `${stage}-curve.png`);
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

  readInfo(): RunInfo {
    if (!existsSync(this.infoPath)) throw new Error(`${this.root} is not a ctfgen run folder (no run.json); train a stage into it first`);
    return JSON.parse(readFileSync(this.infoPath, 'utf8')) as RunInfo;
  }

  /** Writes run.json; an existing run must agree on tokenizer, clusters and dataset. */
  writeInfo(info: RunInfo): void {
    if (existsSync(this.infoPath)) {
      const old = this.readInfo();
      for (const k of ['tokenizer', 'clusters', 'dataset'] as const)
        if (old[k] !== undefined && info[k] !== undefined && resolve(String(old[k])) !== resolve(String(info[k])) && old[k] !== info[k])
          throw new Error(`${this.root}: run was made with ${k} ${old[k]}, not ${info[k]}; use a new --run folder`);
      info = { ...old, ...Object.fromEntries(Object.entries(info).filter(([, v]) => v !== undefined)) } as RunInfo;
    }
    this.ensure();
    writeJsonAtomicSync(this.infoPath, info);
  }
}
