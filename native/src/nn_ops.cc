// Neural-network building blocks: activations with a dim, losses, embedding, linear, convolution,
// normalisations, resampling, attention and sampling.
#include <cmath>
#include <limits>

#include <ATen/CPUGeneratorImpl.h>

#include "common.h"

namespace ctf {

CTF_OP(softmax) { CTF_BODY(softmax) { return Wrap(info.Env(), at::softmax(T(info, 0), I64(info, 1))); } CTF_END }
CTF_OP(logSoftmax) { CTF_BODY(logSoftmax) { return Wrap(info.Env(), at::log_softmax(T(info, 0), I64(info, 1))); } CTF_END }

// logits [N, C] (or [N, C, ...]), target int64 [N]; reduction 0 none, 1 mean, 2 sum.
CTF_OP(crossEntropy) {
  CTF_BODY(crossEntropy) {
    const at::Tensor& logits = T(info, 0);
    const at::Tensor& target = T(info, 1);
    if (logits.dim() < 2) throw ArgError("logits must be [N, C], got " + std::to_string(logits.dim()) + " dims");
    if (target.scalar_type() != at::kLong) throw ArgError("target must be int64 class indices");
    int64_t ignore = Present(info, 2) ? I64(info, 2) : -100;
    double smoothing = Present(info, 3) ? F64(info, 3) : 0.0;
    int64_t reduction = Present(info, 4) ? I64(info, 4) : 1;
    // the loss is computed in float32 even under bfloat16/float16 autocast
    bool reduced = logits.scalar_type() == at::kBFloat16 || logits.scalar_type() == at::kHalf;
    return Wrap(info.Env(), at::cross_entropy_loss(reduced ? logits.to(at::kFloat) : logits, target, c10::nullopt, reduction, ignore, smoothing));
  } CTF_END
}

CTF_OP(embedding) {
  CTF_BODY(embedding) {
    const at::Tensor& w = T(info, 0);
    const at::Tensor& idx = T(info, 1);
    if (idx.scalar_type() != at::kLong && idx.scalar_type() != at::kInt) throw ArgError("indices must be int64 or int32");
    return Wrap(info.Env(), at::embedding(w, idx));
  } CTF_END
}

CTF_OP(linear) { CTF_BODY(linear) { return Wrap(info.Env(), at::linear(T(info, 0), T(info, 1), OptT(info, 2))); } CTF_END }

// conv2d(x, w, b?, stride, padding, dilation = 1, groups = 1)
CTF_OP(conv2d) {
  CTF_BODY(conv2d) {
    auto stride = Present(info, 3) ? Ints(info, 3) : std::vector<int64_t>{1};
    auto padding = Present(info, 4) ? Ints(info, 4) : std::vector<int64_t>{0};
    auto dilation = Present(info, 5) ? Ints(info, 5) : std::vector<int64_t>{1};
    int64_t groups = Present(info, 6) ? I64(info, 6) : 1;
    return Wrap(info.Env(), at::conv2d(T(info, 0), T(info, 1), OptT(info, 2), stride, padding, dilation, groups));
  } CTF_END
}

CTF_OP(groupNorm) {
  CTF_BODY(groupNorm) {
    return Wrap(info.Env(), at::group_norm(T(info, 0), I64(info, 1), OptT(info, 2), OptT(info, 3), F64(info, 4), false));
  } CTF_END
}
CTF_OP(layerNorm) {
  CTF_BODY(layerNorm) {
    return Wrap(info.Env(), at::layer_norm(T(info, 0), Ints(info, 1), OptT(info, 2), OptT(info, 3), F64(info, 4), false));
  } CTF_END
}
// LlamaGen's RMSNorm: normalise in float32 (float64 stays float64), cast back, then scale.
CTF_OP(rmsNorm) {
  CTF_BODY(rmsNorm) {
    const at::Tensor& x = T(info, 0);
    at::Tensor xf = x.scalar_type() == at::kDouble ? x : x.to(at::kFloat);
    at::Tensor y = (xf * at::rsqrt(xf.square().mean(-1, true) + F64(info, 2))).to(x.scalar_type());
    if (Present(info, 1)) y = y * T(info, 1);
    return Wrap(info.Env(), y);
  } CTF_END
}

// Nearest upsampling of [N, C, H, W] by an integer factor.
CTF_OP(upsampleNearest2d) {
  CTF_BODY(upsampleNearest2d) {
    const at::Tensor& x = T(info, 0);
    if (x.dim() != 4) throw ArgError("input must be [N, C, H, W]");
    int64_t f = I64(info, 1);
    double s = static_cast<double>(f);
    return Wrap(info.Env(), at::upsample_nearest2d(x, {x.size(2) * f, x.size(3) * f}, s, s));
  } CTF_END
}
CTF_OP(interpolateBilinear) {
  CTF_BODY(interpolateBilinear) {
    auto size = Ints(info, 1);
    if (size.size() != 2) throw ArgError("size must be [H, W]");
    return Wrap(info.Env(), at::upsample_bilinear2d(T(info, 0), size, Bool(info, 2), c10::nullopt, c10::nullopt));
  } CTF_END
}
// (x, kernel, stride?, padding?, countIncludePad?) as F.avg_pool2d
CTF_OP(avgPool2d) {
  CTF_BODY(avgPool2d) {
    auto k = Ints(info, 1);
    auto s = Present(info, 2) ? Ints(info, 2) : k;
    auto p = Present(info, 3) ? Ints(info, 3) : std::vector<int64_t>{0};
    bool includePad = Present(info, 4) ? info[4].As<Napi::Boolean>().Value() : true;
    return Wrap(info.Env(), at::avg_pool2d(T(info, 0), k, s, p, false, includePad));
  } CTF_END
}
// (x, kernel, stride?, padding?) as F.max_pool2d
CTF_OP(maxPool2d) {
  CTF_BODY(maxPool2d) {
    auto k = Ints(info, 1);
    auto s = Present(info, 2) ? Ints(info, 2) : k;
    auto p = Present(info, 3) ? Ints(info, 3) : std::vector<int64_t>{0};
    return Wrap(info.Env(), at::max_pool2d(T(info, 0), k, s, p));
  } CTF_END
}
CTF_OP(adaptiveAvgPool2d) {
  CTF_BODY(adaptiveAvgPool2d) { return Wrap(info.Env(), at::adaptive_avg_pool2d(T(info, 0), Ints(info, 1))); } CTF_END
}
// pads as in F.pad: [left, right, top, bottom, ...] from the last dim backwards.
CTF_OP(pad) {
  CTF_BODY(pad) { return Wrap(info.Env(), at::constant_pad_nd(T(info, 0), Ints(info, 1), Present(info, 2) ? F64(info, 2) : 0.0)); } CTF_END
}
// at::dropout's CPU formula (x * bernoulli(1 - p) / (1 - p)) with the environment's generator
// (drawn on the CPU for a tensor on another device).
static at::Tensor Dropout(Napi::Env env, const at::Tensor& x, double p, bool train) {
  if (!train || p == 0) return x;
  if (p == 1) return x * at::zeros_like(x);
  at::Tensor noise = at::empty_like(x, x.options().device(at::kCPU)).bernoulli_(1 - p, Gen(env));
  if (!x.is_cpu()) noise = noise.to(x.device());
  return x * noise.div_(1 - p);
}
CTF_OP(dropout) { CTF_BODY(dropout) { return Wrap(info.Env(), Dropout(info.Env(), T(info, 0), F64(info, 1), Bool(info, 2))); } CTF_END }

// Scaled dot-product attention, q [.., Tq, D], k/v [.., Tk, D]. libtorch 1.13 has no fused
// kernel, so this is the composite PyTorch 2 falls back to: scores, mask, softmax, weighted sum.
// mask: bool (true = may attend) or float (added to the scores). Causal aligns the query block to
// the end of the keys, so a KV-cache step (Tq = 1) sees every cached key.
CTF_OP(sdpa) {
  CTF_BODY(sdpa) {
    const at::Tensor& q = T(info, 0);
    const at::Tensor& k = T(info, 1);
    const at::Tensor& v = T(info, 2);
    c10::optional<at::Tensor> mask = OptT(info, 3);
    bool causal = Bool(info, 4);
    double scale = Present(info, 5) ? F64(info, 5) : 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
    double p = Present(info, 6) ? F64(info, 6) : 0.0;
    bool train = Bool(info, 7);
    at::Tensor att = at::matmul(q, k.transpose(-2, -1)).mul_(scale);
    const double ninf = -std::numeric_limits<double>::infinity();
    // one query aligned to the end of the keys sees every key: nothing to mask (KV-cache steps)
    if (causal && q.size(-2) > 1) {
      int64_t tq = q.size(-2), tk = k.size(-2);
      at::Tensor allowed = at::ones({tq, tk}, q.options().dtype(at::kBool)).tril(tk - tq);
      att.masked_fill_(allowed.logical_not(), ninf);
    }
    if (mask) {
      if (mask->scalar_type() == at::kBool) att.masked_fill_(mask->logical_not(), ninf);
      else att.add_(*mask);
    }
    att = at::softmax(att, -1);
    att = Dropout(info.Env(), att, p, train);
    return Wrap(info.Env(), at::matmul(att, v));
  } CTF_END
}

CTF_OP(multinomial) {
  CTF_BODY(multinomial) {
    const at::Tensor& probs = T(info, 0);
    at::Tensor idx = at::multinomial(probs.cpu(), I64(info, 1), Bool(info, 2), Gen(info.Env()));
    return Wrap(info.Env(), probs.is_cpu() ? idx : idx.to(probs.device()));
  } CTF_END
}
// searchsorted(sorted [.., N], values [.., M], right): insertion points as int64 [.., M].
CTF_OP(searchsorted) {
  CTF_BODY(searchsorted) {
    return Wrap(info.Env(), at::searchsorted(T(info, 0), T(info, 1), false, Bool(info, 2)));
  } CTF_END
}
// Uniforms in [0, 1) as float64 [B, n], row b drawn from a generator seeded with seeds[b]: a row
// depends on its own seed alone (not on the batch it is computed in, nor on any other stream).
CTF_OP(seededUniform) {
  CTF_BODY(seededUniform) {
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
      throw ArgError("argument 0 must be a Float64Array of integer seeds");
    auto seeds = info[0].As<Napi::Float64Array>();
    int64_t n = I64(info, 1);
    if (n < 0) throw ArgError("argument 1 (values per row) must be >= 0");
    at::Tensor out = at::empty({(int64_t)seeds.ElementLength(), n}, at::kDouble);
    for (size_t b = 0; b < seeds.ElementLength(); b++) {
      double s = seeds[b];
      if (!(s >= 0) || s != std::floor(s) || s > 9007199254740991.0) throw ArgError("seeds must be integers in 0..2^53-1");
      at::Generator g = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(s));
      out[b].uniform_(0, 1, g);
    }
    return Wrap(info.Env(), OnDevice(info.Env(), out));
  } CTF_END
}
CTF_OP(cdist) { CTF_BODY(cdist) { return Wrap(info.Env(), at::cdist(T(info, 0), T(info, 1))); } CTF_END }

void RegisterNnOps(Napi::Env env, Napi::Object exports) {
  CTF_EXPORT(exports, softmax);
  CTF_EXPORT(exports, logSoftmax);
  CTF_EXPORT(exports, crossEntropy);
  CTF_EXPORT(exports, embedding);
  CTF_EXPORT(exports, linear);
  CTF_EXPORT(exports, conv2d);
  CTF_EXPORT(exports, groupNorm);
  CTF_EXPORT(exports, layerNorm);
  CTF_EXPORT(exports, rmsNorm);
  CTF_EXPORT(exports, upsampleNearest2d);
  CTF_EXPORT(exports, interpolateBilinear);
  CTF_EXPORT(exports, avgPool2d);
  CTF_EXPORT(exports, maxPool2d);
  CTF_EXPORT(exports, adaptiveAvgPool2d);
  CTF_EXPORT(exports, pad);
  CTF_EXPORT(exports, dropout);
  CTF_EXPORT(exports, sdpa);
  CTF_EXPORT(exports, multinomial);
  CTF_EXPORT(exports, searchsorted);
  CTF_EXPORT(exports, seededUniform);
  CTF_EXPORT(exports, cdist);
}

}  // namespace ctf
