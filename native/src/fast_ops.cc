// Inference building blocks for skinny batches (KV-cache decoding: a few rows per step): linear
// layers with weights packed once (fp32 in column panels, or int8 through libtorch's oneDNN
// dynamic-quantized linear), writes into preallocated outputs, and one-query attention (RoPE,
// cache write and attention over the cache in one call). Everything is generic: no model knows
// about these ops beyond their tensor contracts.
//
// Why not libtorch's own ops. Linear: a decode step streams every weight from memory once for a
// handful of rows (16 at GPT-B with CFG: 390 MB of weights, 8 FLOPs per byte), where the BLAS
// GEMMs libtorch links are built for large products: OpenBLAS sgemm (F.linear's weight [out, in]
// or pre-transposed [in, out]) and oneDNN's fp32 inner product with packed weights (tried through
// libdnnl directly) all ran the 49 linears of a GPT-B step at 5-10 GB/s of weight traffic, about
// 40-60 GFLOP/s, with the second core adding little. The panel kernel below (weights packed once
// into contiguous [in, 16] column panels, 6 rows x 16 columns of accumulators in registers) ran
// the same step in 0.55-0.9x OpenBLAS's time, measured interleaved in one process, and is exact
// up to summation order. Attention: libtorch's attention for one query is one small BLAS call per
// (row, head) pair and product (4608 calls per step at GPT-B size with 16 rows), and that overhead
// was 40 of PyTorch's ~100 ms per step; the loops below read each cached key and value once, and
// the softmax between them stays libtorch's (vectorised exp). int8 is libtorch's
// quantized::linear_prepack / linear_dynamic under the oneDNN engine: no kernel of ours.
#include <ATen/Parallel.h>
#include <omp.h>
#include <ATen/native/quantized/PackedParams.h>
#include <ATen/core/dispatch/Dispatcher.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>

#include "common.h"

namespace ctf {

// 8-float vectors (GCC vector extensions; a scalar operand is broadcast). The loops are compiled
// twice: for AVX2 + FMA (chosen at run time when the CPU has them) and for baseline x86-64 (two
// SSE halves). The vectors never cross a non-inlined call, so GCC's ABI note about passing them
// by value does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float v8 __attribute__((vector_size(32)));
#define CTF_INLINE static inline __attribute__((always_inline))

CTF_INLINE v8 Load8(const float* p) {
  v8 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
CTF_INLINE void Store8(float* p, v8 v) { std::memcpy(p, &v, sizeof(v)); }
CTF_INLINE float Sum8(v8 a) { return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7])); }

#if defined(__x86_64__)
static const bool kAvx2Fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
static const bool kVnni = __builtin_cpu_supports("avx512vnni") || __builtin_cpu_supports("avxvnni");
#define CTF_AVX2 __attribute__((target("avx2,fma")))
#else
static const bool kAvx2Fma = false;
static const bool kVnni = false;
#define CTF_AVX2
#endif

// fn(begin, end) over [0, n) in chunks of `chunk`, handed out to libtorch's threads as they come
// free (OpenMP dynamic schedule). libtorch's parallel_for splits work statically, so a core taken
// by another process stalls the whole op at its barrier; here the other thread takes over the
// remaining chunks. Runs inline when called inside a parallel region, like parallel_for.
template <typename F>
static void ParallelChunks(int64_t n, int64_t chunk, const F& fn) {
  const int64_t chunks = (n + chunk - 1) / chunk;
  const int threads = static_cast<int>(std::min<int64_t>(at::get_num_threads(), chunks));
  if (threads <= 1 || at::in_parallel_region()) {
    fn(0, n);
    return;
  }
  std::exception_ptr error;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (int64_t c = 0; c < chunks; c++) {
    try {
      fn(c * chunk, std::min(n, (c + 1) * chunk));
    } catch (...) {
#pragma omp critical
      error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

// ---- packed linear weights ------------------------------------------------------------------

// fp32 weights are stored as panels of kPanel output columns, each [in, kPanel] (k-major, the last
// panel zero-padded): a panel is one contiguous stream, and the kernel below reads it once from
// memory for all rows.
constexpr int64_t kPanel = 16;
// Rows that share one pass over the panels: a block of x stays in L2 while the panels go by.
constexpr int64_t kRowBlock = 96;
// Panels a thread takes at a time when decoding (a few hundred KB of weights).
constexpr int64_t kPanelChunk = 8;

struct PackedLinear {
  int64_t in = 0;
  int64_t out = 0;
  at::Tensor panels;                             // fp32: [ceil(out / kPanel), in, kPanel]
  c10::intrusive_ptr<LinearPackedParamsBase> q;  // int8: oneDNN's packed per-channel weight
};

// y[R rows, kPanel] (+)= x[R rows, K] · panel[K, kPanel]: 2R accumulators in registers (R ≤ 6).
template <int R>
CTF_INLINE void PanelTile(const float* x, int64_t K, const float* p, float* y, int64_t ldy, int64_t cols, bool accumulate) {
  v8 c[R][2];
#pragma GCC unroll 6
  for (int i = 0; i < R; i++) c[i][0] = c[i][1] = v8{0, 0, 0, 0, 0, 0, 0, 0};
  for (int64_t k = 0; k < K; k++) {
    const v8 w0 = Load8(p + kPanel * k), w1 = Load8(p + kPanel * k + 8);
#pragma GCC unroll 6
    for (int i = 0; i < R; i++) {
      const float b = x[i * K + k];
      c[i][0] += b * w0;
      c[i][1] += b * w1;
    }
  }
#pragma GCC unroll 6
  for (int i = 0; i < R; i++) {
    float tile[kPanel];
    float* yi = y + i * ldy;
    float* dst = cols == kPanel ? yi : tile;
    if (accumulate && cols == kPanel) {
      c[i][0] += Load8(yi);
      c[i][1] += Load8(yi + 8);
    }
    Store8(dst, c[i][0]);
    Store8(dst + 8, c[i][1]);
    if (cols != kPanel)
      for (int64_t j = 0; j < cols; j++) yi[j] = accumulate ? yi[j] + tile[j] : tile[j];
  }
}

// Panels [begin, end) of y [M, N] = x [M, K] · W^T: rows in groups of six per panel, the panel
// re-read from cache by each group.
CTF_INLINE void PanelsImpl(const float* x, int64_t M, int64_t K, const float* panels, int64_t N, float* y, bool accumulate,
                           int64_t begin, int64_t end) {
  for (int64_t pi = begin; pi < end; pi++) {
    const float* p = panels + pi * K * kPanel;
    const int64_t n0 = pi * kPanel, cols = std::min(kPanel, N - n0);
    int64_t m = 0;
    for (; m + 6 <= M; m += 6) PanelTile<6>(x + m * K, K, p, y + m * N + n0, N, cols, accumulate);
    const float* xm = x + m * K;
    float* ym = y + m * N + n0;
    switch (M - m) {
      case 5: PanelTile<5>(xm, K, p, ym, N, cols, accumulate); break;
      case 4: PanelTile<4>(xm, K, p, ym, N, cols, accumulate); break;
      case 3: PanelTile<3>(xm, K, p, ym, N, cols, accumulate); break;
      case 2: PanelTile<2>(xm, K, p, ym, N, cols, accumulate); break;
      case 1: PanelTile<1>(xm, K, p, ym, N, cols, accumulate); break;
      default: break;
    }
  }
}
CTF_AVX2 static void PanelsAvx2(const float* x, int64_t M, int64_t K, const float* panels, int64_t N, float* y, bool accumulate,
                                int64_t begin, int64_t end) {
  PanelsImpl(x, M, K, panels, N, y, accumulate, begin, end);
}
static void PanelsBase(const float* x, int64_t M, int64_t K, const float* panels, int64_t N, float* y, bool accumulate, int64_t begin,
                       int64_t end) {
  PanelsImpl(x, M, K, panels, N, y, accumulate, begin, end);
}

static at::Tensor PackPanels(const at::Tensor& w) {
  const int64_t out = w.size(0), in = w.size(1), count = (out + kPanel - 1) / kPanel;
  return at::constant_pad_nd(w, {0, 0, 0, count * kPanel - out}).view({count, kPanel, in}).transpose(1, 2).contiguous();
}

static const napi_type_tag kPackedTag = {0x6374666765e70002ULL, 0x7061636b65645f31ULL};

static PackedLinear* UnwrapPacked(const Napi::CallbackInfo& info, size_t index) {
  bool ok = false;
  Napi::Value v = info[index];
  if (v.IsExternal()) napi_check_object_type_tag(info.Env(), v, &kPackedTag, &ok);
  if (!ok) throw ArgError("argument " + std::to_string(index) + " must be a packed linear weight");
  auto* p = v.As<Napi::External<PackedLinear>>().Data();
  if (p->out == 0) throw ArgError("argument " + std::to_string(index) + " is a disposed packed weight");
  return p;
}

// Symmetric per-output-channel int8 weight → quantized::linear_prepack under the oneDNN engine.
static c10::intrusive_ptr<LinearPackedParamsBase> PrepackInt8(const at::Tensor& w) {
  at::Tensor scales = w.abs().amax(1).clamp_min(1e-12).div(127.0).to(at::kDouble);
  at::Tensor zeros = at::zeros({w.size(0)}, at::kLong);
  at::Tensor wq = at::quantize_per_channel(w, scales, zeros, 0, at::kQInt8);
  auto& ctx = at::globalContext();
  const at::QEngine before = ctx.qEngine();
  ctx.setQEngine(at::QEngine::ONEDNN);
  torch::jit::Stack stack{c10::IValue(wq), c10::IValue(c10::optional<at::Tensor>())};
  try {
    c10::Dispatcher::singleton().findSchemaOrThrow("quantized::linear_prepack", "").callBoxed(&stack);
  } catch (...) {
    ctx.setQEngine(before);
    throw;
  }
  ctx.setQEngine(before);
  return c10::static_intrusive_pointer_cast<LinearPackedParamsBase>(stack.at(0).toObject()->getSlot(0).toCapsule());
}

// packLinear(w [out, in] float32, kind 'fp32' | 'int8') → packed weight handle
CTF_OP(packLinear) {
  CTF_BODY(packLinear) {
    const at::Tensor& w = T(info, 0);
    if (w.dim() != 2 || w.scalar_type() != at::kFloat) throw ArgError("weight must be float32 [out, in]");
    std::string kind = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
    auto* p = new PackedLinear();
    p->out = w.size(0);
    p->in = w.size(1);
    at::NoGradGuard noGrad;
    try {
      if (kind == "fp32") p->panels = PackPanels(w.detach());
      else if (kind == "int8") p->q = PrepackInt8(w.detach().contiguous());
      else throw ArgError("kind must be 'fp32' or 'int8', got '" + kind + "'");
    } catch (...) {
      delete p;
      throw;
    }
    auto ext = Napi::External<PackedLinear>::New(info.Env(), p, [](Napi::Env, PackedLinear* q) { delete q; });
    napi_type_tag_object(info.Env(), ext, &kPackedTag);
    return ext;
  } CTF_END
}

// Releases the packed copy now (idempotent); the handle then refuses use.
CTF_OP(freePacked) {
  CTF_BODY(freePacked) {
    bool ok = false;
    if (info[0].IsExternal()) napi_check_object_type_tag(info.Env(), info[0], &kPackedTag, &ok);
    if (ok) *info[0].As<Napi::External<PackedLinear>>().Data() = PackedLinear();
    return info.Env().Undefined();
  } CTF_END
}

static void CheckRows(const at::Tensor& x, int64_t in, const char* what) {
  if (x.dim() != 2 || x.size(1) != in || x.scalar_type() != at::kFloat)
    throw ArgError(std::string(what) + " must be float32 [rows, " + std::to_string(in) + "]");
}

// y = x W^T (+ y when accumulate) written into dst [rows, out]; no allocation on the fp32 path,
// whose panels are split between the threads (each streams a contiguous range).
static void LinearInto(at::Tensor& dst, const at::Tensor& x, const PackedLinear& p, bool accumulate) {
  if (p.q) {
    // reduce_range: 7-bit activations. Without VNNI, oneDNN multiplies u8 by s8 with vpmaddubsw,
    // whose 16-bit pair sums saturate at 8 bits (measured on this AVX2 machine: 17% error on a
    // random layer, 1.9% with reduce_range; PyTorch's fbgemm path reduces the range on x86 alike).
    at::Tensor y = p.q->apply_dynamic(x.contiguous(), !kVnni);
    if (accumulate) dst.add_(y);
    else dst.copy_(y);
  } else {
    const at::Tensor xc = x.contiguous();
    const float* xp = xc.data_ptr<float>();
    const float* pp = p.panels.data_ptr<float>();
    float* yp = dst.data_ptr<float>();
    const int64_t M = xc.size(0), K = p.in, N = p.out, count = p.panels.size(0);
    const auto run = kAvx2Fma ? PanelsAvx2 : PanelsBase;
    if (M <= kRowBlock) {  // decoding: the threads take chunks of panels, each streamed from memory once
      ParallelChunks(count, kPanelChunk, [&](int64_t b, int64_t e) { run(xp, M, K, pp, N, yp, accumulate, b, e); });
    } else {  // many rows: the threads take blocks of rows, each block passing over all panels
      ParallelChunks(M, kRowBlock, [&](int64_t r0, int64_t r1) { run(xp + r0 * K, r1 - r0, K, pp, N, yp + r0 * N, accumulate, 0, count); });
    }
  }
}

// linearInto_(dst [rows, out], x [rows, in], packed, accumulate?)
CTF_OP(linearInto_) {
  CTF_BODY(linearInto_) {
    at::Tensor& dst = Unwrap(info.Env(), info[0], 0);
    const at::Tensor& x = T(info, 1);
    const PackedLinear& p = *UnwrapPacked(info, 2);
    CheckRows(x, p.in, "input");
    if (dst.dim() != 2 || dst.size(0) != x.size(0) || dst.size(1) != p.out || !dst.is_contiguous())
      throw ArgError("output must be contiguous float32 [rows, " + std::to_string(p.out) + "]");
    at::NoGradGuard noGrad;
    LinearInto(dst, x, p, Bool(info, 3));
    return info.Env().Undefined();
  } CTF_END
}

// linearPacked(x [rows, in], packed) → new [rows, out]
CTF_OP(linearPacked) {
  CTF_BODY(linearPacked) {
    const at::Tensor& x = T(info, 0);
    const PackedLinear& p = *UnwrapPacked(info, 1);
    CheckRows(x, p.in, "input");
    at::NoGradGuard noGrad;
    at::Tensor dst = at::empty({x.size(0), p.out}, x.options());
    LinearInto(dst, x, p, false);
    return Wrap(info.Env(), dst);
  } CTF_END
}

// ---- row-wise helpers into preallocated outputs ---------------------------------------------

// LlamaGen's RMSNorm of each row of x [rows, d] (float32), times w [d], into dst [rows, d].
CTF_OP(rmsNormInto_) {
  CTF_BODY(rmsNormInto_) {
    at::Tensor& dst = Unwrap(info.Env(), info[0], 0);
    const at::Tensor& x = T(info, 1);
    const at::Tensor& w = T(info, 2);
    double eps = F64(info, 3);
    const int64_t d = x.size(-1);
    if (x.dim() != 2 || x.scalar_type() != at::kFloat || !x.is_contiguous()) throw ArgError("input must be contiguous float32 [rows, d]");
    if (!dst.sizes().equals(x.sizes()) || dst.scalar_type() != at::kFloat || !dst.is_contiguous())
      throw ArgError("output must be contiguous float32 of the input's shape");
    if (w.numel() != d || w.scalar_type() != at::kFloat || !w.is_contiguous()) throw ArgError("weight must be float32 [d]");
    const float* xp = x.data_ptr<float>();
    const float* wp = w.data_ptr<float>();
    float* yp = dst.data_ptr<float>();
    for (int64_t r = 0; r < x.size(0); r++) {
      const float* xr = xp + r * d;
      float* yr = yp + r * d;
      float lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      int64_t i = 0;
      for (; i + 8 <= d; i += 8)
        for (int l = 0; l < 8; l++) lanes[l] += xr[i + l] * xr[i + l];
      float ss = 0;
      for (; i < d; i++) ss += xr[i] * xr[i];
      for (float l : lanes) ss += l;
      const float inv = 1.0f / std::sqrt(ss / static_cast<float>(d) + static_cast<float>(eps));
      for (int64_t j = 0; j < d; j++) yr[j] = (xr[j] * inv) * wp[j];
    }
    return info.Env().Undefined();
  } CTF_END
}

// SwiGLU's gate: dst [rows, h] = silu(gateUp[:, :h]) * gateUp[:, h:] (gateUp [rows, 2h]).
CTF_OP(swigluInto_) {
  CTF_BODY(swigluInto_) {
    at::Tensor& dst = Unwrap(info.Env(), info[0], 0);
    const at::Tensor& gu = T(info, 1);
    const int64_t h = dst.size(-1);
    if (gu.dim() != 2 || dst.dim() != 2 || gu.size(1) != 2 * h || gu.size(0) != dst.size(0))
      throw ArgError("gateUp must be [rows, 2h] for an output [rows, h]");
    // libtorch's vectorised silu and mul on blocks of rows, one parallel region for both
    ParallelChunks(dst.size(0), std::max<int64_t>(1, 8192 / h), [&](int64_t r0, int64_t r1) {
      at::NoGradGuard noGrad;
      at::Tensor out = dst.narrow(0, r0, r1 - r0);
      at::silu_out(out, gu.narrow(0, r0, r1 - r0).narrow(1, 0, h));
      out.mul_(gu.narrow(0, r0, r1 - r0).narrow(1, h, h));
    });
    return info.Env().Undefined();
  } CTF_END
}

// Rows of weight [n, d] picked by idx [rows] into dst [rows, d].
CTF_OP(embeddingInto_) {
  CTF_BODY(embeddingInto_) {
    at::Tensor& dst = Unwrap(info.Env(), info[0], 0);
    at::NoGradGuard noGrad;
    at::index_select_out(dst, T(info, 1), 0, T(info, 2).reshape({-1}));
    return info.Env().Undefined();
  } CTF_END
}

// ---- one-query attention over a KV cache ----------------------------------------------------

// Rotates adjacent channel pairs (2i, 2i+1) of x [d] by (cos[i], sin[i]) into y (LlamaGen's RoPE).
CTF_INLINE void Rope(const float* x, const float* c, const float* s, float* y, int64_t d) {
  for (int64_t i = 0; i < d / 2; i++) {
    const float x0 = x[2 * i], x1 = x[2 * i + 1];
    y[2 * i] = x0 * c[i] - x1 * s[i];
    y[2 * i + 1] = x1 * c[i] + x0 * s[i];
  }
}

// out[t] = q · keys[t] for four consecutive keys [4, d] (d a multiple of 8): four independent sums.
CTF_INLINE void Dot4(const float* q, const float* keys, int64_t d, float* out) {
  v8 a0 = {0, 0, 0, 0, 0, 0, 0, 0}, a1 = a0, a2 = a0, a3 = a0;
  for (int64_t i = 0; i < d; i += 8) {
    const v8 qi = Load8(q + i);
    a0 += qi * Load8(keys + i);
    a1 += qi * Load8(keys + d + i);
    a2 += qi * Load8(keys + 2 * d + i);
    a3 += qi * Load8(keys + 3 * d + i);
  }
  out[0] = Sum8(a0);
  out[1] = Sum8(a1);
  out[2] = Sum8(a2);
  out[3] = Sum8(a3);
}

CTF_INLINE float Dot(const float* a, const float* b, int64_t d) {
  float s = 0;
  for (int64_t i = 0; i < d; i++) s += a[i] * b[i];
  return s;
}

// o [8·NV] = Σ_j p_j · values[j] over L rows of stride 8·NV, the sum held in NV registers.
template <int NV>
CTF_INLINE void WeightedRows(const float* p, const float* values, int64_t L, float* o) {
  v8 acc[NV];
  for (int c = 0; c < NV; c++) acc[c] = v8{0, 0, 0, 0, 0, 0, 0, 0};
  for (int64_t j = 0; j < L; j++)
    for (int c = 0; c < NV; c++) acc[c] += p[j] * Load8(values + j * 8 * NV + 8 * c);
  for (int c = 0; c < NV; c++) Store8(o + 8 * c, acc[c]);
}

constexpr int64_t kMaxHeadDim = 1024;

struct AttnShape {
  int64_t B, H, G, S, D, L, pos;
  float scale;
};

// Scores of pairs [begin, end) of (row, head): roped q against the row's L cached keys.
CTF_INLINE void ScoresImpl(const AttnShape& a, const float* qkv, const float* cs, const float* sn, const float* kc, float* scores,
                           int64_t begin, int64_t end) {
  float q[kMaxHeadDim];
  const int64_t stride = (a.H + 2 * a.G) * a.D, perGroup = a.H / a.G;
  for (int64_t it = begin; it < end; it++) {
    const int64_t b = it / a.H, h = it % a.H;
    Rope(qkv + b * stride + h * a.D, cs, sn, q, a.D);
    const float* keys = kc + (b * a.G + h / perGroup) * a.S * a.D;
    float* out = scores + it * a.L;
    int64_t j = 0;
    if (a.D % 8 == 0)
      for (; j + 4 <= a.L; j += 4) Dot4(q, keys + j * a.D, a.D, out + j);
    for (; j < a.L; j++) out[j] = Dot(q, keys + j * a.D, a.D);
    for (j = 0; j < a.L; j++) out[j] *= a.scale;
  }
}

// out[row, head] = Σ_j p_j · V_j over the pairs [begin, end), one pass over the values.
CTF_INLINE void WeightedImpl(const AttnShape& a, const float* probs, const float* vc, float* out, int64_t begin, int64_t end) {
  for (int64_t it = begin; it < end; it++) {
    const int64_t b = it / a.H, h = it % a.H;
    const float* values = vc + (b * a.G + h / (a.H / a.G)) * a.S * a.D;
    const float* p = probs + it * a.L;
    float* o = out + it * a.D;  // out [B, H*D] row-major = pair-major
    switch (a.D) {
      case 32: WeightedRows<4>(p, values, a.L, o); continue;
      case 64: WeightedRows<8>(p, values, a.L, o); continue;
      case 128: WeightedRows<16>(p, values, a.L, o); continue;
      default: break;
    }
    std::fill(o, o + a.D, 0.0f);
    for (int64_t j = 0; j < a.L; j++)
      for (int64_t i = 0; i < a.D; i++) o[i] += p[j] * values[j * a.D + i];
  }
}

CTF_AVX2 static void ScoresAvx2(const AttnShape& a, const float* qkv, const float* cs, const float* sn,
                                                            const float* kc, float* scores, int64_t begin, int64_t end) {
  ScoresImpl(a, qkv, cs, sn, kc, scores, begin, end);
}
static void ScoresBase(const AttnShape& a, const float* qkv, const float* cs, const float* sn, const float* kc, float* scores,
                       int64_t begin, int64_t end) {
  ScoresImpl(a, qkv, cs, sn, kc, scores, begin, end);
}
CTF_AVX2 static void WeightedAvx2(const AttnShape& a, const float* probs, const float* vc, float* out,
                                                              int64_t begin, int64_t end) {
  WeightedImpl(a, probs, vc, out, begin, end);
}
static void WeightedBase(const AttnShape& a, const float* probs, const float* vc, float* out, int64_t begin, int64_t end) {
  WeightedImpl(a, probs, vc, out, begin, end);
}
// decodeAttention_(qkv [B, (H + 2G)·D], cos [P, D/2], sin [P, D/2], kCache [B, G, S, D],
//   vCache [B, G, S, D], pos, out [B, H·D], work (float32, ≥ 2·B·H·(pos + 1) elements), scale)
// One new token per row at position pos: RoPE on its q and k (rows cos[pos], sin[pos]), k and v
// written into the caches at pos, then softmax(q·Kᵀ·scale)·V over cache positions 0..pos for every
// query head (head h reads kv head h / (H/G): grouped-query attention). qkv holds the q heads, then
// the k heads, then the v heads.
CTF_OP(decodeAttention_) {
  CTF_BODY(decodeAttention_) {
    const at::Tensor& qkv = T(info, 0);
    const at::Tensor& cosT = T(info, 1);
    const at::Tensor& sinT = T(info, 2);
    at::Tensor& kc = Unwrap(info.Env(), info[3], 3);
    at::Tensor& vc = Unwrap(info.Env(), info[4], 4);
    const int64_t pos = I64(info, 5);
    at::Tensor& out = Unwrap(info.Env(), info[6], 6);
    at::Tensor& work = Unwrap(info.Env(), info[7], 7);
    const double scale = F64(info, 8);
    for (const at::Tensor* t : std::initializer_list<const at::Tensor*>{&qkv, &cosT, &sinT, &kc, &vc, &out, &work})
      if (t->scalar_type() != at::kFloat || !t->is_contiguous()) throw ArgError("every tensor must be contiguous float32");
    if (kc.dim() != 4 || !kc.sizes().equals(vc.sizes())) throw ArgError("caches must both be [B, G, S, D]");
    AttnShape a{kc.size(0), 0, kc.size(1), kc.size(2), kc.size(3), pos + 1, pos, static_cast<float>(scale)};
    if (a.D > kMaxHeadDim || a.D % 2 != 0) throw ArgError("head dim must be even and at most " + std::to_string(kMaxHeadDim));
    if (out.dim() != 2 || out.size(0) != a.B || out.size(1) % a.D != 0) throw ArgError("out must be [B, H·D]");
    a.H = out.size(1) / a.D;
    if (a.H % a.G != 0) throw ArgError("query heads must be a multiple of kv heads");
    if (qkv.dim() != 2 || qkv.size(0) != a.B || qkv.size(1) != (a.H + 2 * a.G) * a.D) throw ArgError("qkv must be [B, (H + 2G)·D]");
    if (pos < 0 || pos >= a.S) throw ArgError("position " + std::to_string(pos) + " outside the cache (capacity " + std::to_string(a.S) + ")");
    if (cosT.dim() != 2 || cosT.size(1) != a.D / 2 || pos >= cosT.size(0) || !cosT.sizes().equals(sinT.sizes()))
      throw ArgError("cos/sin must be [positions, D/2] covering pos");
    const int64_t pairs = a.B * a.H;
    if (work.numel() < 2 * pairs * a.L) throw ArgError("work buffer too small: need " + std::to_string(2 * pairs * a.L) + " floats");

    const float* q = qkv.data_ptr<float>();
    const float* cs = cosT.data_ptr<float>() + pos * (a.D / 2);
    const float* sn = sinT.data_ptr<float>() + pos * (a.D / 2);
    float* kp = kc.data_ptr<float>();
    float* vp = vc.data_ptr<float>();
    const int64_t stride = (a.H + 2 * a.G) * a.D;
    float* scores = work.data_ptr<float>();
    float* probs = scores + pairs * a.L;
    float* o = out.data_ptr<float>();
    // One parallel region, chunked by rows: a row's kv heads are written and read by the same
    // thread, and each step waits for the other core only once (a barrier costs ~15 µs here, and
    // far more while other processes hold the cores).
    ParallelChunks(a.B, std::max<int64_t>(1, 32 / a.H), [&](int64_t b0, int64_t b1) {  // ~32 (row, head) pairs a chunk
      at::NoGradGuard noGrad;
      for (int64_t b = b0; b < b1; b++)
        for (int64_t g = 0; g < a.G; g++) {
          const int64_t slot = ((b * a.G + g) * a.S + pos) * a.D;
          Rope(q + b * stride + (a.H + g) * a.D, cs, sn, kp + slot, a.D);
          std::memcpy(vp + slot, q + b * stride + (a.H + a.G + g) * a.D, a.D * sizeof(float));
        }
      const int64_t p0 = b0 * a.H, p1 = b1 * a.H;
      (kAvx2Fma ? ScoresAvx2 : ScoresBase)(a, q, cs, sn, kp, scores, p0, p1);
      at::Tensor sc = work.narrow(0, p0 * a.L, (p1 - p0) * a.L).view({p1 - p0, a.L});
      at::Tensor pr = work.narrow(0, (pairs + p0) * a.L, (p1 - p0) * a.L).view({p1 - p0, a.L});
      at::_softmax_out(pr, sc, 1, false);  // libtorch's vectorised exp; runs on this thread
      (kAvx2Fma ? WeightedAvx2 : WeightedBase)(a, probs, vp, o, p0, p1);
    });
    return info.Env().Undefined();
  } CTF_END
}

// ropeHeads_(qkv [B·T, (H + 2G)·D], cos [P, D/2], sin [P, D/2], start, q [B, H, T, D],
//   k [B, G, T, D], v [B, G, T, D]): the q, k and v heads of T tokens per row at positions
//   start..start+T-1 in the head-major layout attention reads, q and k rotated (RoPE) on the way.
CTF_OP(ropeHeads_) {
  CTF_BODY(ropeHeads_) {
    const at::Tensor& qkv = T(info, 0);
    const at::Tensor& cosT = T(info, 1);
    const at::Tensor& sinT = T(info, 2);
    const int64_t start = I64(info, 3);
    at::Tensor& q = Unwrap(info.Env(), info[4], 4);
    at::Tensor& k = Unwrap(info.Env(), info[5], 5);
    at::Tensor& v = Unwrap(info.Env(), info[6], 6);
    for (const at::Tensor* t : std::initializer_list<const at::Tensor*>{&qkv, &cosT, &sinT, &q, &k, &v})
      if (t->scalar_type() != at::kFloat || !t->is_contiguous()) throw ArgError("every tensor must be contiguous float32");
    if (q.dim() != 4 || k.dim() != 4 || !k.sizes().equals(v.sizes())) throw ArgError("q must be [B, H, T, D], k and v [B, G, T, D]");
    const int64_t B = q.size(0), H = q.size(1), Tn = q.size(2), D = q.size(3), G = k.size(1);
    if (k.size(0) != B || k.size(2) != Tn || k.size(3) != D || D % 2 != 0) throw ArgError("q, k and v disagree on B, T or D (D must be even)");
    if (qkv.dim() != 2 || qkv.size(0) != B * Tn || qkv.size(1) != (H + 2 * G) * D) throw ArgError("qkv must be [B·T, (H + 2G)·D]");
    if (cosT.dim() != 2 || cosT.size(1) != D / 2 || start < 0 || start + Tn > cosT.size(0) || !cosT.sizes().equals(sinT.sizes()))
      throw ArgError("cos/sin must be [positions, D/2] covering start..start+T-1");
    const float* src = qkv.data_ptr<float>();
    const float* cs = cosT.data_ptr<float>();
    const float* sn = sinT.data_ptr<float>();
    float *qp = q.data_ptr<float>(), *kp = k.data_ptr<float>(), *vp = v.data_ptr<float>();
    const int64_t stride = (H + 2 * G) * D;
    ParallelChunks(B * Tn, 64, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; r++) {
        const int64_t b = r / Tn, t = r % Tn;
        const float* row = src + r * stride;
        const float* c = cs + (start + t) * (D / 2);
        const float* s = sn + (start + t) * (D / 2);
        for (int64_t h = 0; h < H; h++) Rope(row + h * D, c, s, qp + ((b * H + h) * Tn + t) * D, D);
        for (int64_t g = 0; g < G; g++) {
          Rope(row + (H + g) * D, c, s, kp + ((b * G + g) * Tn + t) * D, D);
          std::memcpy(vp + ((b * G + g) * Tn + t) * D, row + (H + G + g) * D, D * sizeof(float));
        }
      }
    });
    return info.Env().Undefined();
  } CTF_END
}

// ---- weight versions ------------------------------------------------------------------------

// Sum of the in-place version counters of the tensors: changes whenever any of them is written in
// place (copy_, an optimizer step, normal_, ...), so a packed copy can tell that it went stale.
CTF_OP(versionSum) {
  CTF_BODY(versionSum) {
    double sum = 0;
    for (const at::Tensor& t : TList(info, 0)) sum += static_cast<double>(t._version());
    return Napi::Number::New(info.Env(), sum);
  } CTF_END
}

void RegisterFastOps(Napi::Env env, Napi::Object exports) {
  CTF_EXPORT(exports, packLinear);
  CTF_EXPORT(exports, freePacked);
  CTF_EXPORT(exports, linearInto_);
  CTF_EXPORT(exports, linearPacked);
  CTF_EXPORT(exports, rmsNormInto_);
  CTF_EXPORT(exports, swigluInto_);
  CTF_EXPORT(exports, embeddingInto_);
  CTF_EXPORT(exports, decodeAttention_);
  CTF_EXPORT(exports, ropeHeads_);
  CTF_EXPORT(exports, versionSum);
}

}  // namespace ctf
