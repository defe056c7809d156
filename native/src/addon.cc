// Entry point of the ctfgen libtorch binding: a flat table of generic tensor functions.
#include "common.h"

namespace ctf {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  RegisterTensorOps(env, exports);
  RegisterMathOps(env, exports);
  RegisterNnOps(env, exports);
  RegisterAutogradOps(env, exports);
  return exports;
}

NODE_API_MODULE(ctfgen_torch, Init)

}  // namespace ctf
