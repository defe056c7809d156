/**
 * ctfgen's own checkpoint format: one safetensors file. Model weights are stored under their
 * own names, optimizer state tensors under the prefix `optim.`, and the `__metadata__` entry
 * "ctfgen" holds a JSON object ({kind, config, step, rng?, ...}; the shape is up to the
 * caller). Files are written atomically, so an interrupted save leaves the previous file.
 */
import { CheckpointError } from './errors.js';
import { RawTensor } from './raw-tensor.js';
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from './safetensors.js';

export const CHECKPOINT_META_KEY = 'ctfgen';
export const CHECKPOINT_FORMAT_KEY = 'ctfgen_format';
export const CHECKPOINT_FORMAT_VERSION = '1';
export const OPTIM_PREFIX = 'optim.';

export type CheckpointMeta = Record<string, unknown>;

export interface SaveCheckpointOptions {
  /** optimizer state tensors, stored as `optim.<name>` */
  optimizer?: ReadonlyMap<string, RawTensor>;
}

export interface LoadedCheckpoint {
  /** the weights (every tensor not under `optim.`) */
  tensors: Map<string, RawTensor>;
  /** optimizer state, `optim.` stripped from the names (empty when none was saved) */
  optimizer: Map<string, RawTensor>;
  meta: CheckpointMeta;
}

/** Saves weights (+ optional optimizer state) and `meta` to `path` atomically. */
export async function saveCheckpoint(
  path: string,
  tensors: ReadonlyMap<string, RawTensor>,
  meta: CheckpointMeta,
  opts: SaveCheckpointOptions = {},
): Promise<void> {
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) throw new TypeError('saveCheckpoint: meta must be an object');
  let metaJson: string;
  try {
    metaJson = JSON.stringify(meta);
  } catch (e) {
    throw new TypeError(`saveCheckpoint: meta is not JSON-serialisable (${(e as Error).message})`);
  }
  const all = new Map<string, RawTensor>();
  for (const [name, t] of tensors) {
    if (name.startsWith(OPTIM_PREFIX))
      throw new Error(`saveCheckpoint: weight name ${JSON.stringify(name)} uses the reserved prefix ${OPTIM_PREFIX}`);
    all.set(name, t);
  }
  for (const [name, t] of opts.optimizer ?? []) all.set(OPTIM_PREFIX + name, t);
  await writeSafetensors(path, all, { [CHECKPOINT_FORMAT_KEY]: CHECKPOINT_FORMAT_VERSION, [CHECKPOINT_META_KEY]: metaJson });
}

/** The meta of a checkpoint written by saveCheckpoint, from its header alone (no tensor is read). */
export async function readCheckpointMeta(path: string): Promise<CheckpointMeta> {
  return parseMeta((await readSafetensorsHeader(path)).metadata, path);
}

/** Loads a checkpoint written by saveCheckpoint. */
export async function loadCheckpoint(path: string): Promise<LoadedCheckpoint> {
  const { tensors: all, metadata } = await readSafetensors(path);
  const meta = parseMeta(metadata, path);
  const tensors = new Map<string, RawTensor>();
  const optimizer = new Map<string, RawTensor>();
  for (const [name, t] of all) {
    if (name.startsWith(OPTIM_PREFIX)) optimizer.set(name.slice(OPTIM_PREFIX.length), t);
    else tensors.set(name, t);
  }
  return { tensors, optimizer, meta };
}

function parseMeta(metadata: Record<string, string>, path: string): CheckpointMeta {
  const text = Object.prototype.hasOwnProperty.call(metadata, CHECKPOINT_META_KEY) ? metadata[CHECKPOINT_META_KEY] : undefined;
  if (text === undefined) throw new CheckpointError(`${path}: not a ctfgen checkpoint (no "${CHECKPOINT_META_KEY}" metadata)`);
  let meta: unknown;
  try {
    meta = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`${path}: "${CHECKPOINT_META_KEY}" metadata is not valid JSON (${(e as Error).message})`);
  }
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta))
    throw new CheckpointError(`${path}: "${CHECKPOINT_META_KEY}" metadata is not a JSON object`);
  return meta as CheckpointMeta;
}
