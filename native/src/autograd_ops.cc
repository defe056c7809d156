// Autograd, the fused optimizer step, RNG state and thread control.
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <cstring>
#include <mutex>

#include "common.h"

namespace ctf {

CTF_OP(setRequiresGrad) {
  CTF_BODY(setRequiresGrad) {
    Unwrap(info.Env(), info[0], 0).set_requires_grad(Bool(info, 1));
    return info.Env().Undefined();
  } CTF_END
}
CTF_OP(requiresGrad) { CTF_BODY(requiresGrad) { return Napi::Boolean::New(info.Env(), T(info, 0).requires_grad()); } CTF_END }
CTF_OP(grad) {
  CTF_BODY(grad) {
    const at::Tensor& g = T(info, 0).grad();
    if (!g.defined()) return info.Env().Null();
    return Wrap(info.Env(), g);
  } CTF_END
}
CTF_OP(zeroGrad) {
  CTF_BODY(zeroGrad) {
    for (auto& p : TList(info, 0)) p.mutable_grad().reset();
    return info.Env().Undefined();
  } CTF_END
}
CTF_OP(backward) {
  CTF_BODY(backward) {
    const at::Tensor& t = T(info, 0);
    if (!t.requires_grad()) throw ArgError("backward() on a tensor that does not require grad (was it computed under noGrad, or from detached inputs?)");
    c10::optional<at::Tensor> g = OptT(info, 1);
    t.backward(g ? *g : at::Tensor(), Bool(info, 2) ? c10::optional<bool>(true) : c10::nullopt);
    return info.Env().Undefined();
  } CTF_END
}
CTF_OP(detach) { CTF_BODY(detach) { return Wrap(info.Env(), T(info, 0).detach()); } CTF_END }
CTF_OP(setGradEnabled) {
  at::GradMode::set_enabled(info[0].ToBoolean().Value());
  return info.Env().Undefined();
}
CTF_OP(isGradEnabled) { return Napi::Boolean::New(info.Env(), at::GradMode::is_enabled()); }

// One AdamW step (decoupled weight decay, PyTorch's formulation) over a parameter group whose
// moment tensors the caller owns, so optimizer state can be checkpointed like any tensor.
// adamw(params, expAvg, expAvgSq, lr, beta1, beta2, eps, weightDecay, step)
CTF_OP(adamw) {
  CTF_BODY(adamw) {
    auto params = TList(info, 0), m = TList(info, 1), v = TList(info, 2);
    if (m.size() != params.size() || v.size() != params.size()) throw ArgError("moment lists must match the parameter list");
    double lr = F64(info, 3), b1 = F64(info, 4), b2 = F64(info, 5), eps = F64(info, 6), wd = F64(info, 7);
    double step = F64(info, 8);
    at::NoGradGuard no_grad;
    double bc1 = 1 - std::pow(b1, step), bc2 = 1 - std::pow(b2, step);
    double stepSize = lr / bc1, bc2Sqrt = std::sqrt(bc2);
    for (size_t i = 0; i < params.size(); i++) {
      at::Tensor& p = params[i];
      const at::Tensor& g = p.grad();
      if (!g.defined()) continue;
      if (wd != 0) p.mul_(1 - lr * wd);
      m[i].lerp_(g, 1 - b1);
      v[i].mul_(b2).addcmul_(g, g, 1 - b2);
      at::Tensor denom = (v[i].sqrt() / bc2Sqrt).add_(eps);
      p.addcdiv_(m[i], denom, -stepSize);
    }
    return info.Env().Undefined();
  } CTF_END
}

// Scales gradients so their global l2 norm is at most maxNorm; returns the norm before clipping.
CTF_OP(clipGradNorm) {
  CTF_BODY(clipGradNorm) {
    auto params = TList(info, 0);
    double maxNorm = F64(info, 1);
    at::NoGradGuard no_grad;
    std::vector<at::Tensor> norms;
    for (auto& p : params)
      if (p.grad().defined()) norms.push_back(p.grad().norm(2).to(at::kDouble));
    if (norms.empty()) return Napi::Number::New(info.Env(), 0);
    double total = at::stack(norms).norm(2).item<double>();
    double coef = maxNorm / (total + 1e-6);
    if (coef < 1)
      for (auto& p : params)
        if (p.grad().defined()) p.mutable_grad().mul_(coef);
    return Napi::Number::New(info.Env(), total);
  } CTF_END
}

CTF_OP(manualSeed) {
  CTF_BODY(manualSeed) {
    double s = F64(info, 0);
    if (s < 0 || s != std::floor(s)) throw ArgError("seed must be a non-negative integer");
    at::Generator& gen = Gen(info.Env());
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_current_seed(static_cast<uint64_t>(s));
    return info.Env().Undefined();
  } CTF_END
}
// The environment's generator's full state as bytes (exact resume of sampling and dropout).
CTF_OP(getRngState) {
  CTF_BODY(getRngState) {
    at::Generator& gen = Gen(info.Env());
    at::Tensor state;
    {
      std::lock_guard<std::mutex> lock(gen.mutex());
      state = gen.get_state();
    }
    auto buf = Napi::Uint8Array::New(info.Env(), state.numel());
    std::memcpy(buf.Data(), state.data_ptr(), state.numel());
    return buf;
  } CTF_END
}
CTF_OP(setRngState) {
  CTF_BODY(setRngState) {
    if (!info[0].IsTypedArray()) throw ArgError("rng state must be a Uint8Array from getRngState()");
    auto arr = info[0].As<Napi::Uint8Array>();
    at::Tensor state = at::empty({(int64_t)arr.ElementLength()}, at::kByte);
    std::memcpy(state.data_ptr(), arr.Data(), arr.ElementLength());
    at::Generator& gen = Gen(info.Env());
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(state);
    return info.Env().Undefined();
  } CTF_END
}

CTF_OP(setNumThreads) {
  CTF_BODY(setNumThreads) {
    int64_t n = I64(info, 0);
    if (n < 1) throw ArgError("thread count must be at least 1");
    at::set_num_threads(static_cast<int>(n));
    return info.Env().Undefined();
  } CTF_END
}
CTF_OP(getNumThreads) { return Napi::Number::New(info.Env(), at::get_num_threads()); }

void RegisterAutogradOps(Napi::Env env, Napi::Object exports) {
  CTF_EXPORT(exports, setRequiresGrad);
  CTF_EXPORT(exports, requiresGrad);
  CTF_EXPORT(exports, grad);
  CTF_EXPORT(exports, zeroGrad);
  CTF_EXPORT(exports, backward);
  CTF_EXPORT(exports, detach);
  CTF_EXPORT(exports, setGradEnabled);
  CTF_EXPORT(exports, isGradEnabled);
  CTF_EXPORT(exports, adamw);
  CTF_EXPORT(exports, clipGradNorm);
  CTF_EXPORT(exports, manualSeed);
  CTF_EXPORT(exports, getRngState);
  CTF_EXPORT(exports, setRngState);
  CTF_EXPORT(exports, setNumThreads);
  CTF_EXPORT(exports, getNumThreads);
}

}  // namespace ctf
