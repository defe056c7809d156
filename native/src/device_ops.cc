// The environment's current device (cpu, cuda:N) and mixed precision through libtorch's autocast.
#include <ATen/autocast_mode.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include "common.h"

namespace ctf {

// setDevice('cpu' | 'cuda' | 'cuda:N'): where creation ops and copy-in put new tensors.
CTF_OP(setDevice) {
  CTF_BODY(setDevice) {
    if (!info[0].IsString()) throw ArgError("argument 0 must be a device name (cpu, cuda or cuda:N)");
    std::string name = info[0].As<Napi::String>().Utf8Value();
    if (name != "cpu" && name.rfind("cuda", 0) != 0) throw ArgError("unknown device '" + name + "' (use cpu, cuda or cuda:N)");
    at::Device d(name);
    if (d.is_cuda()) {
      if (!torch::cuda::is_available())
        throw ArgError("device '" + name + "' asked for, but " +
                       (at::hasCUDA() ? std::string("no CUDA GPU is visible")
                                      : std::string("this addon was built against a libtorch without CUDA (rebuild it with LIBTORCH=<a CUDA libtorch>)")));
      int64_t n = static_cast<int64_t>(torch::cuda::device_count());
      if (!d.has_index()) d = at::Device(at::kCUDA, 0);
      if (d.index() >= n) throw ArgError("device '" + name + "' asked for, but only " + std::to_string(n) + " CUDA devices are visible");
      c10::impl::getDeviceGuardImpl(at::kCUDA)->setDevice(d);
    }
    info.Env().GetInstanceData<EnvState>()->device = d;
    return info.Env().Undefined();
  } CTF_END
}

CTF_OP(device) { return Napi::String::New(info.Env(), Dev(info.Env()).str()); }
CTF_OP(cudaDeviceCount) {
  return Napi::Number::New(info.Env(), torch::cuda::is_available() ? static_cast<double>(torch::cuda::device_count()) : 0);
}

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
static bool AutocastOn(at::DeviceType t) { return at::autocast::is_autocast_enabled(t); }
static at::ScalarType AutocastType(at::DeviceType t) { return at::autocast::get_autocast_dtype(t); }
static void SetAutocastOn(at::DeviceType t, bool on) { at::autocast::set_autocast_enabled(t, on); }
static void SetAutocastType(at::DeviceType t, at::ScalarType s) { at::autocast::set_autocast_dtype(t, s); }
#else
static bool AutocastOn(at::DeviceType t) { return t == at::kCPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled(); }
static at::ScalarType AutocastType(at::DeviceType t) {
  return t == at::kCPU ? at::autocast::get_autocast_cpu_dtype() : at::autocast::get_autocast_gpu_dtype();
}
static void SetAutocastOn(at::DeviceType t, bool on) {
  if (t == at::kCPU) at::autocast::set_cpu_enabled(on);
  else at::autocast::set_enabled(on);
}
static void SetAutocastType(at::DeviceType t, at::ScalarType s) {
  if (t == at::kCPU) at::autocast::set_autocast_cpu_dtype(s);
  else at::autocast::set_autocast_gpu_dtype(s);
}
#endif

// setAutocast(dtype | null) → the previous setting. Ops run under autocast on the current device's
// kind (matmuls and convolutions in dtype, reductions and losses in float32) while weights and
// optimizer state stay float32. Turning it off clears the cache of weights cast for the region.
CTF_OP(setAutocast) {
  CTF_BODY(setAutocast) {
    at::DeviceType t = Dev(info.Env()).type();
    bool was = AutocastOn(t);
    Napi::Value prev = was ? Napi::String::New(info.Env(), DTypeName(AutocastType(t))) : info.Env().Null();
    if (Present(info, 0)) {
      at::ScalarType s = DType(info, 0, at::kBFloat16);
      if (s != at::kBFloat16 && s != at::kHalf) throw ArgError("autocast runs in bfloat16 or float16");
      SetAutocastType(t, s);
      if (!was) {
        SetAutocastOn(t, true);
        at::autocast::increment_nesting();
      }
    } else if (was) {
      SetAutocastOn(t, false);
      if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    }
    return prev;
  } CTF_END
}

void RegisterDeviceOps(Napi::Env env, Napi::Object exports) {
  CTF_EXPORT(exports, setDevice);
  CTF_EXPORT(exports, device);
  CTF_EXPORT(exports, cudaDeviceCount);
  CTF_EXPORT(exports, setAutocast);
}

}  // namespace ctf
