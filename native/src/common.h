// Shared plumbing of the binding: tensor handles, argument conversion and error translation.
// A tensor crosses into JS as a type-tagged napi External owning a heap at::Tensor; `free`
// resets it early (explicit lifetimes), the GC finalizer deletes the small holder.
#pragma once
#include <ATen/ATen.h>
#include <napi.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace ctf {

// Thrown for bad arguments detected by the binding itself; reported like libtorch errors.
struct ArgError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

Napi::Value Wrap(Napi::Env env, at::Tensor t);
Napi::Value WrapList(Napi::Env env, const std::vector<at::Tensor>& ts);
bool IsTensor(Napi::Env env, const Napi::Value& v);
at::Tensor& Unwrap(Napi::Env env, const Napi::Value& v, size_t index);

// Argument readers; `index` is the JS argument position, used in error messages.
const at::Tensor& T(const Napi::CallbackInfo& info, size_t index);
c10::optional<at::Tensor> OptT(const Napi::CallbackInfo& info, size_t index);
std::vector<at::Tensor> TList(const Napi::CallbackInfo& info, size_t index);
int64_t I64(const Napi::CallbackInfo& info, size_t index);
double F64(const Napi::CallbackInfo& info, size_t index);
bool Bool(const Napi::CallbackInfo& info, size_t index);
bool Present(const Napi::CallbackInfo& info, size_t index);
std::vector<int64_t> Ints(const Napi::CallbackInfo& info, size_t index);
at::ScalarType DType(const Napi::CallbackInfo& info, size_t index, at::ScalarType fallback);
// A JS number as a Scalar that keeps integer tensors integral (idx + 1 stays int64).
at::Scalar ScalarFor(const Napi::CallbackInfo& info, size_t index, const at::Tensor& like);

at::ScalarType ParseDType(const std::string& name);
const char* DTypeName(at::ScalarType t);

// Runs an op body; libtorch and argument errors become JS Errors that name the op and the
// dtype/shape of every tensor argument, so a shape mismatch never aborts the process.
Napi::Value Fail(const Napi::CallbackInfo& info, const char* op, const char* what);

template <typename F>
Napi::Value Guard(const Napi::CallbackInfo& info, const char* op, F&& body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    return Fail(info, op, e.what_without_backtrace());
  } catch (const std::exception& e) {
    return Fail(info, op, e.what());
  }
}

#define CTF_OP(name) Napi::Value name(const Napi::CallbackInfo& info)
#define CTF_BODY(name) return Guard(info, #name, [&]() -> Napi::Value
#define CTF_END );
#define CTF_EXPORT(exports, fn) exports.Set(#fn, Napi::Function::New(env, fn, #fn))

// Per-environment state. Node runs the main thread and every worker thread in an environment of
// its own; each gets its own random generator, so generation in one worker never draws from
// (or reseeds) another's stream. Every random op of the binding draws from Gen(env), on the CPU
// (then copies to the device), so a seed draws the same numbers on every device. Creation ops and
// copy-in put tensors on the environment's current device; copy-out goes through the CPU.
struct EnvState {
  at::Generator gen;
  at::Device device{at::kCPU};
};
void InitEnvState(Napi::Env env);
at::Generator& Gen(Napi::Env env);
at::Device Dev(Napi::Env env);
// dtype on the environment's current device
at::TensorOptions Opts(Napi::Env env, at::ScalarType t);
// a tensor made on the CPU (random draws, copy-in) moved to the environment's device
at::Tensor OnDevice(Napi::Env env, at::Tensor cpu);

void RegisterTensorOps(Napi::Env env, Napi::Object exports);
void RegisterMathOps(Napi::Env env, Napi::Object exports);
void RegisterNnOps(Napi::Env env, Napi::Object exports);
void RegisterAutogradOps(Napi::Env env, Napi::Object exports);
void RegisterDeviceOps(Napi::Env env, Napi::Object exports);
void RegisterDistOps(Napi::Env env, Napi::Object exports);
void RegisterLinalgOps(Napi::Env env, Napi::Object exports);
void RegisterFastOps(Napi::Env env, Napi::Object exports);

}  // namespace ctf
