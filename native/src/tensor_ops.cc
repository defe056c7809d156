// Creation, copy-in/copy-out, metadata and view/indexing ops.
#include <cstring>

#include "common.h"

namespace ctf {

static at::TensorOptions Cpu(at::ScalarType t) { return at::TensorOptions().dtype(t); }

CTF_OP(free) {
  if (IsTensor(info.Env(), info[0])) *info[0].As<Napi::External<at::Tensor>>().Data() = at::Tensor();
  return info.Env().Undefined();
}

CTF_OP(isDisposed) {
  if (!IsTensor(info.Env(), info[0])) return Napi::Boolean::New(info.Env(), true);
  return Napi::Boolean::New(info.Env(), !info[0].As<Napi::External<at::Tensor>>().Data()->defined());
}

CTF_OP(shape) {
  CTF_BODY(shape) {
    auto sizes = T(info, 0).sizes();
    auto arr = Napi::Array::New(info.Env(), sizes.size());
    for (size_t i = 0; i < sizes.size(); i++) arr.Set(i, Napi::Number::New(info.Env(), (double)sizes[i]));
    return arr;
  } CTF_END
}

CTF_OP(dtype) {
  CTF_BODY(dtype) { return Napi::String::New(info.Env(), DTypeName(T(info, 0).scalar_type())); } CTF_END
}

CTF_OP(item) {
  CTF_BODY(item) {
    const at::Tensor& t = T(info, 0);
    if (t.numel() != 1) throw ArgError("item() needs a tensor with one element, got " + std::to_string(t.numel()));
    if (t.scalar_type() == at::kBool) return Napi::Boolean::New(info.Env(), t.item<bool>());
    return Napi::Number::New(info.Env(), t.item<double>());
  } CTF_END
}

// Creation -------------------------------------------------------------------------------------

CTF_OP(zeros) { CTF_BODY(zeros) { return Wrap(info.Env(), at::zeros(Ints(info, 0), Opts(info.Env(), DType(info, 1, at::kFloat)))); } CTF_END }
CTF_OP(ones) { CTF_BODY(ones) { return Wrap(info.Env(), at::ones(Ints(info, 0), Opts(info.Env(), DType(info, 1, at::kFloat)))); } CTF_END }
CTF_OP(full) {
  CTF_BODY(full) { return Wrap(info.Env(), at::full(Ints(info, 0), F64(info, 1), Opts(info.Env(), DType(info, 2, at::kFloat)))); } CTF_END
}
CTF_OP(arange) {
  CTF_BODY(arange) {
    return Wrap(info.Env(), at::arange(F64(info, 0), F64(info, 1), F64(info, 2), Opts(info.Env(), DType(info, 3, at::kLong))));
  } CTF_END
}
CTF_OP(randn) { CTF_BODY(randn) { return Wrap(info.Env(), OnDevice(info.Env(), at::randn(Ints(info, 0), Gen(info.Env()), Cpu(DType(info, 1, at::kFloat))))); } CTF_END }
CTF_OP(rand) { CTF_BODY(rand) { return Wrap(info.Env(), OnDevice(info.Env(), at::rand(Ints(info, 0), Gen(info.Env()), Cpu(DType(info, 1, at::kFloat))))); } CTF_END }
CTF_OP(randint) {
  CTF_BODY(randint) {
    return Wrap(info.Env(), OnDevice(info.Env(), at::randint(I64(info, 0), I64(info, 1), Ints(info, 2), Gen(info.Env()), Cpu(DType(info, 3, at::kLong)))));
  } CTF_END
}
CTF_OP(randperm) { CTF_BODY(randperm) { return Wrap(info.Env(), OnDevice(info.Env(), at::randperm(I64(info, 0), Gen(info.Env()), Cpu(at::kLong)))); } CTF_END }
CTF_OP(zerosLike) { CTF_BODY(zerosLike) { return Wrap(info.Env(), at::zeros_like(T(info, 0))); } CTF_END }
CTF_OP(onesLike) { CTF_BODY(onesLike) { return Wrap(info.Env(), at::ones_like(T(info, 0))); } CTF_END }

// Copy-in: one memcpy from the typed array into a fresh tensor. A Uint8Array with an explicit
// dtype is read as raw little-endian bytes of that dtype (safetensors / .pt storages).
CTF_OP(fromArray) {
  CTF_BODY(fromArray) {
    if (!info[0].IsTypedArray()) throw ArgError("argument 0 must be a typed array");
    auto ta = info[0].As<Napi::TypedArray>();
    auto shape = Ints(info, 1);
    at::ScalarType natural;
    switch (ta.TypedArrayType()) {
      case napi_float32_array: natural = at::kFloat; break;
      case napi_float64_array: natural = at::kDouble; break;
      case napi_int32_array: natural = at::kInt; break;
      case napi_bigint64_array: natural = at::kLong; break;
      case napi_uint8_array: natural = at::kByte; break;
      case napi_uint16_array: natural = at::kBFloat16; break;
      default: throw ArgError("unsupported typed array kind (use Float32Array, Float64Array, Int32Array, BigInt64Array or Uint8Array)");
    }
    at::ScalarType want = DType(info, 2, natural);
    bool raw = (natural == at::kByte || natural == at::kBFloat16) && want != at::kByte;
    if (natural == at::kBFloat16 && want != at::kBFloat16 && want != at::kHalf)
      throw ArgError("a Uint16Array holds bfloat16 or float16 bits; pass dtype 'bfloat16' or 'float16'");
    at::ScalarType stored = raw ? want : natural;
    int64_t numel = 1;
    for (auto d : shape) {
      if (d < 0) throw ArgError("negative dimension in shape");
      numel *= d;
    }
    size_t bytes = ta.ByteLength();
    size_t need = (size_t)numel * c10::elementSize(stored);
    if (bytes != need)
      throw ArgError("typed array holds " + std::to_string(bytes) + " bytes but shape needs " + std::to_string(need) + " bytes of " + DTypeName(stored));
    at::Tensor t = at::empty(shape, Cpu(stored));
    if (bytes) std::memcpy(t.data_ptr(), static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset(), bytes);
    if (stored != want) t = t.to(want);
    return Wrap(info.Env(), OnDevice(info.Env(), t));
  } CTF_END
}

// Copy-out (through the CPU): float32 for float16/bfloat16 (JS has no such arrays), else the
// natural array kind.
CTF_OP(toArray) {
  CTF_BODY(toArray) {
    at::Tensor t = T(info, 0).detach().cpu();
    at::ScalarType st = t.scalar_type();
    if (st == at::kHalf || st == at::kBFloat16) t = t.to(at::kFloat);
    if (st == at::kBool) t = t.to(at::kByte);
    t = t.contiguous();
    size_t bytes = t.numel() * t.element_size();
    auto buf = Napi::ArrayBuffer::New(info.Env(), bytes);
    if (bytes) std::memcpy(buf.Data(), t.data_ptr(), bytes);
    size_t n = t.numel();
    switch (t.scalar_type()) {
      case at::kFloat: return Napi::Float32Array::New(info.Env(), n, buf, 0);
      case at::kDouble: return Napi::Float64Array::New(info.Env(), n, buf, 0);
      case at::kInt: return Napi::Int32Array::New(info.Env(), n, buf, 0);
      case at::kLong: return Napi::TypedArrayOf<int64_t>::New(info.Env(), n, buf, 0, napi_bigint64_array);
      case at::kByte: return Napi::Uint8Array::New(info.Env(), n, buf, 0);
      default: throw ArgError("cannot copy out dtype");
    }
  } CTF_END
}

// Raw little-endian bytes of the tensor in its own dtype (for safetensors writing).
CTF_OP(toBytes) {
  CTF_BODY(toBytes) {
    at::Tensor t = T(info, 0).detach().cpu().contiguous();
    size_t bytes = t.numel() * t.element_size();
    auto buf = Napi::ArrayBuffer::New(info.Env(), bytes);
    if (bytes) std::memcpy(buf.Data(), t.data_ptr(), bytes);
    return Napi::Uint8Array::New(info.Env(), bytes, buf, 0);
  } CTF_END
}

CTF_OP(to) { CTF_BODY(to) { return Wrap(info.Env(), T(info, 0).to(DType(info, 1, at::kFloat))); } CTF_END }
CTF_OP(clone) { CTF_BODY(clone) { return Wrap(info.Env(), T(info, 0).clone()); } CTF_END }
CTF_OP(contiguous) { CTF_BODY(contiguous) { return Wrap(info.Env(), T(info, 0).contiguous()); } CTF_END }

// Views and indexing ---------------------------------------------------------------------------

CTF_OP(reshape) { CTF_BODY(reshape) { return Wrap(info.Env(), T(info, 0).reshape(Ints(info, 1))); } CTF_END }
CTF_OP(view) { CTF_BODY(view) { return Wrap(info.Env(), T(info, 0).view(Ints(info, 1))); } CTF_END }
CTF_OP(permute) { CTF_BODY(permute) { return Wrap(info.Env(), T(info, 0).permute(Ints(info, 1))); } CTF_END }
CTF_OP(transpose) { CTF_BODY(transpose) { return Wrap(info.Env(), T(info, 0).transpose(I64(info, 1), I64(info, 2))); } CTF_END }
CTF_OP(expand) { CTF_BODY(expand) { return Wrap(info.Env(), T(info, 0).expand(Ints(info, 1))); } CTF_END }
CTF_OP(squeeze) {
  CTF_BODY(squeeze) { return Wrap(info.Env(), Present(info, 1) ? T(info, 0).squeeze(I64(info, 1)) : T(info, 0).squeeze()); } CTF_END
}
CTF_OP(unsqueeze) { CTF_BODY(unsqueeze) { return Wrap(info.Env(), T(info, 0).unsqueeze(I64(info, 1))); } CTF_END }
CTF_OP(flatten) { CTF_BODY(flatten) { return Wrap(info.Env(), T(info, 0).flatten(I64(info, 1), I64(info, 2))); } CTF_END }
CTF_OP(slice) {
  CTF_BODY(slice) {
    c10::optional<int64_t> end = Present(info, 3) ? c10::optional<int64_t>(I64(info, 3)) : c10::nullopt;
    return Wrap(info.Env(), T(info, 0).slice(I64(info, 1), I64(info, 2), end, Present(info, 4) ? I64(info, 4) : 1));
  } CTF_END
}
CTF_OP(select) { CTF_BODY(select) { return Wrap(info.Env(), T(info, 0).select(I64(info, 1), I64(info, 2))); } CTF_END }
CTF_OP(indexSelect) { CTF_BODY(indexSelect) { return Wrap(info.Env(), at::index_select(T(info, 0), I64(info, 1), T(info, 2))); } CTF_END }
CTF_OP(gather) { CTF_BODY(gather) { return Wrap(info.Env(), at::gather(T(info, 0), I64(info, 1), T(info, 2))); } CTF_END }
CTF_OP(scatter) {
  CTF_BODY(scatter) {
    const at::Tensor& t = T(info, 0);
    if (info[3].IsNumber()) return Wrap(info.Env(), at::scatter(t, I64(info, 1), T(info, 2), ScalarFor(info, 3, t)));
    return Wrap(info.Env(), at::scatter(t, I64(info, 1), T(info, 2), T(info, 3)));
  } CTF_END
}
CTF_OP(scatterAdd) { CTF_BODY(scatterAdd) { return Wrap(info.Env(), at::scatter_add(T(info, 0), I64(info, 1), T(info, 2), T(info, 3))); } CTF_END }
CTF_OP(indexAdd) { CTF_BODY(indexAdd) { return Wrap(info.Env(), at::index_add(T(info, 0), I64(info, 1), T(info, 2), T(info, 3))); } CTF_END }
CTF_OP(cat) { CTF_BODY(cat) { return Wrap(info.Env(), at::cat(TList(info, 0), I64(info, 1))); } CTF_END }
CTF_OP(stack) { CTF_BODY(stack) { return Wrap(info.Env(), at::stack(TList(info, 0), I64(info, 1))); } CTF_END }
CTF_OP(split) {
  CTF_BODY(split) {
    if (info[1].IsArray()) return WrapList(info.Env(), at::split_with_sizes(T(info, 0), Ints(info, 1), I64(info, 2)));
    return WrapList(info.Env(), at::split(T(info, 0), I64(info, 1), I64(info, 2)));
  } CTF_END
}
CTF_OP(chunk) { CTF_BODY(chunk) { return WrapList(info.Env(), at::chunk(T(info, 0), I64(info, 1), I64(info, 2))); } CTF_END }
CTF_OP(repeat) { CTF_BODY(repeat) { return Wrap(info.Env(), T(info, 0).repeat(Ints(info, 1))); } CTF_END }
CTF_OP(repeatInterleave) {
  CTF_BODY(repeatInterleave) { return Wrap(info.Env(), at::repeat_interleave(T(info, 0), I64(info, 1), I64(info, 2))); } CTF_END
}
CTF_OP(flip) { CTF_BODY(flip) { return Wrap(info.Env(), at::flip(T(info, 0), Ints(info, 1))); } CTF_END }
CTF_OP(tril) { CTF_BODY(tril) { return Wrap(info.Env(), at::tril(T(info, 0), Present(info, 1) ? I64(info, 1) : 0)); } CTF_END }
CTF_OP(triu) { CTF_BODY(triu) { return Wrap(info.Env(), at::triu(T(info, 0), Present(info, 1) ? I64(info, 1) : 0)); } CTF_END }
CTF_OP(oneHot) { CTF_BODY(oneHot) { return Wrap(info.Env(), at::one_hot(T(info, 0), I64(info, 1))); } CTF_END }
CTF_OP(where) {
  CTF_BODY(where) {
    const at::Tensor& c = T(info, 0);
    bool sa = info[1].IsNumber(), sb = info[2].IsNumber();
    if (sa && sb) return Wrap(info.Env(), at::where(c, at::Scalar(F64(info, 1)), at::Scalar(F64(info, 2))));
    if (sa) return Wrap(info.Env(), at::where(c, ScalarFor(info, 1, T(info, 2)), T(info, 2)));
    if (sb) return Wrap(info.Env(), at::where(c, T(info, 1), ScalarFor(info, 2, T(info, 1))));
    return Wrap(info.Env(), at::where(c, T(info, 1), T(info, 2)));
  } CTF_END
}
CTF_OP(maskedFill) {
  CTF_BODY(maskedFill) {
    const at::Tensor& t = T(info, 0);
    return Wrap(info.Env(), at::masked_fill(t, T(info, 1), ScalarFor(info, 2, t)));
  } CTF_END
}
CTF_OP(bincount) {
  CTF_BODY(bincount) { return Wrap(info.Env(), at::bincount(T(info, 0), c10::nullopt, Present(info, 1) ? I64(info, 1) : 0)); } CTF_END
}

void RegisterTensorOps(Napi::Env env, Napi::Object exports) {
  CTF_EXPORT(exports, free);
  CTF_EXPORT(exports, isDisposed);
  CTF_EXPORT(exports, shape);
  CTF_EXPORT(exports, dtype);
  CTF_EXPORT(exports, item);
  CTF_EXPORT(exports, zeros);
  CTF_EXPORT(exports, ones);
  CTF_EXPORT(exports, full);
  CTF_EXPORT(exports, arange);
  CTF_EXPORT(exports, randn);
  CTF_EXPORT(exports, rand);
  CTF_EXPORT(exports, randint);
  CTF_EXPORT(exports, randperm);
  CTF_EXPORT(exports, zerosLike);
  CTF_EXPORT(exports, onesLike);
  CTF_EXPORT(exports, fromArray);
  CTF_EXPORT(exports, toArray);
  CTF_EXPORT(exports, toBytes);
  CTF_EXPORT(exports, to);
  CTF_EXPORT(exports, clone);
  CTF_EXPORT(exports, contiguous);
  CTF_EXPORT(exports, reshape);
  CTF_EXPORT(exports, view);
  CTF_EXPORT(exports, permute);
  CTF_EXPORT(exports, transpose);
  CTF_EXPORT(exports, expand);
  CTF_EXPORT(exports, squeeze);
  CTF_EXPORT(exports, unsqueeze);
  CTF_EXPORT(exports, flatten);
  CTF_EXPORT(exports, slice);
  CTF_EXPORT(exports, select);
  CTF_EXPORT(exports, indexSelect);
  CTF_EXPORT(exports, gather);
  CTF_EXPORT(exports, scatter);
  CTF_EXPORT(exports, scatterAdd);
  CTF_EXPORT(exports, indexAdd);
  CTF_EXPORT(exports, cat);
  CTF_EXPORT(exports, stack);
  CTF_EXPORT(exports, split);
  CTF_EXPORT(exports, chunk);
  CTF_EXPORT(exports, repeat);
  CTF_EXPORT(exports, repeatInterleave);
  CTF_EXPORT(exports, flip);
  CTF_EXPORT(exports, tril);
  CTF_EXPORT(exports, triu);
  CTF_EXPORT(exports, oneHot);
  CTF_EXPORT(exports, where);
  CTF_EXPORT(exports, maskedFill);
  CTF_EXPORT(exports, bincount);
}

}  // namespace ctf
