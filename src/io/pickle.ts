/**
 * A restricted unpickler for PyTorch state dicts. It understands the opcodes of pickle
 * protocols 2-5 that torch.save emits and resolves GLOBAL only for a short allow-list of
 * harmless names. Nothing named by the pickle is ever executed: allow-listed callables are
 * re-implemented here (an OrderedDict becomes a Map, a tensor rebuild becomes a TensorRef
 * describing a view of a storage, argparse.Namespace a plain object). Any other global throws
 * UnsafePickleError naming it.
 *
 * Allow-list: collections.OrderedDict; torch._utils._rebuild_tensor(_v2) and
 * _rebuild_parameter(_with_state); torch._tensor._rebuild_from_type_v2 (with torch.Tensor /
 * torch.nn.parameter.Parameter as the type; the Python state is dropped); torch.<T>Storage
 * (only inside persistent ids); torch dtypes (kept as PyGlobal values) and torch.Size;
 * argparse.Namespace; builtins.set / frozenset; _codecs.encode(str, 'latin1') (how protocol 2
 * stores bytes).
 *
 * Python values map to JS as: None -> null, bool -> boolean, int -> number (bigint when it
 * does not fit a safe integer), float -> number, str -> string, bytes -> Uint8Array,
 * list -> array, tuple -> array (isPyTuple tells them apart), dict/OrderedDict -> Map,
 * set/frozenset -> Set, argparse.Namespace -> plain object, tensor -> TensorRef.
 */
import { DType, dtypeByteSize } from './raw-tensor.js';
import { checkStridedView } from './strided.js';
import { CheckpointError } from './errors.js';

export class PickleError extends CheckpointError {
  constructor(message: string) {
    super(message);
    this.name = 'PickleError';
  }
}

/** Thrown when the pickle references a global outside the allow-list. */
export class UnsafePickleError extends PickleError {
  readonly global: string;
  constructor(global: string, detail?: string) {
    super(`refusing to load: pickle references ${global}${detail ? ` (${detail})` : ''}; loading a checkpoint never executes code`);
    this.name = 'UnsafePickleError';
    this.global = global;
  }
}

/** A torch storage as named by a persistent id: ('storage', torch.FloatStorage, key, location, numel). */
export interface StorageRef {
  readonly kind: 'storage';
  dtype: DType;
  /** record name under <top>/data/ */
  key: string;
  location: string;
  /** element count, in units of dtype */
  numel: number;
}

/** A tensor as a strided view into a storage (what _rebuild_tensor_v2 would build). */
export interface TensorRef {
  readonly kind: 'tensor';
  storage: StorageRef;
  dtype: DType;
  /** storage offset in elements */
  offset: number;
  shape: number[];
  stride: number[];
}

export function isTensorRef(x: unknown): x is TensorRef {
  return x !== null && typeof x === 'object' && (x as { kind?: unknown }).kind === 'tensor' && 'storage' in x;
}

export function isStorageRef(x: unknown): x is StorageRef {
  return x !== null && typeof x === 'object' && (x as { kind?: unknown }).kind === 'storage' && 'key' in x;
}

/** A global the pickle named (only allow-listed ones are ever created). */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

export type PyValue = unknown;

const tuples = new WeakSet<object>();

/** True for arrays that came from a Python tuple (rather than a list). */
export function isPyTuple(x: unknown): boolean {
  return Array.isArray(x) && tuples.has(x);
}

function makeTuple(items: PyValue[]): PyValue[] {
  tuples.add(items);
  return items;
}

/** Storage classes torch.save names in persistent ids, and their dtypes. */
export const TORCH_STORAGE_DTYPES: Readonly<Record<string, DType>> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

/** torch dtype objects a pickle may name (torch.float16 ...): kept as PyGlobal values. */
// prettier-ignore
const TORCH_DTYPE_NAMES = new Set([
  'float32', 'float', 'float64', 'double', 'float16', 'half', 'bfloat16', 'int64', 'long', 'int32', 'int',
  'int16', 'short', 'int8', 'uint8', 'bool', 'complex64', 'complex128',
]);

type GlobalKind =
  | 'ordered-dict'
  | 'rebuild-tensor-v2'
  | 'rebuild-tensor'
  | 'rebuild-parameter'
  | 'rebuild-parameter-with-state'
  | 'rebuild-from-type-v2'
  | 'tensor-type'
  | 'storage-type'
  | 'dtype'
  | 'torch-size'
  | 'namespace'
  | 'set'
  | 'frozenset'
  | 'codecs-encode';

function allowedGlobal(module: string, name: string): GlobalKind | undefined {
  const q = `${module}.${name}`;
  switch (q) {
    case 'collections.OrderedDict':
      return 'ordered-dict';
    case 'torch._utils._rebuild_tensor_v2':
      return 'rebuild-tensor-v2';
    case 'torch._utils._rebuild_tensor':
      return 'rebuild-tensor';
    case 'torch._utils._rebuild_parameter':
      return 'rebuild-parameter';
    case 'torch._utils._rebuild_parameter_with_state':
      return 'rebuild-parameter-with-state';
    case 'torch._tensor._rebuild_from_type_v2':
      return 'rebuild-from-type-v2';
    case 'torch.Tensor':
    case 'torch.nn.parameter.Parameter':
      return 'tensor-type';
    case 'torch.Size':
      return 'torch-size';
    case 'argparse.Namespace':
      return 'namespace';
    case 'builtins.set':
    case '__builtin__.set':
      return 'set';
    case 'builtins.frozenset':
    case '__builtin__.frozenset':
      return 'frozenset';
    case '_codecs.encode':
      return 'codecs-encode';
  }
  if (module === 'torch' && Object.prototype.hasOwnProperty.call(TORCH_STORAGE_DTYPES, name)) return 'storage-type';
  if (module === 'torch' && TORCH_DTYPE_NAMES.has(name)) return 'dtype';
  return undefined;
}

class AllowedGlobal extends PyGlobal {
  constructor(
    module: string,
    name: string,
    readonly gkind: GlobalKind,
  ) {
    super(module, name);
  }
}

/** Marker pushed by MARK. */
const MARK = Symbol('mark');

export interface UnpickleOptions {
  /** Resolves a persistent id (BINPERSID). Without it, persistent ids are an error. */
  persistentLoad?: (pid: PyValue) => PyValue;
}

// prettier-ignore
const OPNAMES: Record<number, string> = {
  0x80: 'PROTO', 0x95: 'FRAME', 0x7d: 'EMPTY_DICT', 0x5d: 'EMPTY_LIST', 0x29: 'EMPTY_TUPLE', 0x28: 'MARK',
  0x85: 'TUPLE1', 0x86: 'TUPLE2', 0x87: 'TUPLE3', 0x74: 'TUPLE', 0x73: 'SETITEM', 0x75: 'SETITEMS',
  0x61: 'APPEND', 0x65: 'APPENDS', 0x4a: 'BININT', 0x4b: 'BININT1', 0x4d: 'BININT2', 0x8a: 'LONG1',
  0x8b: 'LONG4', 0x47: 'BINFLOAT', 0x4e: 'NONE', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x58: 'BINUNICODE',
  0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES', 0x8e: 'BINBYTES8',
  0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x71: 'BINPUT', 0x72: 'LONG_BINPUT', 0x94: 'MEMOIZE',
  0x68: 'BINGET', 0x6a: 'LONG_BINGET', 0x63: 'GLOBAL', 0x93: 'STACK_GLOBAL', 0x52: 'REDUCE', 0x62: 'BUILD',
  0x81: 'NEWOBJ', 0x92: 'NEWOBJ_EX', 0x51: 'BINPERSID', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK',
  0x32: 'DUP', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET',
  // recognised only to name them in errors
  0x50: 'PERSID', 0x69: 'INST', 0x6f: 'OBJ', 0x49: 'INT', 0x4c: 'LONG', 0x46: 'FLOAT', 0x53: 'STRING',
  0x56: 'UNICODE', 0x67: 'GET', 0x70: 'PUT', 0x64: 'DICT', 0x6c: 'LIST', 0x82: 'EXT1', 0x83: 'EXT2',
  0x84: 'EXT4', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

const utf8 = new TextDecoder('utf-8');
const latin1 = new TextDecoder('latin1');

function describe(v: PyValue): string {
  if (v === null) return 'None';
  if (v === MARK) return 'MARK';
  if (v instanceof PyGlobal) return v.qualified;
  if (Array.isArray(v)) return isPyTuple(v) ? 'tuple' : 'list';
  if (v instanceof Map) return 'dict';
  if (v instanceof Set) return 'set';
  if (v instanceof Uint8Array) return 'bytes';
  if (isTensorRef(v)) return 'tensor';
  if (isStorageRef(v)) return 'storage';
  return typeof v;
}

function isIntLike(v: PyValue): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

function asIntTuple(v: PyValue, what: string): number[] {
  if (!Array.isArray(v)) throw new PickleError(`${what} is a ${describe(v)}, expected a tuple of ints`);
  for (const x of v) if (!isIntLike(x) || x < 0) throw new PickleError(`${what} holds ${String(x)}, expected non-negative ints`);
  return v as number[];
}

function defineField(obj: Record<string, PyValue>, key: string, value: PyValue): void {
  // defineProperty, not assignment: a key such as "__proto__" must stay an ordinary field.
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Parses a torch persistent id ('storage', storage_type, key, location, numel). */
export function parseTorchStoragePid(pid: PyValue): StorageRef {
  if (!Array.isArray(pid) || pid.length !== 5) {
    throw new PickleError(`unsupported persistent id (${describe(pid)}${Array.isArray(pid) ? ` of ${pid.length}` : ''})`);
  }
  const [tag, type, key, location, numel] = pid as PyValue[];
  if (tag !== 'storage') throw new PickleError(`unsupported persistent id tag ${JSON.stringify(String(tag))}`);
  if (!(type instanceof AllowedGlobal) || type.gkind !== 'storage-type') {
    throw new PickleError(`persistent id names storage type ${describe(type)}, expected torch.<Type>Storage`);
  }
  const dtype = TORCH_STORAGE_DTYPES[type.name]!;
  if (typeof key !== 'string' || key.length === 0) throw new PickleError(`storage key ${describe(key)} is not a string`);
  if (typeof location !== 'string') throw new PickleError(`storage location ${describe(location)} is not a string`);
  if (!isIntLike(numel) || numel < 0) throw new PickleError(`storage element count ${String(numel)} is invalid`);
  if (!Number.isSafeInteger(numel * dtypeByteSize(dtype))) throw new PickleError(`storage element count ${numel} is too large`);
  return { kind: 'storage', dtype, key, location, numel };
}

function rebuildTensor(args: PyValue[], fn: string): TensorRef {
  if (args.length < 4) throw new PickleError(`${fn} called with ${args.length} arguments`);
  const [storage, offset, size, stride] = args;
  if (!isStorageRef(storage)) throw new PickleError(`${fn}: first argument is a ${describe(storage)}, expected a storage`);
  if (!isIntLike(offset) || offset < 0) throw new PickleError(`${fn}: invalid storage offset ${String(offset)}`);
  const shape = asIntTuple(size, `${fn}: size`);
  const strides = asIntTuple(stride, `${fn}: stride`);
  try {
    checkStridedView({ offset, shape, stride: strides }, storage.numel);
  } catch (e) {
    throw new PickleError(`${fn}: ${(e as Error).message}`);
  }
  return { kind: 'tensor', storage, dtype: storage.dtype, offset, shape: [...shape], stride: [...strides] };
}

function callGlobal(g: PyValue, args: PyValue, op: string): PyValue {
  if (!(g instanceof AllowedGlobal)) {
    throw new PickleError(`${op} on a ${describe(g)} value; only allow-listed globals can be called`);
  }
  if (!Array.isArray(args)) throw new PickleError(`${op} on ${g.qualified}: arguments are a ${describe(args)}, not a tuple`);
  switch (g.gkind) {
    case 'ordered-dict': {
      const m = new Map<PyValue, PyValue>();
      if (args.length === 0) return m;
      if (args.length === 1 && Array.isArray(args[0])) {
        for (const item of args[0] as PyValue[]) {
          if (!Array.isArray(item) || item.length !== 2) throw new PickleError(`OrderedDict item is not a pair`);
          m.set(item[0], item[1]);
        }
        return m;
      }
      throw new PickleError(`OrderedDict called with unsupported arguments`);
    }
    case 'rebuild-tensor-v2':
    case 'rebuild-tensor':
      return rebuildTensor(args, g.qualified);
    case 'rebuild-parameter':
    case 'rebuild-parameter-with-state': {
      if (args.length < 1 || !isTensorRef(args[0])) throw new PickleError(`${g.qualified}: first argument is not a tensor`);
      return args[0];
    }
    case 'rebuild-from-type-v2': {
      // _rebuild_from_type_v2(func, new_type, args, state): a tensor (subclass) with Python
      // attributes. Only the tensor matters: call the allow-listed func, drop type and state.
      if (args.length !== 4) throw new PickleError(`${g.qualified} called with ${args.length} arguments`);
      const [fn, type, fargs] = args;
      if (!(type instanceof AllowedGlobal) || type.gkind !== 'tensor-type') {
        throw new PickleError(`${g.qualified}: type ${describe(type)} is not a tensor type`);
      }
      const r = callGlobal(fn, fargs, op);
      if (!isTensorRef(r)) throw new PickleError(`${g.qualified}: did not rebuild a tensor`);
      return r;
    }
    case 'torch-size': {
      if (args.length !== 1) throw new PickleError('torch.Size called with unsupported arguments');
      return makeTuple(asIntTuple(args[0], 'torch.Size').slice());
    }
    case 'namespace':
      if (args.length !== 0) throw new PickleError(`argparse.Namespace called with positional arguments`);
      return {} as Record<string, PyValue>;
    case 'set':
    case 'frozenset': {
      if (args.length === 0) return new Set();
      if (args.length === 1 && Array.isArray(args[0])) return new Set(args[0] as PyValue[]);
      throw new PickleError(`${g.qualified} called with unsupported arguments`);
    }
    case 'codecs-encode': {
      const [s, enc] = args;
      if (typeof s !== 'string' || (enc !== 'latin1' && enc !== 'latin-1')) {
        throw new PickleError(`_codecs.encode supported only as encode(str, 'latin1')`);
      }
      const out = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c > 255) throw new PickleError(`_codecs.encode: character outside latin1`);
        out[i] = c;
      }
      return out;
    }
    case 'storage-type':
    case 'tensor-type':
    case 'dtype':
      throw new UnsafePickleError(g.qualified, `${op} on it is not allowed`);
  }
}

/**
 * Unpickles `data`. Throws PickleError (or UnsafePickleError) on anything malformed or not
 * allow-listed; never runs code named by the pickle.
 */
export function unpickle(data: Uint8Array, opts: UnpickleOptions = {}): PyValue {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const len = data.byteLength;
  let pos = 0;
  let stack: PyValue[] = [];
  const metastack: PyValue[][] = [];
  const memo = new Map<number, PyValue>();

  const need = (n: number, what: string): void => {
    if (n < 0 || pos + n > len) throw new PickleError(`truncated pickle: ${what} needs ${n} bytes, ${len - pos} left`);
  };
  const u8 = (): number => {
    need(1, 'argument');
    return data[pos++]!;
  };
  const u16 = (): number => {
    need(2, 'argument');
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4, 'argument');
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8, 'argument');
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new PickleError(`length ${v} is too large`);
    return Number(v);
  };
  const bytes = (n: number, what: string): Uint8Array => {
    need(n, what);
    const b = data.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) throw new PickleError('truncated pickle: unterminated text line');
    const s = latin1.decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): PyValue => {
    if (stack.length === 0) throw new PickleError('stack underflow');
    const v = stack.pop();
    if (v === MARK) throw new PickleError('unexpected MARK on the stack');
    return v;
  };
  const top = (): PyValue => {
    if (stack.length === 0) throw new PickleError('stack underflow');
    const v = stack[stack.length - 1];
    if (v === MARK) throw new PickleError('unexpected MARK on the stack');
    return v;
  };
  const popMark = (): PyValue[] => {
    const items = stack;
    const prev = metastack.pop();
    if (prev === undefined) throw new PickleError('no MARK on the stack');
    stack = prev;
    if (items.includes(MARK)) throw new PickleError('unexpected MARK on the stack');
    return items;
  };
  const resolveGlobal = (module: string, name: string): AllowedGlobal => {
    const kind = allowedGlobal(module, name);
    if (kind === undefined) throw new UnsafePickleError(`${module}.${name}`);
    return new AllowedGlobal(module, name, kind);
  };
  const setItems = (target: PyValue, items: PyValue[]): void => {
    if (!(target instanceof Map)) throw new PickleError(`SETITEM(S) on a ${describe(target)}`);
    if (items.length % 2 !== 0) throw new PickleError('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) target.set(items[i], items[i + 1]);
  };
  const appendItems = (target: PyValue, items: PyValue[]): void => {
    if (!Array.isArray(target) || isPyTuple(target)) throw new PickleError(`APPEND(S) on a ${describe(target)}`);
    for (const x of items) target.push(x);
  };
  const toInt = (b: bigint): number | bigint =>
    b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
  const readLong = (n: number): number | bigint => {
    const b = bytes(n, 'LONG');
    if (n === 0) return 0;
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    if (b[n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
    return toInt(v);
  };

  let opPos = 0;
  let op = 0;
  try {
    for (;;) {
      if (pos >= len) throw new PickleError('truncated pickle: no STOP opcode');
      opPos = pos;
      op = data[pos++]!;
      switch (op) {
        case 0x80: {
          const proto = u8();
          if (proto > 5) throw new PickleError(`unsupported pickle protocol ${proto}`);
          break;
        }
        case 0x95: {
          const n = u64();
          need(n, 'FRAME'); // frames are only a buffering hint; the opcodes inside are read normally
          break;
        }
        case 0x7d:
          stack.push(new Map());
          break;
        case 0x5d:
          stack.push([]);
          break;
        case 0x29:
          stack.push(makeTuple([]));
          break;
        case 0x28:
          metastack.push(stack);
          stack = [];
          break;
        case 0x85: {
          const a = pop();
          stack.push(makeTuple([a]));
          break;
        }
        case 0x86: {
          const b = pop();
          const a = pop();
          stack.push(makeTuple([a, b]));
          break;
        }
        case 0x87: {
          const c = pop();
          const b = pop();
          const a = pop();
          stack.push(makeTuple([a, b, c]));
          break;
        }
        case 0x74: {
          // popMark() replaces `stack`: take the items before naming the stack to push to.
          const items = popMark();
          stack.push(makeTuple(items));
          break;
        }
        case 0x73: {
          const v = pop();
          const k = pop();
          setItems(top(), [k, v]);
          break;
        }
        case 0x75: {
          const items = popMark();
          setItems(top(), items);
          break;
        }
        case 0x61: {
          const v = pop();
          appendItems(top(), [v]);
          break;
        }
        case 0x65: {
          const items = popMark();
          appendItems(top(), items);
          break;
        }
        case 0x4a:
          need(4, 'BININT');
          stack.push(view.getInt32(pos, true));
          pos += 4;
          break;
        case 0x4b:
          stack.push(u8());
          break;
        case 0x4d:
          stack.push(u16());
          break;
        case 0x8a:
          stack.push(readLong(u8()));
          break;
        case 0x8b: {
          need(4, 'LONG4');
          const n = view.getInt32(pos, true);
          pos += 4;
          if (n < 0) throw new PickleError('LONG4 with negative length');
          if (n > 4096) throw new PickleError(`LONG4 of ${n} bytes is not supported`);
          stack.push(readLong(n));
          break;
        }
        case 0x47:
          need(8, 'BINFLOAT');
          stack.push(view.getFloat64(pos, false));
          pos += 8;
          break;
        case 0x4e:
          stack.push(null);
          break;
        case 0x88:
          stack.push(true);
          break;
        case 0x89:
          stack.push(false);
          break;
        case 0x58:
          stack.push(utf8.decode(bytes(u32(), 'BINUNICODE')));
          break;
        case 0x8c:
          stack.push(utf8.decode(bytes(u8(), 'SHORT_BINUNICODE')));
          break;
        case 0x8d:
          stack.push(utf8.decode(bytes(u64(), 'BINUNICODE8')));
          break;
        case 0x42:
          stack.push(bytes(u32(), 'BINBYTES').slice());
          break;
        case 0x43:
          stack.push(bytes(u8(), 'SHORT_BINBYTES').slice());
          break;
        case 0x8e:
          stack.push(bytes(u64(), 'BINBYTES8').slice());
          break;
        case 0x54: {
          need(4, 'BINSTRING');
          const n = view.getInt32(pos, true);
          pos += 4;
          if (n < 0) throw new PickleError('BINSTRING with negative length');
          stack.push(utf8.decode(bytes(n, 'BINSTRING')));
          break;
        }
        case 0x55:
          stack.push(utf8.decode(bytes(u8(), 'SHORT_BINSTRING')));
          break;
        case 0x71:
          memo.set(u8(), top());
          break;
        case 0x72:
          memo.set(u32(), top());
          break;
        case 0x94:
          memo.set(memo.size, top());
          break;
        case 0x68:
        case 0x6a: {
          const i = op === 0x68 ? u8() : u32();
          if (!memo.has(i)) throw new PickleError(`memo key ${i} was never stored`);
          stack.push(memo.get(i));
          break;
        }
        case 0x63: {
          const module = line();
          const name = line();
          stack.push(resolveGlobal(module, name));
          break;
        }
        case 0x93: {
          const name = pop();
          const module = pop();
          if (typeof module !== 'string' || typeof name !== 'string') throw new PickleError('STACK_GLOBAL needs two strings');
          stack.push(resolveGlobal(module, name));
          break;
        }
        case 0x52: {
          const args = pop();
          const fn = pop();
          stack.push(callGlobal(fn, args, 'REDUCE'));
          break;
        }
        case 0x81: {
          const args = pop();
          const cls = pop();
          stack.push(callGlobal(cls, args, 'NEWOBJ'));
          break;
        }
        case 0x92: {
          const kwargs = pop();
          const args = pop();
          const cls = pop();
          if (!(kwargs instanceof Map) || kwargs.size !== 0) throw new PickleError('NEWOBJ_EX with keyword arguments');
          stack.push(callGlobal(cls, args, 'NEWOBJ_EX'));
          break;
        }
        case 0x62: {
          const state = pop();
          const obj = top();
          if (obj instanceof Map || isTensorRef(obj)) {
            // OrderedDict state ({'_metadata': ...}) and tensor/parameter state: not needed, dropped.
            break;
          }
          if (obj !== null && typeof obj === 'object' && Object.getPrototypeOf(obj) === Object.prototype) {
            if (!(state instanceof Map)) throw new PickleError(`BUILD with a ${describe(state)} state`);
            for (const [k, v] of state) {
              if (typeof k !== 'string') throw new PickleError('BUILD state key is not a string');
              defineField(obj as Record<string, PyValue>, k, v);
            }
            break;
          }
          throw new PickleError(`BUILD on a ${describe(obj)}`);
        }
        case 0x51: {
          const pid = pop();
          if (!opts.persistentLoad) throw new PickleError('persistent id found but no persistent loader given');
          stack.push(opts.persistentLoad(pid));
          break;
        }
        case 0x2e: {
          const result = pop();
          return result;
        }
        case 0x30:
          if (stack.length > 0) stack.pop();
          else popMark();
          break;
        case 0x31:
          popMark();
          break;
        case 0x32:
          stack.push(top());
          break;
        case 0x8f:
          stack.push(new Set());
          break;
        case 0x90: {
          const items = popMark();
          const s = top();
          if (!(s instanceof Set)) throw new PickleError(`ADDITEMS on a ${describe(s)}`);
          for (const x of items) s.add(x);
          break;
        }
        case 0x91: {
          const items = popMark();
          stack.push(new Set(items));
          break;
        }
        default: {
          const name = OPNAMES[op];
          throw new PickleError(`unsupported opcode ${name ?? `0x${op.toString(16).padStart(2, '0')}`}`);
        }
      }
    }
  } catch (e) {
    const where = `at byte ${opPos} (opcode ${OPNAMES[op] ?? `0x${op.toString(16)}`})`;
    if (e instanceof UnsafePickleError) throw e;
    if (e instanceof PickleError) throw new PickleError(`${e.message} ${where}`);
    throw new PickleError(`malformed pickle ${where}: ${(e as Error)?.message ?? String(e)}`);
  }
}
