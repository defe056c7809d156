// Elementwise math (broadcasting, tensor or number operands), reductions, sorting, matmul and
// the in-place updates optimizers and initialisers need.
#include <ATen/ScalarOps.h>

#include "common.h"

namespace ctf {

// A number as PyTorch's "wrapped number" tensor, so type promotion treats it like a Python scalar
// (float32 tensor * 0.5 stays float32; int64 tensor * 0.5 becomes float32).
static at::Tensor WrappedScalar(const at::Scalar& s) {
  at::Tensor t = c10::scalar_to_tensor(s);
  t.unsafeGetTensorImpl()->set_wrapped_number(true);
  return t;
}

// The second operand may be a tensor or a JS number; numbers keep integer tensors integral.
#define CTF_BINARY(name, fn)                                                              \
  CTF_OP(name) {                                                                          \
    CTF_BODY(name) {                                                                      \
      if (info[0].IsNumber()) {                                                           \
        const at::Tensor& b = T(info, 1);                                                 \
        at::Tensor a = WrappedScalar(ScalarFor(info, 0, b)); \
        return Wrap(info.Env(), fn(a, b));                                                \
      }                                                                                   \
      const at::Tensor& a = T(info, 0);                                                   \
      if (info[1].IsNumber() || info[1].IsBoolean()) {                                    \
        at::Tensor b = WrappedScalar(ScalarFor(info, 1, a)); \
        return Wrap(info.Env(), fn(a, b));                                                \
      }                                                                                   \
      return Wrap(info.Env(), fn(a, T(info, 1)));                                         \
    } CTF_END                                                                             \
  }

CTF_BINARY(add, at::add)
CTF_BINARY(sub, at::sub)
CTF_BINARY(mul, at::mul)
CTF_BINARY(div, at::div)
CTF_BINARY(pow, at::pow)
CTF_BINARY(maximum, at::maximum)
CTF_BINARY(minimum, at::minimum)
CTF_BINARY(remainder, at::remainder)
CTF_BINARY(floorDivide, at::floor_divide)
CTF_BINARY(eq, at::eq)
CTF_BINARY(ne, at::ne)
CTF_BINARY(lt, at::lt)
CTF_BINARY(le, at::le)
CTF_BINARY(gt, at::gt)
CTF_BINARY(ge, at::ge)
CTF_BINARY(logicalAnd, at::logical_and)
CTF_BINARY(logicalOr, at::logical_or)

#define CTF_UNARY(name, expr)                                                            \
  CTF_OP(name) {                                                                         \
    CTF_BODY(name) {                                                                     \
      const at::Tensor& x = T(info, 0);                                                  \
      return Wrap(info.Env(), expr);                                                     \
    } CTF_END                                                                            \
  }

CTF_UNARY(neg, at::neg(x))
CTF_UNARY(exp, at::exp(x))
CTF_UNARY(log, at::log(x))
CTF_UNARY(log1p, at::log1p(x))
CTF_UNARY(sqrt, at::sqrt(x))
CTF_UNARY(rsqrt, at::rsqrt(x))
CTF_UNARY(abs, at::abs(x))
CTF_UNARY(sin, at::sin(x))
CTF_UNARY(cos, at::cos(x))
CTF_UNARY(tanh, at::tanh(x))
CTF_UNARY(sigmoid, at::sigmoid(x))
CTF_UNARY(relu, at::relu(x))
CTF_UNARY(silu, at::silu(x))
CTF_UNARY(gelu, at::gelu(x, Bool(info, 1) ? "tanh" : "none"))
CTF_UNARY(square, at::square(x))
CTF_UNARY(reciprocal, at::reciprocal(x))
CTF_UNARY(floor, at::floor(x))
CTF_UNARY(ceil, at::ceil(x))
CTF_UNARY(round, at::round(x))
CTF_UNARY(sign, at::sign(x))
CTF_UNARY(erf, at::erf(x))
CTF_UNARY(logicalNot, at::logical_not(x))
CTF_UNARY(isnan, at::isnan(x))

CTF_OP(clamp) {
  CTF_BODY(clamp) {
    c10::optional<at::Scalar> lo, hi;
    if (Present(info, 1)) lo = ScalarFor(info, 1, T(info, 0));
    if (Present(info, 2)) hi = ScalarFor(info, 2, T(info, 0));
    return Wrap(info.Env(), at::clamp(T(info, 0), lo, hi));
  } CTF_END
}
CTF_OP(lerp) {
  CTF_BODY(lerp) { return Wrap(info.Env(), at::lerp(T(info, 0), T(info, 1), at::Scalar(F64(info, 2)))); } CTF_END
}

// Reductions: dims undefined/null = all dims.
#define CTF_REDUCE(name, all_expr, dim_expr)                                              \
  CTF_OP(name) {                                                                          \
    CTF_BODY(name) {                                                                      \
      const at::Tensor& x = T(info, 0);                                                   \
      bool keep = Bool(info, 2);                                                          \
      if (!Present(info, 1)) return Wrap(info.Env(), all_expr);                          \
      std::vector<int64_t> dims = Ints(info, 1);                                          \
      return Wrap(info.Env(), dim_expr);                                                  \
    } CTF_END                                                                             \
  }

CTF_REDUCE(sum, keep ? x.sum(c10::IntArrayRef(), true) : x.sum(), x.sum(dims, keep))
CTF_REDUCE(mean, keep ? x.mean(c10::IntArrayRef(), true) : x.mean(), x.mean(dims, keep))
CTF_REDUCE(amax, x.amax(c10::IntArrayRef(), keep), x.amax(dims, keep))
CTF_REDUCE(amin, x.amin(c10::IntArrayRef(), keep), x.amin(dims, keep))
CTF_REDUCE(logsumexp, x.flatten().logsumexp(0, false), x.logsumexp(dims, keep))
CTF_REDUCE(any, x.any(), x.any(dims.at(0), keep))
CTF_REDUCE(all, x.all(), x.all(dims.at(0), keep))

CTF_OP(var) {
  CTF_BODY(var) {
    const at::Tensor& x = T(info, 0);
    bool unbiased = Present(info, 2) ? Bool(info, 2) : true;
    if (!Present(info, 1)) return Wrap(info.Env(), x.var(unbiased));
    return Wrap(info.Env(), x.var(Ints(info, 1), unbiased, Bool(info, 3)));
  } CTF_END
}

CTF_OP(argmax) {
  CTF_BODY(argmax) {
    c10::optional<int64_t> dim = Present(info, 1) ? c10::optional<int64_t>(I64(info, 1)) : c10::nullopt;
    return Wrap(info.Env(), at::argmax(T(info, 0), dim, Bool(info, 2)));
  } CTF_END
}
CTF_OP(argmin) {
  CTF_BODY(argmin) {
    c10::optional<int64_t> dim = Present(info, 1) ? c10::optional<int64_t>(I64(info, 1)) : c10::nullopt;
    return Wrap(info.Env(), at::argmin(T(info, 0), dim, Bool(info, 2)));
  } CTF_END
}
// max/min along a dim: [values, indices].
CTF_OP(maxDim) {
  CTF_BODY(maxDim) {
    auto r = at::max(T(info, 0), I64(info, 1), Bool(info, 2));
    return WrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
  } CTF_END
}
CTF_OP(minDim) {
  CTF_BODY(minDim) {
    auto r = at::min(T(info, 0), I64(info, 1), Bool(info, 2));
    return WrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
  } CTF_END
}
CTF_OP(topk) {
  CTF_BODY(topk) {
    bool largest = Present(info, 3) ? Bool(info, 3) : true;
    auto r = at::topk(T(info, 0), I64(info, 1), Present(info, 2) ? I64(info, 2) : -1, largest, true);
    return WrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
  } CTF_END
}
CTF_OP(sort) {
  CTF_BODY(sort) {
    auto r = at::sort(T(info, 0), Present(info, 1) ? I64(info, 1) : -1, Bool(info, 2));
    return WrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
  } CTF_END
}
CTF_OP(cumsum) { CTF_BODY(cumsum) { return Wrap(info.Env(), at::cumsum(T(info, 0), I64(info, 1))); } CTF_END }

CTF_OP(matmul) { CTF_BODY(matmul) { return Wrap(info.Env(), at::matmul(T(info, 0), T(info, 1))); } CTF_END }
CTF_OP(bmm) { CTF_BODY(bmm) { return Wrap(info.Env(), at::bmm(T(info, 0), T(info, 1))); } CTF_END }

// In-place updates (optimizers, initialisers, EMA, caches). They return nothing: the handle
// the caller holds already sees the change.
CTF_OP(copy_) {
  CTF_BODY(copy_) {
    T(info, 0).copy_(T(info, 1));
    return info.Env().Undefined();
  } CTF_END
}
CTF_OP(fill_) {
  CTF_BODY(fill_) {
    at::Tensor& t = Unwrap(info.Env(), info[0], 0);
    t.fill_(ScalarFor(info, 1, t));
    return info.Env().Undefined();
  } CTF_END
}
CTF_OP(mul_) {
  CTF_BODY(mul_) {
    at::Tensor& t = Unwrap(info.Env(), info[0], 0);
    if (info[1].IsNumber()) t.mul_(ScalarFor(info, 1, t)); else t.mul_(T(info, 1));
    return info.Env().Undefined();
  } CTF_END
}
// t += alpha * other
CTF_OP(add_) {
  CTF_BODY(add_) {
    at::Tensor& t = Unwrap(info.Env(), info[0], 0);
    at::Scalar alpha = Present(info, 2) ? at::Scalar(F64(info, 2)) : at::Scalar(1);
    if (info[1].IsNumber()) t.add_(ScalarFor(info, 1, t), alpha); else t.add_(T(info, 1), alpha);
    return info.Env().Undefined();
  } CTF_END
}
CTF_OP(lerp_) {
  CTF_BODY(lerp_) {
    Unwrap(info.Env(), info[0], 0).lerp_(T(info, 1), at::Scalar(F64(info, 2)));
    return info.Env().Undefined();
  } CTF_END
}
// In-place draws from the environment's generator; made on the CPU for a tensor elsewhere.
template <typename F>
static void DrawInto(at::Tensor& t, F draw) {
  if (t.is_cpu()) {
    draw(t);
    return;
  }
  at::Tensor cpu = at::empty(t.sizes(), t.options().device(at::kCPU));
  draw(cpu);
  t.copy_(cpu);
}
CTF_OP(uniform_) {
  CTF_BODY(uniform_) {
    DrawInto(Unwrap(info.Env(), info[0], 0), [&](at::Tensor& t) { t.uniform_(F64(info, 1), F64(info, 2), Gen(info.Env())); });
    return info.Env().Undefined();
  } CTF_END
}
CTF_OP(normal_) {
  CTF_BODY(normal_) {
    DrawInto(Unwrap(info.Env(), info[0], 0), [&](at::Tensor& t) { t.normal_(F64(info, 1), F64(info, 2), Gen(info.Env())); });
    return info.Env().Undefined();
  } CTF_END
}
// Writes `src` into t[dim][start:start+len] (KV caches, token buffers).
CTF_OP(sliceAssign_) {
  CTF_BODY(sliceAssign_) {
    const at::Tensor& src = T(info, 3);
    int64_t start = I64(info, 2), dim = I64(info, 1);
    Unwrap(info.Env(), info[0], 0).narrow(dim, start, src.size(dim)).copy_(src);
    return info.Env().Undefined();
  } CTF_END
}

void RegisterMathOps(Napi::Env env, Napi::Object exports) {
  CTF_EXPORT(exports, add);
  CTF_EXPORT(exports, sub);
  CTF_EXPORT(exports, mul);
  CTF_EXPORT(exports, div);
  CTF_EXPORT(exports, pow);
  CTF_EXPORT(exports, maximum);
  CTF_EXPORT(exports, minimum);
  CTF_EXPORT(exports, remainder);
  CTF_EXPORT(exports, floorDivide);
  CTF_EXPORT(exports, eq);
  CTF_EXPORT(exports, ne);
  CTF_EXPORT(exports, lt);
  CTF_EXPORT(exports, le);
  CTF_EXPORT(exports, gt);
  CTF_EXPORT(exports, ge);
  CTF_EXPORT(exports, logicalAnd);
  CTF_EXPORT(exports, logicalOr);
  CTF_EXPORT(exports, neg);
  CTF_EXPORT(exports, exp);
  CTF_EXPORT(exports, log);
  CTF_EXPORT(exports, log1p);
  CTF_EXPORT(exports, sqrt);
  CTF_EXPORT(exports, rsqrt);
  CTF_EXPORT(exports, abs);
  CTF_EXPORT(exports, sin);
  CTF_EXPORT(exports, cos);
  CTF_EXPORT(exports, tanh);
  CTF_EXPORT(exports, sigmoid);
  CTF_EXPORT(exports, relu);
  CTF_EXPORT(exports, silu);
  CTF_EXPORT(exports, gelu);
  CTF_EXPORT(exports, square);
  CTF_EXPORT(exports, reciprocal);
  CTF_EXPORT(exports, floor);
  CTF_EXPORT(exports, ceil);
  CTF_EXPORT(exports, round);
  CTF_EXPORT(exports, sign);
  CTF_EXPORT(exports, erf);
  CTF_EXPORT(exports, logicalNot);
  CTF_EXPORT(exports, isnan);
  CTF_EXPORT(exports, clamp);
  CTF_EXPORT(exports, lerp);
  CTF_EXPORT(exports, sum);
  CTF_EXPORT(exports, mean);
  CTF_EXPORT(exports, amax);
  CTF_EXPORT(exports, amin);
  CTF_EXPORT(exports, logsumexp);
  CTF_EXPORT(exports, any);
  CTF_EXPORT(exports, all);
  CTF_EXPORT(exports, var);
  CTF_EXPORT(exports, argmax);
  CTF_EXPORT(exports, argmin);
  CTF_EXPORT(exports, maxDim);
  CTF_EXPORT(exports, minDim);
  CTF_EXPORT(exports, topk);
  CTF_EXPORT(exports, sort);
  CTF_EXPORT(exports, cumsum);
  CTF_EXPORT(exports, matmul);
  CTF_EXPORT(exports, bmm);
  CTF_EXPORT(exports, copy_);
  CTF_EXPORT(exports, fill_);
  CTF_EXPORT(exports, mul_);
  CTF_EXPORT(exports, add_);
  CTF_EXPORT(exports, lerp_);
  CTF_EXPORT(exports, uniform_);
  CTF_EXPORT(exports, normal_);
  CTF_EXPORT(exports, sliceAssign_);
}

}  // namespace ctf
