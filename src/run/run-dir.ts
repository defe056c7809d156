// The run folder every command understands:
//   <run>/run.json                 what the run is made of (dataset, tokenizer, clusters, caches)
//   <run>/<stage>.safetensors      weights + optimizer + config of each trained stage
//   <run>/<stage>.metrics.jsonl    training metrics
//   <run>/<stage>-curve.png        training curve
//   <run>/samples/                 sample grids
// Stages: `stage1` (CTF's autoregressive GPT over coarse labels), `stage2` (CTF's auxiliary model,
// coarse map → fine tokens) and `baseline` (the same GPT over fine tokens). Folders written before
// the stages had these names (`ar`, `aux`) keep loading: their files are found under the old names.
//
// run.json is checked on every read (RunDir.#check): field types, non-empty strings, class count
// = class names, and file references. A reference is stored relative to the run folder when the
// file lies inside the run folder or beside it (in its parent folder's tree), else as the absolute
// path the user gave; a relative reference that leads elsewhere is refused (a tampered or
// hand-edited run.json), and a referenced file must be a regular file of its kind (extension).
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { readTextFileSync, writeJsonAtomicSync } from '../io/index.js';
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

/** The file references of run.json, the extensions a file of each kind has, and whether it must exist to use the run. */
const FILE_KEYS = {
  tokenizer: { exts: ['.safetensors', '.pt', '.pth', '.bin'], needed: true },
  clusters: { exts: ['.safetensors'], needed: true },
  // a token cache is one file, or a sharded cache: its folder or its index.json (data/token-cache.ts)
  trainCache: { exts: ['.safetensors', '.json'], needed: false, folderWith: 'index.json' },
  valCache: { exts: ['.safetensors', '.json'], needed: false, folderWith: 'index.json' },
} as const;
type FileKey = keyof typeof FILE_KEYS;

/** Largest run.json read (it holds a few paths and the class names). */
export const MAX_RUN_INFO_BYTES = 1 << 20;

/** A run.json that breaks the schema; the message names the file, the field and the fix. */
export class RunInfoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunInfoError';
  }
}

const isInside = (path: string, dir: string): boolean => path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);

export class RunDir {
  readonly root: string;
  constructor(root: string) {
    this.root = resolve(root);
  }
  get infoPath(): string {
    return join(this.root, 'run.json');
  }
  /** The folder whose tree a relative reference may name: the run folder's parent (the run and what lies beside it). */
  get neighbourhood(): string {
    return dirname(this.root);
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
  /** The stage's checkpoint, or with `step` its snapshot kept at that step (`train --keep-every`). */
  checkpoint(stage: Stage, step?: number): string {
    return step === undefined
      ? this.#file(stage, '.safetensors')
      : join(this.root, `${stage}.step-${String(step).padStart(6, '0')}.safetensors`);
  }
  /** The steps at which the stage's snapshots were kept, ascending. */
  snapshotSteps(stage: Stage): number[] {
    if (!existsSync(this.root)) return [];
    const re = new RegExp(`^${stage}\\.step-(\\d{6,})\\.safetensors$`);
    return readdirSync(this.root)
      .flatMap((f) => {
        const m = re.exec(f);
        return m ? [Number(m[1])] : [];
      })
      .sort((a, b) => a - b);
  }
  metrics(stage: Stage): string {
    return this.#file(stage, '.metrics.jsonl');
  }
  curve(stage: Stage): string {
    return this.#file(stage, '-curve.png');
  }
  /** The lock file trainers hold while they write into the run folder. */
  get lockPath(): string {
    return join(this.root, 'run.lock');
  }
  get samplesDir(): string {
    return join(this.root, 'samples');
  }
  has(stage: Stage, step?: number): boolean {
    return existsSync(this.checkpoint(stage, step));
  }
  ensure(): this {
    mkdirSync(this.root, { recursive: true });
    return this;
  }

  /** run.json, checked against the schema, with its file references resolved to absolute paths. */
  readInfo(): RunInfo {
    if (!existsSync(this.infoPath)) throw new Error(`${this.root} is not a ctfgen run folder (no run.json); train a stage into it first`);
    let json: unknown;
    try {
      json = JSON.parse(readTextFileSync(this.infoPath, { what: 'run.json', maxBytes: MAX_RUN_INFO_BYTES }));
    } catch (e) {
      throw new RunInfoError(
        `${this.infoPath}: cannot be read as JSON (${(e as Error).message}); restore it or train into a new --run folder`,
      );
    }
    return this.#check(json, (k, v) => (isAbsolute(v) ? v : this.#resolveRelative(k, v)));
  }

  /** A relative reference, resolved; refused when it leads outside the run's neighbourhood. */
  #resolveRelative(key: FileKey, v: string): string {
    const abs = resolve(this.root, v);
    if (!isInside(abs, this.neighbourhood))
      throw new RunInfoError(
        `${this.infoPath}: ${key} '${v}' leads outside the run folder and the folder beside it (${this.neighbourhood}); ` +
          `a run may name only files inside or beside it by a relative path. Write the file's absolute path in run.json if that file is meant`,
      );
    return abs;
  }

  /**
   * Checks a run.json object against the schema; `place` turns each stored reference into an
   * absolute path. Referenced files must be regular files with their kind's extension; the files
   * a run needs to sample (tokenizer, clusters) must exist.
   */
  #check(json: unknown, place: (k: FileKey, v: string) => string): RunInfo {
    const fail = (field: string, problem: string, fix = 'restore run.json, or train into a new --run folder'): never => {
      throw new RunInfoError(`${this.infoPath}: ${field} ${problem}; ${fix}`);
    };
    if (json === null || typeof json !== 'object' || Array.isArray(json)) return fail('the file', 'is not a JSON object');
    const o = json as Record<string, unknown>;
    const text = (k: string, optional: boolean, emptyOk = false): string | undefined => {
      const v = o[k];
      if (v === undefined && optional) return undefined;
      if (typeof v !== 'string') return fail(k, v === undefined ? 'is missing' : `must be a string, found ${JSON.stringify(v)}`);
      if (v === '' && !emptyOk) return fail(k, 'is empty');
      return v;
    };
    const info: RunInfo = {
      tokenizer: text('tokenizer', false)!,
      clusters: text('clusters', true),
      trainCache: text('trainCache', true, true) ?? '',
      valCache: text('valCache', true, true) || undefined,
      dataset: text('dataset', false)!,
      classNames: [],
      numClasses: 0,
    };
    const names = o.classNames;
    if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string' && n.trim() !== ''))
      fail('classNames', 'must be a non-empty list of non-empty strings');
    if (new Set(names as string[]).size !== (names as string[]).length) fail('classNames', 'holds a name twice');
    info.classNames = [...(names as string[])];
    const k = o.numClasses;
    if (typeof k !== 'number' || !Number.isSafeInteger(k) || k < 1)
      fail('numClasses', `must be a positive integer, found ${JSON.stringify(k)}`);
    if (k !== info.classNames.length)
      fail(
        'numClasses',
        `is ${String(k)} but classNames lists ${info.classNames.length} classes`,
        'make them agree with the trained models',
      );
    info.numClasses = k as number;
    for (const key of Object.keys(FILE_KEYS) as FileKey[]) {
      const v = info[key];
      if (!v) continue;
      const path = place(key, v);
      const spec: { exts: readonly string[]; needed: boolean; folderWith?: string } = FILE_KEYS[key];
      let st;
      try {
        st = statSync(path);
      } catch {
        if (spec.needed) fail(key, `names ${path}, which does not exist`, `restore that file or point ${key} at it`);
      }
      if (st?.isDirectory() && spec.folderWith) {
        if (!statSync(join(path, spec.folderWith), { throwIfNoEntry: false })?.isFile())
          fail(key, `names the folder ${path}, which holds no ${spec.folderWith}`, `point ${key} at the run's ${key}`);
      } else {
        if (!spec.exts.includes(extname(path).toLowerCase()))
          fail(
            key,
            `'${v}' is not a ${spec.exts.join(' / ')} file${spec.folderWith ? ` or a folder with ${spec.folderWith}` : ''}`,
            `point it at the run's ${key} file`,
          );
        if (st && !st.isFile()) fail(key, `names ${path}, which is not a regular file`, `point ${key} at the run's ${key} file`);
      }
      info[key] = path;
    }
    return info;
  }

  /** run.json as `writeInfo(info)` would leave it: an existing run must agree on tokenizer, clusters, dataset and classes (`fix` ends the message). */
  mergedInfo(info: RunInfo, fix = 'use a new --run folder'): RunInfo {
    if (!existsSync(this.infoPath)) return info;
    const old = this.readInfo();
    for (const k of ['tokenizer', 'clusters', 'dataset'] as const)
      if (old[k] !== undefined && info[k] !== undefined && resolve(String(old[k])) !== resolve(String(info[k])))
        throw new Error(`${this.root}: run was made with ${k} ${old[k]}, not ${info[k]}; ${fix}`);
    if (old.classNames.join('\n') !== info.classNames.join('\n'))
      throw new Error(
        `${this.root}: run was made with the classes ${old.classNames.join(', ')}, not ${info.classNames.join(', ')}; ${fix}`,
      );
    return { ...old, ...Object.fromEntries(Object.entries(info).filter(([, v]) => v !== undefined)) } as RunInfo;
  }

  /** Writes run.json; an existing run must agree on tokenizer, clusters, dataset and classes. */
  writeInfo(info: RunInfo): void {
    info = this.mergedInfo(info);
    this.ensure();
    // references inside or beside the run are stored relative to the run folder, so a run can be
    // moved or shipped with its neighbours; others keep the absolute path the user gave
    const stored: Record<string, unknown> = { ...info };
    for (const k of Object.keys(FILE_KEYS) as FileKey[]) {
      const v = info[k];
      if (!v) continue;
      const abs = resolve(v);
      stored[k] = isInside(abs, this.neighbourhood) ? relative(this.root, abs) : abs;
    }
    this.#check(stored, (_k, v) => resolve(this.root, v));
    writeJsonAtomicSync(this.infoPath, stored);
  }
}
