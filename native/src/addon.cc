// Entry point of the ctfgen libtorch binding: a flat table of generic tensor functions.
#include <cstdlib>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "common.h"

namespace ctf {

// Tensors above glibc's mmap threshold (32 MB at most) get fresh pages from the kernel on every
// allocation and are unmapped on free; inside a VM those page faults dominated (a 33 MB distance
// matrix: 148 ms to fill, 4 ms once memory is reused; VQ decode 3x faster). Keep freed memory in
// the heap for reuse instead. Set MALLOC_MMAP_MAX_ yourself to keep glibc's behaviour.
static void KeepFreedMemory() {
#ifdef __GLIBC__
  if (std::getenv("MALLOC_MMAP_MAX_") != nullptr) return;
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  KeepFreedMemory();
  InitEnvState(env);
  RegisterTensorOps(env, exports);
  RegisterMathOps(env, exports);
  RegisterNnOps(env, exports);
  RegisterAutogradOps(env, exports);
  RegisterDeviceOps(env, exports);
  RegisterDistOps(env, exports);
  RegisterLinalgOps(env, exports);
  RegisterFastOps(env, exports);
  return exports;
}

NODE_API_MODULE(ctfgen_torch, Init)

}  // namespace ctf
