#include "common.h"

#include <ATen/CPUGeneratorImpl.h>

#include <sstream>

namespace ctf {

void InitEnvState(Napi::Env env) {
  // PyTorch's default seed, so an unseeded stream starts where torch's does
  env.SetInstanceData(new EnvState{at::make_generator<at::CPUGeneratorImpl>(c10::default_rng_seed_val)});
}

at::Generator& Gen(Napi::Env env) { return env.GetInstanceData<EnvState>()->gen; }
at::Device Dev(Napi::Env env) { return env.GetInstanceData<EnvState>()->device; }
at::TensorOptions Opts(Napi::Env env, at::ScalarType t) { return at::TensorOptions().dtype(t).device(Dev(env)); }
at::Tensor OnDevice(Napi::Env env, at::Tensor cpu) {
  at::Device d = Dev(env);
  return d.is_cpu() ? cpu : cpu.to(d);
}

static const napi_type_tag kTensorTag = {0x6374666765e70001ULL, 0x746f7263685f7431ULL};

Napi::Value Wrap(Napi::Env env, at::Tensor t) {
  auto* holder = new at::Tensor(std::move(t));
  auto ext = Napi::External<at::Tensor>::New(env, holder, [](Napi::Env, at::Tensor* p) { delete p; });
  napi_status s = napi_type_tag_object(env, ext, &kTensorTag);
  if (s != napi_ok) throw Napi::Error::New(env, "ctfgen: could not tag tensor handle");
  return ext;
}

Napi::Value WrapList(Napi::Env env, const std::vector<at::Tensor>& ts) {
  auto arr = Napi::Array::New(env, ts.size());
  for (size_t i = 0; i < ts.size(); i++) arr.Set(i, Wrap(env, ts[i]));
  return arr;
}

bool IsTensor(Napi::Env env, const Napi::Value& v) {
  if (!v.IsExternal()) return false;
  bool ok = false;
  napi_check_object_type_tag(env, v, &kTensorTag, &ok);
  return ok;
}

at::Tensor& Unwrap(Napi::Env env, const Napi::Value& v, size_t index) {
  if (!IsTensor(env, v)) throw ArgError("argument " + std::to_string(index) + " must be a tensor");
  at::Tensor* t = v.As<Napi::External<at::Tensor>>().Data();
  if (!t->defined()) throw ArgError("argument " + std::to_string(index) + " is a disposed tensor");
  return *t;
}

const at::Tensor& T(const Napi::CallbackInfo& info, size_t index) { return Unwrap(info.Env(), info[index], index); }

c10::optional<at::Tensor> OptT(const Napi::CallbackInfo& info, size_t index) {
  if (!Present(info, index)) return c10::nullopt;
  return T(info, index);
}

std::vector<at::Tensor> TList(const Napi::CallbackInfo& info, size_t index) {
  if (!info[index].IsArray()) throw ArgError("argument " + std::to_string(index) + " must be an array of tensors");
  auto arr = info[index].As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(Unwrap(info.Env(), arr.Get(i), index));
  return out;
}

bool Present(const Napi::CallbackInfo& info, size_t index) {
  return index < info.Length() && !info[index].IsUndefined() && !info[index].IsNull();
}

int64_t I64(const Napi::CallbackInfo& info, size_t index) {
  if (!info[index].IsNumber()) throw ArgError("argument " + std::to_string(index) + " must be an integer");
  return info[index].As<Napi::Number>().Int64Value();
}

double F64(const Napi::CallbackInfo& info, size_t index) {
  if (!info[index].IsNumber()) throw ArgError("argument " + std::to_string(index) + " must be a number");
  return info[index].As<Napi::Number>().DoubleValue();
}

bool Bool(const Napi::CallbackInfo& info, size_t index) { return Present(info, index) && info[index].ToBoolean().Value(); }

std::vector<int64_t> Ints(const Napi::CallbackInfo& info, size_t index) {
  if (info[index].IsNumber()) return {info[index].As<Napi::Number>().Int64Value()};
  if (!info[index].IsArray()) throw ArgError("argument " + std::to_string(index) + " must be an array of integers");
  auto arr = info[index].As<Napi::Array>();
  std::vector<int64_t> out(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value v = arr.Get(i);
    if (!v.IsNumber()) throw ArgError("argument " + std::to_string(index) + " must be an array of integers");
    out[i] = v.As<Napi::Number>().Int64Value();
  }
  return out;
}

at::ScalarType ParseDType(const std::string& name) {
  if (name == "float32") return at::kFloat;
  if (name == "float64") return at::kDouble;
  if (name == "float16") return at::kHalf;
  if (name == "bfloat16") return at::kBFloat16;
  if (name == "int64") return at::kLong;
  if (name == "int32") return at::kInt;
  if (name == "uint8") return at::kByte;
  if (name == "bool") return at::kBool;
  throw ArgError("unknown dtype '" + name + "' (use float32, float64, float16, bfloat16, int64, int32, uint8 or bool)");
}

const char* DTypeName(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    case at::kLong: return "int64";
    case at::kInt: return "int32";
    case at::kByte: return "uint8";
    case at::kBool: return "bool";
    default: return "unsupported";
  }
}

at::ScalarType DType(const Napi::CallbackInfo& info, size_t index, at::ScalarType fallback) {
  if (!Present(info, index)) return fallback;
  if (!info[index].IsString()) throw ArgError("argument " + std::to_string(index) + " must be a dtype name");
  return ParseDType(info[index].As<Napi::String>().Utf8Value());
}

at::Scalar ScalarFor(const Napi::CallbackInfo& info, size_t index, const at::Tensor& like) {
  if (info[index].IsBoolean()) return at::Scalar(info[index].As<Napi::Boolean>().Value());
  double d = F64(info, index);
  if (!at::isFloatingType(like.scalar_type()) && d == static_cast<double>(static_cast<int64_t>(d)))
    return at::Scalar(static_cast<int64_t>(d));
  return at::Scalar(d);
}

static void DescribeValue(Napi::Env env, const Napi::Value& v, std::ostringstream& os) {
  at::Tensor* t = v.As<Napi::External<at::Tensor>>().Data();
  if (!t->defined()) {
    os << "disposed";
    return;
  }
  os << DTypeName(t->scalar_type()) << t->sizes();
}

Napi::Value Fail(const Napi::CallbackInfo& info, const char* op, const char* what) {
  Napi::Env env = info.Env();
  std::string msg(what);
  // libtorch messages can carry a trailing C++ location block; keep the human part.
  auto cut = msg.find("\nException raised from");
  if (cut != std::string::npos) msg.resize(cut);
  std::ostringstream os;
  os << op << ": " << msg;
  std::ostringstream shapes;
  int n = 0;
  for (size_t i = 0; i < info.Length(); i++) {
    Napi::Value v = info[i];
    if (IsTensor(env, v)) {
      shapes << (n++ ? ", " : "") << "#" << i << " ";
      DescribeValue(env, v, shapes);
    } else if (v.IsArray()) {
      auto arr = v.As<Napi::Array>();
      for (uint32_t j = 0; j < arr.Length(); j++) {
        Napi::Value e = arr.Get(j);
        if (!IsTensor(env, e)) continue;
        shapes << (n++ ? ", " : "") << "#" << i << "[" << j << "] ";
        DescribeValue(env, e, shapes);
      }
    }
  }
  if (n) os << " (inputs: " << shapes.str() << ")";
  throw Napi::Error::New(env, os.str());
}

}  // namespace ctf
