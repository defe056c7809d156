// Facts about the libtorch that LIBTORCH points at, for binding.gyp (printed on stdout):
//   cuda — 1 when it was built with CUDA (lib/libtorch_cuda.so), else 0;
//   abi  — the _GLIBCXX_USE_CXX11_ABI its C++ library names were compiled with (PyTorch wheels
//          before 2.7 use 0, Debian and recent wheels 1): libc10's symbol table holds `__cxx11`
//          names only under the new ABI. CTFGEN_CXX11_ABI overrides the guess.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
const root = process.env.LIBTORCH || '';
const what = process.argv[2];
if (what === 'cuda') console.log(root && existsSync(join(root, 'lib', 'libtorch_cuda.so')) ? 1 : 0);
else if (what === 'abi') {
  const forced = process.env.CTFGEN_CXX11_ABI;
  if (forced === '0' || forced === '1') console.log(forced);
  else if (!root) console.log(1);
  else console.log(readFileSync(join(root, 'lib', 'libc10.so')).includes('__cxx11') ? 1 : 0);
} else throw new Error(`usage: node libtorch-flags.cjs cuda|abi (got ${what})`);
