import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  PickleError,
  PyGlobal,
  TensorRef,
  UnsafePickleError,
  isPyTuple,
  isTensorRef,
  parseTorchStoragePid,
  unpickle,
} from '../../src/io/index.js';
import { pk, str } from './helpers.js';

const PROTO2 = [0x80, 2];

test('os.system via GLOBAL + REDUCE is refused before anything runs', () => {
  const evil = pk(...PROTO2, 'cos\nsystem\n', str('touch /tmp/pwned'), 0x85, 'R', '.');
  assert.throws(
    () => unpickle(evil),
    (e: unknown) =>
      e instanceof UnsafePickleError &&
      e.global === 'os.system' &&
      /refusing to load: pickle references os\.system; loading a checkpoint never executes code/.test(e.message),
  );
  // STACK_GLOBAL (protocol 4) is checked the same way
  // prettier-ignore
  const evil4 = pk(0x80, 4, 0x8c, 8, 'builtins', 0x8c, 4, 'eval', 0x93, str('1'), 0x85, 'R', '.');
  assert.throws(() => unpickle(evil4), /refusing to load: pickle references builtins\.eval/);
  // allow-listed names cannot be misused: REDUCE on a storage class
  assert.throws(() => unpickle(pk(...PROTO2, 'ctorch\nFloatStorage\n', ')', 'R', '.')), UnsafePickleError);
  // REDUCE on a non-global value
  assert.throws(() => unpickle(pk(...PROTO2, str('x'), ')', 'R', '.')), /REDUCE on a string value/);
  // other interesting globals
  for (const g of ['subprocess\nPopen', 'builtins\ngetattr', 'torch\nload', 'numpy.core.multiarray\nscalar', 'collections\ndefaultdict']) {
    assert.throws(() => unpickle(pk(...PROTO2, 'c', g, '\n', ')', 'R', '.')), UnsafePickleError, g);
  }
});

test('basic values, containers, memo, protocol 4 opcodes', () => {
  // prettier-ignore
  const p = pk(
    0x80, 4, 0x95, 0, 0, 0, 0, 0, 0, 0, 0, // PROTO 4, FRAME 0 (a hint only)
    '}', 0x94, // EMPTY_DICT MEMOIZE(0)
    '(',
    0x8c, 1, 'a', 'K', 7,
    0x8c, 1, 'b', 'M', 0x34, 0x12,
    0x8c, 1, 'c', 'J', 0xff, 0xff, 0xff, 0xff,
    0x8c, 1, 'd', 0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1, // LONG1 2**64
    0x8c, 1, 'e', 'G', 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, // 1.5
    0x8c, 1, 'f', 'N',
    0x8c, 1, 'g', 0x88,
    0x8c, 1, 'h', ']', 0x94, 'K', 1, 'a', 'K', 2, 'a', // list [1, 2] memo 1
    0x8c, 1, 'i', 'h', 1, // the same list again (BINGET 1)
    0x8c, 1, 'j', 'K', 1, 'K', 2, 0x86, // tuple (1, 2)
    0x8c, 1, 'k', 'C', 2, 0, 255, // bytes
    0x8c, 1, 'l', 0x8f, '(', 'K', 3, 0x90, // set {3}
    0x8c, 1, 'm', 0x8a, 1, 0xff, // -1
    'u', '.',
  );
  const v = unpickle(p) as Map<string, unknown>;
  assert.ok(v instanceof Map);
  assert.equal(v.get('a'), 7);
  assert.equal(v.get('b'), 0x1234);
  assert.equal(v.get('c'), -1);
  assert.equal(v.get('d'), 2n ** 64n);
  assert.equal(v.get('e'), 1.5);
  assert.equal(v.get('f'), null);
  assert.equal(v.get('g'), true);
  assert.deepEqual(v.get('h'), [1, 2]);
  assert.equal(v.get('h'), v.get('i'));
  assert.ok(!isPyTuple(v.get('h')));
  assert.ok(isPyTuple(v.get('j')));
  assert.deepEqual([...(v.get('k') as Uint8Array)], [0, 255]);
  assert.deepEqual([...(v.get('l') as Set<number>)], [3]);
  assert.equal(v.get('m'), -1);
});

test('argparse.Namespace becomes a plain object; __proto__ stays a field', () => {
  // prettier-ignore
  const p = pk(...PROTO2, 'cargparse\nNamespace\n', ')', 0x81, '}', '(', str('lr'), 'K', 3, str('__proto__'), 'K', 4, 'u', 'b', '.');
  const ns = unpickle(p) as Record<string, unknown>;
  assert.equal(ns.lr, 3);
  assert.equal(Object.getPrototypeOf(ns), Object.prototype);
  assert.ok(Object.prototype.hasOwnProperty.call(ns, '__proto__'));
  assert.equal(({} as Record<string, unknown>).lr, undefined);
});

test('cyclic structures do not hang', () => {
  // l = []; l.append(l)
  const p = pk(...PROTO2, ']', 'q', 0, 'h', 0, 'a', '.');
  const l = unpickle(p) as unknown[];
  assert.equal(l[0], l);
});

test('malformed pickles give PickleErrors with a position', () => {
  const bad: Array<[Uint8Array, RegExp]> = [
    [pk(...PROTO2), /no STOP/],
    [pk(...PROTO2, 'X', 255, 255, 255, 127, 'a'), /truncated pickle: BINUNICODE/],
    [pk(...PROTO2, '.'), /stack underflow/],
    [pk(...PROTO2, 'h', 5, '.'), /memo key 5/],
    [pk(...PROTO2, 'K', 1, 's', '.'), /stack underflow/],
    [pk(...PROTO2, 'K', 1, 'K', 2, 'K', 3, 's', '.'), /SETITEM\(S\) on a number/],
    [pk(...PROTO2, ')', 'K', 1, 'a', '.'), /APPEND\(S\) on a tuple/],
    [pk(...PROTO2, 'u', '.'), /no MARK/],
    [pk(0x80, 9, '.'), /protocol 9/],
    [pk(...PROTO2, 'i', 'os\nsystem\n', '.'), /unsupported opcode INST/],
    [pk(...PROTO2, 0xff), /unsupported opcode 0xff/],
    [pk(...PROTO2, 'N', 'Q', '.'), /persistent id found but no persistent loader/],
    [pk(...PROTO2, 'ctorch._utils\n_rebuild_tensor_v2\n', ')', 'R', '.'), /called with 0 arguments/],
    [pk(...PROTO2, 'ccollections\nOrderedDict'), /unterminated text line/],
  ];
  for (const [bytes, re] of bad) {
    assert.throws(
      () => unpickle(bytes),
      (e: unknown) => e instanceof PickleError && re.test(e.message) && /at byte \d+/.test(e.message),
      re.source,
    );
  }
});

test('torch 2.x tensor with Python state (_rebuild_from_type_v2), dtypes and torch.Size', () => {
  // prettier-ignore
  const storagePid = ['(', str('storage'), 'ctorch\nFloatStorage\n', str('7'), str('cpu'), 'K', 6, 't', 'Q'] as const;
  // prettier-ignore
  const p = pk(
    ...PROTO2, '}', '(',
    str('t'),
    'ctorch._tensor\n_rebuild_from_type_v2\n',
    '(',
    'ctorch._utils\n_rebuild_tensor_v2\n',
    'ctorch.nn.parameter\nParameter\n',
    '(', ...storagePid, 'K', 1, 'K', 2, 'K', 2, 0x86, 'K', 1, 'K', 2, 0x86, 0x89, '}', 't',
    '}', str('note'), str('hi'), 's',
    't', 'R',
    str('d'), 'ctorch\nbfloat16\n',
    str('s'), 'ctorch\nSize\n', 'K', 2, 'K', 3, 0x86, 0x85, 'R',
    'u', '.',
  );
  const v = unpickle(p, { persistentLoad: parseTorchStoragePid }) as Map<string, unknown>;
  const t = v.get('t') as TensorRef;
  assert.ok(isTensorRef(t));
  assert.deepEqual([t.dtype, t.offset, t.shape, t.stride, t.storage.key, t.storage.numel], ['float32', 1, [2, 2], [1, 2], '7', 6]);
  assert.equal((v.get('d') as PyGlobal).qualified, 'torch.bfloat16');
  assert.deepEqual(v.get('s'), [2, 3]);
  assert.ok(isPyTuple(v.get('s')));
  // the view must fit its storage: offset 3 + (2-1)*1 + (2-1)*2 = 6 is past 6 elements
  const bad = Buffer.from(p);
  bad[bad.indexOf(Buffer.from([0x4b, 1, 0x4b, 2, 0x4b, 2]))! + 1] = 3;
  assert.throws(() => unpickle(bad, { persistentLoad: parseTorchStoragePid }), /reaches element 6 of a storage of 6 elements/);
  // a non-tensor type is refused
  assert.throws(
    () => unpickle(pk(...PROTO2, 'ctorch._tensor\n_rebuild_from_type_v2\n', '(', 'N', 'ctorch\nSize\n', ')', 'N', 't', 'R', '.')),
    /is not a tensor type/,
  );
});
