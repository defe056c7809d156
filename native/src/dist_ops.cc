// Collectives across processes and machines through PyTorch's own distributed engine, c10d (in the
// libtorch we link): rendezvous on a TCPStore or FileStore, a ProcessGroupGloo for CPU tensors, a
// ProcessGroupNCCL for CUDA tensors when libtorch was built with CUDA. No protocol of our own.
//
// A group is a type-tagged External. Every collective blocks the calling thread until it is done
// (training runs in one thread) and is bounded by a timeout. Each rank also bumps a heartbeat
// counter in the store from a thread of its own; when a collective fails, the counters that stopped
// moving name the lost ranks, so the JS error says which operation failed on which rank and why.
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#include <torch/version.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <sstream>
#include <thread>

#include "common.h"

namespace ctf {

// PyTorch 2 split ProcessGroup into a dispatching ProcessGroup over per-device Backends.
#if TORCH_VERSION_MAJOR >= 2
using Backend = c10d::Backend;
#else
using Backend = c10d::ProcessGroup;
#endif
using ms = std::chrono::milliseconds;

struct Group {
  int rank = 0;
  int size = 1;
  std::string backend;
  std::string storeName;  // for messages: where the rendezvous store lives
  std::string storeHost;  // for messages: who hosts it (e.g. "rank 0"), empty when unknown
  ms timeout{0};
  ms beat{0};
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<Backend> pg;
  std::thread heartbeat;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::atomic<bool> storeLost{false};

  static std::string Key(int r) { return "ctfgen/heartbeat/" + std::to_string(r); }

  void Beat() {
    std::unique_lock<std::mutex> lock(mutex);
    while (!stopping) {
      lock.unlock();
      try {
        store->add(Key(rank), 1);
      } catch (...) {
        storeLost = true;
      }
      lock.lock();
      if (storeLost) break;
      wake.wait_for(lock, beat, [this] { return stopping; });
    }
  }

  void Destroy() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    wake.notify_all();
    if (heartbeat.joinable()) heartbeat.join();
    pg.reset();
    store.reset();
  }

  ~Group() { Destroy(); }

  // Which peers stopped beating over a few heartbeat periods (called after a collective failed).
  std::string Diagnose() {
    if (size == 1) return "";
    auto read = [this](std::vector<int64_t>& out) {
      for (int r = 0; r < size; r++) out[r] = store->add(Key(r), 0);
    };
    std::vector<int64_t> before(size), after(size);
    ms window = std::max(ms(1000), beat * 4);
    try {
      if (storeLost) throw std::runtime_error("store unreachable");
      read(before);
      std::this_thread::sleep_for(window);
      read(after);
    } catch (...) {
      if (storeHost.empty()) return "the rendezvous store (" + storeName + ") is unreachable, so its host is lost";
      return storeHost + " is lost (the rendezvous store it hosts, " + storeName + ", is unreachable)";
    }
    std::ostringstream lost;
    int n = 0;
    for (int r = 0; r < size; r++)
      if (r != rank && after[r] == before[r]) lost << (n++ ? ", " : "") << r;
    std::ostringstream os;
    double secs = window.count() / 1000.0;
    if (n == 1) os << "rank " << lost.str() << " is lost (no heartbeat for " << secs << " s)";
    else if (n > 1) os << "ranks " << lost.str() << " are lost (no heartbeat for " << secs << " s)";
    else os << "every rank is still alive, so a peer is stuck or slow (or the network between them failed)";
    return os.str();
  }
};

static const napi_type_tag kGroupTag = {0x6374666765e70002ULL, 0x646973745f677270ULL};

static Group& G(const Napi::CallbackInfo& info, size_t index) {
  Napi::Env env = info.Env();
  bool ok = false;
  if (info[index].IsExternal()) napi_check_object_type_tag(env, info[index], &kGroupTag, &ok);
  if (!ok) throw ArgError("argument " + std::to_string(index) + " must be a process group");
  Group* g = info[index].As<Napi::External<Group>>().Data();
  if (!g->pg) throw ArgError("the process group was destroyed");
  return *g;
}

static std::string Str(const Napi::Object& o, const char* key, const std::string& fallback = "") {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : fallback;
}
static int64_t Int(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw ArgError(std::string("options.") + key + " must be a number");
  return v.As<Napi::Number>().Int64Value();
}

static std::string Human(const std::exception& e) {
  auto* ce = dynamic_cast<const c10::Error*>(&e);
  std::string msg = ce ? ce->what_without_backtrace() : e.what();
  auto cut = msg.find("\nException raised from");
  if (cut != std::string::npos) msg.resize(cut);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return msg;
}

// Runs one collective to completion within `timeout`; a failure becomes a JS error naming the
// operation, this rank and (from the heartbeats) the lost peers.
template <typename F>
static void Run(const Napi::CallbackInfo& info, Group& g, const char* op, ms timeout, F start) {
  try {
    auto work = start();
    work->wait(timeout);
  } catch (const std::exception& e) {
    std::string cause = Human(e);
    std::string diagnosis = g.Diagnose();
    std::ostringstream os;
    os << op << " on rank " << g.rank << " of " << g.size << " failed";
    if (!diagnosis.empty()) os << ": " << diagnosis;
    os << " (" << g.backend << ": " << cause << ")";
    throw Napi::Error::New(info.Env(), os.str());
  }
}

static ms Timeout(const Napi::CallbackInfo& info, size_t index, const Group& g) {
  if (!Present(info, index)) return g.timeout;
  double t = F64(info, index);
  if (!(t > 0)) throw ArgError("timeout must be a positive number of milliseconds");
  return ms(static_cast<int64_t>(t));
}

// distInit({store: 'tcp'|'file', host, port, storeServer, path, prefix, rank, size,
//           backend: 'gloo'|'nccl', timeoutMs, glooInterface?, glooHostname?})
CTF_OP(distInit) {
  CTF_BODY(distInit) {
    if (!info[0].IsObject()) throw ArgError("argument 0 must be an options object");
    Napi::Object o = info[0].As<Napi::Object>();
    auto g = std::make_unique<Group>();
    g->rank = static_cast<int>(Int(o, "rank"));
    g->size = static_cast<int>(Int(o, "size"));
    if (g->size < 1 || g->rank < 0 || g->rank >= g->size)
      throw ArgError("rank " + std::to_string(g->rank) + " is outside a world of " + std::to_string(g->size));
    g->timeout = ms(Int(o, "timeoutMs"));
    if (g->timeout.count() <= 0) throw ArgError("options.timeoutMs must be positive");
    g->beat = std::clamp(g->timeout / 40, ms(100), ms(1000));
    g->backend = Str(o, "backend", "gloo");
    g->storeHost = Str(o, "storeHost");

    std::string kind = Str(o, "store", "tcp");
    if (kind == "tcp") {
      c10d::TCPStoreOptions so;
      int64_t port = Int(o, "port");
      if (port < 1 || port > 65535) throw ArgError("options.port must be a TCP port (1-65535)");
      so.port = static_cast<uint16_t>(port);
      so.isServer = o.Get("storeServer").ToBoolean().Value();
      so.numWorkers = g->size;
      so.waitWorkers = false;
      so.timeout = g->timeout;
      std::string host = Str(o, "host");
      g->storeName = "TCPStore at " + host + ":" + std::to_string(port);
      g->store = c10::make_intrusive<c10d::TCPStore>(host, so);
    } else if (kind == "file") {
      std::string path = Str(o, "path");
      if (path.empty()) throw ArgError("options.path must name the FileStore's file");
      g->storeName = "FileStore " + path;
      g->store = c10::make_intrusive<c10d::FileStore>(path, g->size);
      g->store->setTimeout(g->timeout);
    } else {
      throw ArgError("options.store must be 'tcp' or 'file', got '" + kind + "'");
    }
    std::string prefix = Str(o, "prefix");
    if (!prefix.empty()) g->store = c10::make_intrusive<c10d::PrefixStore>(prefix, g->store);

    if (g->backend == "gloo") {
      auto opts = c10d::ProcessGroupGloo::Options::create(g->timeout);
      std::string iface = Str(o, "glooInterface"), hostname = Str(o, "glooHostname");
      if (!iface.empty()) opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(iface));
      else if (!hostname.empty()) opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(hostname));
      else opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      g->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(g->store, g->rank, g->size, opts);
    } else if (g->backend == "nccl") {
#ifdef USE_C10D_NCCL
      // collectives block the calling thread (and time out) instead of only ordering the stream
      setenv("NCCL_BLOCKING_WAIT", "1", 0);
      setenv("TORCH_NCCL_BLOCKING_WAIT", "1", 0);
      auto opts = c10d::ProcessGroupNCCL::Options::create();
      opts->timeout = g->timeout;
      g->pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(g->store, g->rank, g->size, opts);
#else
      throw ArgError("this addon was built against a libtorch without CUDA, so it has no NCCL; use backend 'gloo'");
#endif
    } else {
      throw ArgError("unknown backend '" + g->backend + "' (use gloo or nccl)");
    }
    Group* raw = g.get();
    raw->heartbeat = std::thread([raw] { raw->Beat(); });
    auto ext = Napi::External<Group>::New(info.Env(), g.release(), [](Napi::Env, Group* p) { delete p; });
    napi_type_tag_object(info.Env(), ext, &kGroupTag);
    return ext;
  } CTF_END
}

CTF_OP(distDestroy) {
  CTF_BODY(distDestroy) {
    bool ok = false;
    if (info[0].IsExternal()) napi_check_object_type_tag(info.Env(), info[0], &kGroupTag, &ok);
    if (!ok) throw ArgError("argument 0 must be a process group");
    info[0].As<Napi::External<Group>>().Data()->Destroy();
    return info.Env().Undefined();
  } CTF_END
}

// One buffer holding every tensor of the list (a view of the only tensor when it is contiguous).
static at::Tensor Flat(const std::vector<at::Tensor>& ts) {
  if (ts.empty()) throw ArgError("the tensor list is empty");
  for (const auto& t : ts) {
    if (t.scalar_type() != ts[0].scalar_type() || t.device() != ts[0].device())
      throw ArgError("every tensor of one collective must share dtype and device");
  }
  if (ts.size() == 1 && ts[0].is_contiguous()) return ts[0].view(-1);
  std::vector<at::Tensor> views;
  views.reserve(ts.size());
  for (const auto& t : ts) views.push_back(t.reshape(-1));
  return at::cat(views);
}

static void Unflat(const at::Tensor& flat, std::vector<at::Tensor>& ts) {
  if (ts.size() == 1 && ts[0].is_contiguous()) return;
  int64_t off = 0;
  for (auto& t : ts) {
    int64_t n = t.numel();
    t.copy_(flat.narrow(0, off, n).view(t.sizes()));
    off += n;
  }
}

// distAllReduce(group, tensors[], op = 'sum' | 'avg' | 'max' | 'min', timeoutMs?): in place, one
// collective over the concatenation of the list.
CTF_OP(distAllReduce) {
  CTF_BODY(distAllReduce) {
    Group& g = G(info, 0);
    auto ts = TList(info, 1);
    std::string op = Present(info, 2) ? info[2].As<Napi::String>().Utf8Value() : "sum";
    c10d::AllreduceOptions opts;
    if (op == "sum" || op == "avg") opts.reduceOp = c10d::ReduceOp::SUM;
    else if (op == "max") opts.reduceOp = c10d::ReduceOp::MAX;
    else if (op == "min") opts.reduceOp = c10d::ReduceOp::MIN;
    else throw ArgError("reduce op must be sum, avg, max or min, got '" + op + "'");
    opts.timeout = Timeout(info, 3, g);
    at::NoGradGuard noGrad;
    std::vector<at::Tensor> bufs{Flat(ts)};
    Run(info, g, "allReduce", opts.timeout, [&] { return g.pg->allreduce(bufs, opts); });
    if (op == "avg") bufs[0].div_(g.size);
    Unflat(bufs[0], ts);
    return info.Env().Undefined();
  } CTF_END
}

// distBroadcast(group, tensors[], root, timeoutMs?): in place, one collective for the list.
CTF_OP(distBroadcast) {
  CTF_BODY(distBroadcast) {
    Group& g = G(info, 0);
    auto ts = TList(info, 1);
    int64_t root = I64(info, 2);
    if (root < 0 || root >= g.size) throw ArgError("root rank " + std::to_string(root) + " is outside the group");
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    opts.timeout = Timeout(info, 3, g);
    at::NoGradGuard noGrad;
    std::vector<at::Tensor> bufs{Flat(ts)};
    Run(info, g, "broadcast", opts.timeout, [&] { return g.pg->broadcast(bufs, opts); });
    if (g.rank != root) Unflat(bufs[0], ts);
    return info.Env().Undefined();
  } CTF_END
}

// distAllGather(group, tensor, timeoutMs?) → one tensor per rank (every rank's has the same shape).
CTF_OP(distAllGather) {
  CTF_BODY(distAllGather) {
    Group& g = G(info, 0);
    at::Tensor t = T(info, 1).contiguous();
    c10d::AllgatherOptions opts;
    opts.timeout = Timeout(info, 2, g);
    std::vector<at::Tensor> in{t};
    std::vector<std::vector<at::Tensor>> out(1);
    for (int r = 0; r < g.size; r++) out[0].push_back(at::empty_like(t));
    Run(info, g, "allGather", opts.timeout, [&] { return g.pg->allgather(out, in, opts); });
    return WrapList(info.Env(), out[0]);
  } CTF_END
}

CTF_OP(distBarrier) {
  CTF_BODY(distBarrier) {
    Group& g = G(info, 0);
    c10d::BarrierOptions opts;
    opts.timeout = Timeout(info, 1, g);
    Run(info, g, "barrier", opts.timeout, [&] { return g.pg->barrier(opts); });
    return info.Env().Undefined();
  } CTF_END
}

CTF_OP(distBackends) {
  auto arr = Napi::Array::New(info.Env());
  arr.Set(0u, Napi::String::New(info.Env(), "gloo"));
#ifdef USE_C10D_NCCL
  arr.Set(1u, Napi::String::New(info.Env(), "nccl"));
#endif
  return arr;
}

void RegisterDistOps(Napi::Env env, Napi::Object exports) {
  CTF_EXPORT(exports, distInit);
  CTF_EXPORT(exports, distDestroy);
  CTF_EXPORT(exports, distAllReduce);
  CTF_EXPORT(exports, distBroadcast);
  CTF_EXPORT(exports, distAllGather);
  CTF_EXPORT(exports, distBarrier);
  CTF_EXPORT(exports, distBackends);
}

}  // namespace ctf
