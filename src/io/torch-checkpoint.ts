/**
 * Reading PyTorch checkpoints written by torch.save (the zip format of torch >= 1.6): a
 * pickle `<top>/data.pkl` plus one record `<top>/data/<key>` per storage. The pickle is read
 * with the restricted unpickler (nothing in it is executed); storages are read one record at a
 * time and only when a tensor that uses them is wanted.
 */
import { DType, RawTensor, byteSwapInPlace, dtypeByteSize, toFloat32Raw } from './raw-tensor.js';
import { PickleError, PyValue, StorageRef, TensorRef, isPyTuple, isTensorRef, parseTorchStoragePid, unpickle } from './pickle.js';
import { stridedToContiguous } from './strided.js';
import { VerifyCrc, ZipReader } from './zip.js';
import { CheckpointError } from './errors.js';
import { FileRefusedError, openRegularFile } from './regular-file.js';

export { CheckpointError };

/** Where the state dict may sit in a training checkpoint, in order of preference. */
export const DEFAULT_STATE_DICT_KEYS: readonly string[] = ['model', 'ema', 'module', 'state_dict'];

export type TorchSource = string | Uint8Array;

function labelOf(src: TorchSource, label?: string): string {
  return label ?? (typeof src === 'string' ? src : '<buffer>');
}

/** Reads the first bytes to tell a zip checkpoint from a legacy torch.save file, with a clear error for the latter. */
async function checkMagic(src: TorchSource, label: string): Promise<void> {
  let head: Uint8Array;
  if (typeof src === 'string') {
    const fh = await openRegularFile(src, 'a PyTorch checkpoint').then(
      (f) => f.handle,
      (e: Error) => {
        throw new CheckpointError(e instanceof FileRefusedError ? e.message : `${label}: cannot open (${e.message})`);
      },
    );
    try {
      head = new Uint8Array(512);
      const { bytesRead } = await fh.read(head, 0, 512, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } else {
    head = src.subarray(0, 512);
  }
  if (head.length === 0) throw new CheckpointError(`${label}: file is empty`);
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5) && (head[3] === 4 || head[3] === 6))
    return;
  const legacy = head[0] === 0x80 || (head.length >= 262 && String.fromCharCode(...head.subarray(257, 262)) === 'ustar');
  if (legacy) {
    throw new CheckpointError(
      `${label}: legacy (pre-zip) torch.save format is not supported; re-save it with torch >= 1.6, ` +
        `e.g. torch.save(torch.load(path, weights_only=True), new_path)`,
    );
  }
  throw new CheckpointError(`${label}: not a PyTorch checkpoint (not a zip archive)`);
}

/**
 * Largest pickle (`data.pkl`) read by default. Nothing else declares its size; a LlamaGen
 * checkpoint's pickle is well under 1 MiB, so this only stops a decompression bomb.
 */
export const DEFAULT_MAX_PICKLE_BYTES = 256 * 1024 * 1024;

export interface TorchOpenOptions {
  /** name used in errors (default: the path) */
  label?: string;
  /** refuse a pickle record larger than this (default DEFAULT_MAX_PICKLE_BYTES) */
  maxPickleBytes?: number;
  /** CRC-32 checking of zip records: true (all), false (none), 'small' (default: records up to 1 MiB) */
  verifyCrc?: VerifyCrc;
}

/** A checkpoint whose pickle has been read; tensors in `root` are TensorRefs until materialized. */
export class TorchCheckpoint {
  private readonly storageCache = new Map<string, Uint8Array>();

  private constructor(
    private readonly zip: ZipReader,
    readonly label: string,
    /** name of the top folder inside the zip */
    readonly prefix: string,
    readonly byteOrder: 'little' | 'big',
    readonly root: PyValue,
  ) {}

  static async open(src: TorchSource, opts: TorchOpenOptions = {}): Promise<TorchCheckpoint> {
    const label = labelOf(src, opts.label);
    await checkMagic(src, label);
    const zip = await ZipReader.open(src, label, { verifyCrc: opts.verifyCrc });
    try {
      const pkls = [...zip.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
      if (pkls.length === 0) throw new CheckpointError(`${label}: zip archive has no <folder>/data.pkl; not a torch.save checkpoint`);
      if (pkls.length > 1) throw new CheckpointError(`${label}: zip archive has several data.pkl records (${pkls.join(', ')})`);
      const prefix = pkls[0]!.slice(0, -'/data.pkl'.length);
      let byteOrder: 'little' | 'big' = 'little';
      if (zip.entries.has(`${prefix}/byteorder`)) {
        const b = new TextDecoder().decode(await zip.read(`${prefix}/byteorder`, undefined, 16)).trim();
        if (b !== 'little' && b !== 'big') throw new CheckpointError(`${label}: unknown byteorder record ${JSON.stringify(b)}`);
        byteOrder = b;
      }
      const pkl = await zip.read(pkls[0]!, undefined, opts.maxPickleBytes ?? DEFAULT_MAX_PICKLE_BYTES);
      const persistentLoad = (pid: PyValue): StorageRef => {
        const ref = parseTorchStoragePid(pid);
        const name = `${prefix}/data/${ref.key}`;
        const entry = zip.entries.get(name);
        if (!entry) throw new PickleError(`storage record ${name} is missing`);
        // torch.save writes each storage whole, so its record holds exactly what the pickle declares
        const need = ref.numel * dtypeByteSize(ref.dtype);
        if (entry.uncompressedSize !== need) {
          throw new PickleError(
            `storage record ${name} holds ${entry.uncompressedSize} bytes but ${ref.numel} ${ref.dtype} elements need ${need}`,
          );
        }
        return ref;
      };
      let root: PyValue;
      try {
        root = unpickle(pkl, { persistentLoad });
      } catch (e) {
        if (e instanceof PickleError) {
          e.message = `${label}: ${e.message}`;
          throw e;
        }
        throw e;
      }
      return new TorchCheckpoint(zip, label, prefix, byteOrder, root);
    } catch (e) {
      await zip.close();
      throw e;
    }
  }

  private async storageBytes(s: StorageRef): Promise<Uint8Array> {
    const cacheKey = this.byteOrder === 'big' ? `${s.key}\0${s.dtype}` : s.key;
    let bytes = this.storageCache.get(cacheKey);
    if (!bytes) {
      bytes = await this.zip.read(`${this.prefix}/data/${s.key}`, s.numel * dtypeByteSize(s.dtype));
      if (this.byteOrder === 'big') {
        byteSwapInPlace(bytes, dtypeByteSize(s.dtype));
      }
      this.storageCache.set(cacheKey, bytes);
    }
    return bytes.subarray(0, s.numel * dtypeByteSize(s.dtype));
  }

  /** The tensor as C-contiguous bytes (a view of its storage when it is contiguous there). */
  async materialize(ref: TensorRef): Promise<RawTensor> {
    const bytes = await this.storageBytes(ref.storage);
    let data: Uint8Array;
    try {
      data = stridedToContiguous(bytes, dtypeByteSize(ref.dtype), ref);
    } catch (e) {
      throw new CheckpointError(`${this.label}: tensor in storage ${ref.storage.key}: ${(e as Error).message}`);
    }
    return { dtype: ref.dtype, shape: [...ref.shape], data };
  }

  /**
   * Materializes several tensors, dropping each storage from the cache after its last user so
   * that converted copies (toFloat32) do not keep the original storages alive.
   */
  async materializeAll(refs: readonly TensorRef[], map?: (raw: RawTensor) => RawTensor): Promise<RawTensor[]> {
    const uses = new Map<string, number>();
    for (const r of refs) uses.set(r.storage.key, (uses.get(r.storage.key) ?? 0) + 1);
    const out: RawTensor[] = [];
    for (const r of refs) {
      let raw = await this.materialize(r);
      if (map) raw = map(raw);
      out.push(raw);
      const left = uses.get(r.storage.key)! - 1;
      uses.set(r.storage.key, left);
      if (left === 0) {
        for (const k of [...this.storageCache.keys()])
          if (k === r.storage.key || k.startsWith(`${r.storage.key}\0`)) this.storageCache.delete(k);
      }
    }
    return out;
  }

  async close(): Promise<void> {
    this.storageCache.clear();
    await this.zip.close();
  }
}

/** Opens a checkpoint, runs `fn`, closes it. */
export async function withTorchCheckpoint<T>(
  src: TorchSource,
  fn: (ckpt: TorchCheckpoint) => Promise<T>,
  opts: TorchOpenOptions = {},
): Promise<T> {
  const ckpt = await TorchCheckpoint.open(src, opts);
  try {
    return await fn(ckpt);
  } finally {
    await ckpt.close();
  }
}

function keyName(k: PyValue): string {
  if (typeof k === 'string') return k;
  if (typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean') return String(k);
  if (k === null) return 'None';
  if (Array.isArray(k)) return `(${k.map(keyName).join(',')})`;
  return '?';
}

/**
 * Every tensor reachable from `root` with a dotted path name ("model.norm.weight",
 * "optimizer.state.0.exp_avg"), each reported once, in pickle order. Safe on cyclic values.
 */
export function collectTensorRefs(root: PyValue): Array<{ name: string; ref: TensorRef }> {
  const out: Array<{ name: string; ref: TensorRef }> = [];
  const seen = new Set<object>();
  // Iterative depth-first walk (a hostile pickle can nest deeper than the JS call stack).
  const todo: Array<[PyValue, string]> = [[root, '']];
  while (todo.length > 0) {
    const [v, name] = todo.pop()!;
    if (v === null || typeof v !== 'object' || seen.has(v)) continue;
    seen.add(v);
    const child = (k: string): string => (name === '' ? k : `${name}.${k}`);
    const kids: Array<[PyValue, string]> = [];
    if (isTensorRef(v)) out.push({ name, ref: v });
    else if (v instanceof Map) for (const [k, x] of v) kids.push([x, child(keyName(k))]);
    else if (Array.isArray(v)) v.forEach((x, i) => kids.push([x, child(String(i))]));
    else if (v instanceof Set) [...v].forEach((x, i) => kids.push([x, child(String(i))]));
    else if (!(v instanceof Uint8Array) && Object.getPrototypeOf(v) === Object.prototype) {
      for (const k of Object.keys(v)) kids.push([(v as Record<string, PyValue>)[k], child(k)]);
    }
    for (let i = kids.length - 1; i >= 0; i--) todo.push(kids[i]!);
  }
  return out;
}

/** Replaces every TensorRef reachable from `root` (in place) with `f(ref)`; returns the new root. */
function replaceTensors(root: PyValue, f: (ref: TensorRef) => RawTensor): PyValue {
  if (isTensorRef(root)) return f(root);
  const seen = new Set<object>();
  const todo: PyValue[] = [root];
  while (todo.length > 0) {
    const v = todo.pop();
    if (v === null || typeof v !== 'object' || seen.has(v)) continue;
    seen.add(v);
    if (v instanceof Map) {
      for (const [k, x] of v) {
        if (isTensorRef(x)) v.set(k, f(x));
        else todo.push(x);
      }
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x: PyValue = v[i];
        if (isTensorRef(x)) v[i] = f(x);
        else todo.push(x);
      }
    } else if (v instanceof Set) {
      for (const x of [...v]) {
        if (isTensorRef(x)) {
          v.delete(x);
          v.add(f(x));
        } else todo.push(x);
      }
    } else if (!(v instanceof Uint8Array) && !isTensorRef(v) && Object.getPrototypeOf(v) === Object.prototype) {
      const o = v as Record<string, PyValue>;
      for (const k of Object.keys(o)) {
        const x = o[k];
        if (isTensorRef(x)) Object.defineProperty(o, k, { value: f(x), enumerable: true, writable: true, configurable: true });
        else todo.push(x);
      }
    }
  }
  return root;
}

/**
 * Reads a whole torch.save checkpoint into a JS value: dicts are Maps, tensors RawTensors
 * (see pickle.ts for the other Python types). Reads every storage the pickle references.
 */
export async function readTorchCheckpoint(src: TorchSource, opts: TorchOpenOptions = {}): Promise<PyValue> {
  return withTorchCheckpoint(
    src,
    async (ckpt) => {
      const refs = collectTensorRefs(ckpt.root).map((t) => t.ref);
      const raws = await ckpt.materializeAll(refs);
      const byRef = new Map<TensorRef, RawTensor>();
      refs.forEach((r, i) => byRef.set(r, raws[i]!));
      return replaceTensors(ckpt.root, (r) => byRef.get(r)!);
    },
    opts,
  );
}

export interface LoadStateDictOptions extends TorchOpenOptions {
  /**
   * Where the state dict is: one key (which must exist), or keys to try in order (default
   * DEFAULT_STATE_DICT_KEYS). A top-level dict that itself holds tensors is used when none
   * of the keys is found.
   */
  prefer?: string | readonly string[];
  /** convert float16 / bfloat16 / float64 tensors to float32 */
  toFloat32?: boolean;
}

function dictHasTensor(d: Map<PyValue, PyValue>): boolean {
  for (const v of d.values()) if (isTensorRef(v)) return true;
  return false;
}

function describeKeys(d: Map<PyValue, PyValue>): string {
  const keys = [...d.keys()].slice(0, 12).map((k) => JSON.stringify(keyName(k)));
  return keys.length === 0 ? '(none)' : keys.join(', ') + (d.size > 12 ? ', ...' : '');
}

/**
 * Picks the state dict out of an unpickled checkpoint root. Returns the key it was found
 * under (null for a plain state dict at the top level).
 */
export function selectStateDict(
  root: PyValue,
  prefer: string | readonly string[] = DEFAULT_STATE_DICT_KEYS,
  label = 'checkpoint',
): { key: string | null; dict: Map<PyValue, PyValue> } {
  if (!(root instanceof Map)) {
    const what =
      root === null ? 'None' : isPyTuple(root) ? 'tuple' : Array.isArray(root) ? 'list' : isTensorRef(root) ? 'tensor' : typeof root;
    throw new CheckpointError(`${label}: the checkpoint holds a ${what}, not a dict of tensors`);
  }
  if (typeof prefer === 'string') {
    const v = root.get(prefer);
    if (!(v instanceof Map)) {
      throw new CheckpointError(`${label}: no dict under key ${JSON.stringify(prefer)}; top-level keys: ${describeKeys(root)}`);
    }
    return { key: prefer, dict: v };
  }
  for (const k of prefer) {
    const v = root.get(k);
    if (v instanceof Map && dictHasTensor(v)) return { key: k, dict: v };
  }
  if (dictHasTensor(root)) return { key: null, dict: root };
  throw new CheckpointError(
    `${label}: no state dict found (tried keys ${prefer.map((k) => JSON.stringify(k)).join(', ')} and the top level); ` +
      `top-level keys: ${describeKeys(root)}`,
  );
}

/** Tensor entries (string keys, tensor values) of a state dict, in order; other entries are skipped. */
export function stateDictRefs(dict: Map<PyValue, PyValue>): Array<[string, TensorRef]> {
  const out: Array<[string, TensorRef]> = [];
  for (const [k, v] of dict) if (typeof k === 'string' && isTensorRef(v)) out.push([k, v]);
  return out;
}

/**
 * Loads the state dict of a torch.save checkpoint as name -> RawTensor. Handles
 * {"model": sd}, {"ema": sd}, ... and plain state dicts; reads only the storages of the
 * selected dict. Non-tensor entries of the state dict are skipped.
 */
export async function loadStateDict(src: TorchSource, opts: LoadStateDictOptions = {}): Promise<Map<string, RawTensor>> {
  const label = labelOf(src, opts.label);
  return withTorchCheckpoint(
    src,
    async (ckpt) => {
      const { dict } = selectStateDict(ckpt.root, opts.prefer ?? DEFAULT_STATE_DICT_KEYS, label);
      const entries = stateDictRefs(dict);
      const raws = await ckpt.materializeAll(
        entries.map(([, r]) => r),
        opts.toFloat32 ? toFloat32Raw : undefined,
      );
      const out = new Map<string, RawTensor>();
      entries.forEach(([name], i) => out.set(name, raws[i]!));
      return out;
    },
    { label, verifyCrc: opts.verifyCrc },
  );
}

export type { DType };
