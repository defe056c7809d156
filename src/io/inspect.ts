/**
 * Format-independent inspection and conversion of checkpoint files (.pt/.pth/.bin torch.save
 * zips, .safetensors, sharded model.safetensors.index.json), for `ctfgen inspect` and
 * `ctfgen convert`. Inspection reads only headers / the pickle, never tensor data.
 */
import * as path from 'node:path';
import { CheckpointError } from './errors.js';
import { openRegularFile } from './regular-file.js';
import { isPyTuple, isTensorRef, PyValue } from './pickle.js';
import { DType, RawTensor, dtypeByteSize, numElements, toFloat32Raw } from './raw-tensor.js';
import { readSafetensors, readSafetensorsHeader, readSafetensorsIndex, readSafetensorsIndexFile, writeSafetensors } from './safetensors.js';
import type { VerifyCrc } from './zip.js';
import {
  DEFAULT_STATE_DICT_KEYS,
  TorchCheckpoint,
  collectTensorRefs,
  loadStateDict,
  selectStateDict,
  stateDictRefs,
} from './torch-checkpoint.js';

export type CheckpointFormat = 'pytorch-zip' | 'safetensors' | 'safetensors-index';

export interface InspectEntry {
  name: string;
  dtype: DType;
  shape: number[];
  numel: number;
}

export interface InspectSummary {
  path: string;
  format: CheckpointFormat;
  /** every tensor in the file; for torch files, with dotted paths ("model.norm.weight") */
  entries: InspectEntry[];
  /** total element count of `entries` */
  parameterCount: number;
  /** total bytes of tensor data in `entries` */
  byteCount: number;
  /** for torch files: the state dict loadStateDict picks by default (key null = top level) */
  stateDict?: { key: string | null; tensorCount: number; parameterCount: number };
  /** safetensors `__metadata__` (or an index's "metadata") */
  metadata: Record<string, unknown>;
  /** short descriptions of the non-tensor top-level values of a torch file (steps, args, ...) */
  extras: Record<string, string>;
}

/** Tells the format from the file's first bytes (and a .json name for an index). */
export async function detectCheckpointFormat(file: string): Promise<CheckpointFormat> {
  const fh = (await openRegularFile(file, 'a checkpoint')).handle;
  let head: Uint8Array;
  try {
    head = new Uint8Array(16);
    const { bytesRead } = await fh.read(head, 0, 16, 0);
    head = head.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  if (head.length === 0) throw new CheckpointError(`${file}: file is empty`);
  if (head[0] === 0x50 && head[1] === 0x4b) return 'pytorch-zip';
  // before the legacy-pickle test: a safetensors header length may well start with byte 0x80
  if (head.length >= 9 && head[8] === 0x7b && !file.endsWith('.json')) return 'safetensors';
  if (head[0] === 0x80) return 'pytorch-zip'; // legacy torch.save; the torch reader explains
  if (file.endsWith('.json') || head[0] === 0x7b) return 'safetensors-index';
  throw new CheckpointError(`${file}: unrecognised checkpoint format (not a torch.save zip, safetensors file or safetensors index)`);
}

function entryOf(name: string, dtype: DType, shape: number[]): InspectEntry {
  return { name, dtype, shape: [...shape], numel: numElements(shape) };
}

function describeValue(v: PyValue, depth = 0): string {
  if (v === null) return 'None';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? v.slice(0, 57) + '...' : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Uint8Array) return `bytes(${v.length})`;
  if (isTensorRef(v)) return `tensor ${v.dtype} [${v.shape.join(', ')}]`;
  if (Array.isArray(v)) return `${isPyTuple(v) ? 'tuple' : 'list'}(${v.length})`;
  if (v instanceof Map) return `dict(${v.size} entries)`;
  if (v instanceof Set) return `set(${v.size})`;
  if (typeof v === 'object' && depth === 0) {
    const fields = Object.keys(v).map((k) => `${k}=${describeValue((v as Record<string, PyValue>)[k], 1)}`);
    const s = `Namespace(${fields.join(', ')})`;
    return s.length > 200 ? s.slice(0, 197) + '...' : s;
  }
  return typeof v === 'object' ? 'object' : String(v);
}

function summarize(file: string, format: CheckpointFormat, entries: InspectEntry[], metadata: Record<string, unknown>): InspectSummary {
  let parameterCount = 0;
  let byteCount = 0;
  for (const e of entries) {
    parameterCount += e.numel;
    byteCount += e.numel * dtypeByteSize(e.dtype);
  }
  return { path: file, format, entries, parameterCount, byteCount, metadata, extras: {} };
}

/** Lists the tensors of a checkpoint file of any supported format without reading tensor data. */
export async function inspectCheckpoint(file: string): Promise<InspectSummary> {
  const format = await detectCheckpointFormat(file);
  if (format === 'safetensors') {
    const h = await readSafetensorsHeader(file);
    return summarize(
      file,
      format,
      h.entries.map((e) => entryOf(e.name, e.dtype, e.shape)),
      h.metadata,
    );
  }
  if (format === 'safetensors-index') {
    const index = await readSafetensorsIndexFile(file);
    const entries: InspectEntry[] = [];
    const headers = new Map<string, Map<string, InspectEntry>>();
    for (const shard of new Set(index.weightMap.values())) {
      const h = await readSafetensorsHeader(shard);
      headers.set(shard, new Map(h.entries.map((e) => [e.name, entryOf(e.name, e.dtype, e.shape)])));
    }
    for (const [name, shard] of index.weightMap) {
      const e = headers.get(shard)!.get(name);
      if (!e) throw new CheckpointError(`${file}: tensor ${JSON.stringify(name)} is not in its shard ${path.basename(shard)}`);
      entries.push(e);
    }
    return summarize(file, format, entries, index.metadata);
  }
  const ckpt = await TorchCheckpoint.open(file);
  try {
    const entries = collectTensorRefs(ckpt.root).map(({ name, ref }) => entryOf(name === '' ? '(root)' : name, ref.dtype, ref.shape));
    const summary = summarize(file, format, entries, {});
    try {
      const { key, dict } = selectStateDict(ckpt.root, DEFAULT_STATE_DICT_KEYS, file);
      const refs = stateDictRefs(dict);
      summary.stateDict = { key, tensorCount: refs.length, parameterCount: refs.reduce((n, [, r]) => n + numElements(r.shape), 0) };
    } catch {
      // no state dict: leave stateDict undefined
    }
    if (ckpt.root instanceof Map) {
      for (const [k, v] of ckpt.root) {
        if (isTensorRef(v)) continue;
        if (v instanceof Map && [...v.values()].some(isTensorRef)) continue;
        const name = typeof k === 'string' ? k : String(k);
        Object.defineProperty(summary.extras, name, { value: describeValue(v), enumerable: true, writable: true, configurable: true });
      }
    }
    return summary;
  } finally {
    await ckpt.close();
  }
}

function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}

function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(2)} ${units[i]}`;
}

/** A readable table of an InspectSummary (name, dtype, shape, elements) plus totals. */
export function formatInspectSummary(s: InspectSummary, opts: { maxRows?: number } = {}): string {
  const maxRows = opts.maxRows ?? Infinity;
  const rows = s.entries.slice(0, maxRows).map((e) => [e.name, e.dtype, `[${e.shape.join(', ')}]`, String(e.numel)]);
  const header = ['name', 'dtype', 'shape', 'elements'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]): string =>
    r
      .map((c, i) => (i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const lines = [`${s.path} (${s.format})`, fmt(header), fmt(widths.map((w) => '-'.repeat(w)))];
  for (const r of rows) lines.push(fmt(r));
  if (s.entries.length > rows.length) lines.push(`... (${s.entries.length - rows.length} more)`);
  lines.push(`${s.entries.length} tensors, ${formatCount(s.parameterCount)} elements (${s.parameterCount}), ${formatBytes(s.byteCount)}`);
  if (s.stateDict) {
    const where = s.stateDict.key === null ? 'top level' : `key ${JSON.stringify(s.stateDict.key)}`;
    lines.push(
      `state dict: ${where}, ${s.stateDict.tensorCount} tensors, ${formatCount(s.stateDict.parameterCount)} parameters (${s.stateDict.parameterCount})`,
    );
  }
  for (const [k, v] of Object.entries(s.extras)) lines.push(`${k}: ${v}`);
  const meta = Object.entries(s.metadata);
  if (meta.length > 0) {
    lines.push('metadata:');
    for (const [k, v] of meta) {
      const text = typeof v === 'string' ? v : JSON.stringify(v);
      lines.push(`  ${k}: ${text.length > 200 ? text.slice(0, 197) + '...' : text}`);
    }
  }
  return lines.join('\n');
}

export interface LoadTensorsOptions {
  /** torch files: where the state dict is (see loadStateDict) */
  prefer?: string | readonly string[];
  /** convert float16 / bfloat16 / float64 tensors to float32 */
  toFloat32?: boolean;
  /** torch files: CRC-32 checking of zip records (see TorchOpenOptions) */
  verifyCrc?: VerifyCrc;
}

/** Loads the weights of a checkpoint of any supported format as name -> RawTensor. */
export async function loadTensors(
  file: string,
  opts: LoadTensorsOptions = {},
): Promise<{ format: CheckpointFormat; tensors: Map<string, RawTensor>; metadata: Record<string, string> }> {
  const format = await detectCheckpointFormat(file);
  if (format === 'pytorch-zip') {
    const tensors = await loadStateDict(file, { prefer: opts.prefer, toFloat32: opts.toFloat32, verifyCrc: opts.verifyCrc });
    return { format, tensors, metadata: {} };
  }
  const { tensors, metadata } = format === 'safetensors' ? await readSafetensors(file) : await readSafetensorsIndex(file);
  if (opts.toFloat32) for (const [k, t] of tensors) tensors.set(k, toFloat32Raw(t));
  return { format, tensors, metadata };
}

export interface ConvertOptions extends LoadTensorsOptions {
  /** extra `__metadata__` entries for the output */
  metadata?: Record<string, string>;
}

/**
 * Converts a checkpoint (torch.save zip: its state dict; safetensors; sharded index) into one
 * safetensors file, written atomically. Returns what was written.
 */
export async function convertToSafetensors(
  inPath: string,
  outPath: string,
  opts: ConvertOptions = {},
): Promise<{ tensorCount: number; parameterCount: number; byteCount: number }> {
  const { format, tensors, metadata } = await loadTensors(inPath, opts);
  const outMeta: Record<string, string> = {
    ...(format === 'pytorch-zip' ? { format: 'pt' } : metadata),
    converted_from: path.basename(inPath),
    ...opts.metadata,
  };
  await writeSafetensors(outPath, tensors, outMeta);
  let parameterCount = 0;
  let byteCount = 0;
  for (const t of tensors.values()) {
    parameterCount += numElements(t.shape);
    byteCount += t.data.byteLength;
  }
  return { tensorCount: tensors.size, parameterCount, byteCount };
}
