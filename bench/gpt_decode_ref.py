# PyTorch side of bench/gpt-decode.ts: LlamaGen's CFG generate loop (prefill, then one cached step
# per token; [cond; uncond] rows, uncond + (cond - uncond) * s) with greedy tokens, on the GPT and
# classes the TypeScript side exported. Session protocol (bench/python-session.ts): after loading
# and a warm-up it prints {"ready": ...}; then each stdin line gets one JSON line back:
#   run      one timed generation: {"prefill_ms", "total_ms", "tokens"}
#   profile  torch.profiler's self CPU time per op of one cached step at position 128 (median of 5)
#   usage: python3 gpt_decode_ref.py <dir with gpt.json, gpt.bin> <warm-up tokens> <cfg scale> <tokens>
import json, sys, time
import torch
from llamagen_ref import build_gpt, setup_threads, sync

setup_threads()
torch.set_grad_enabled(False)
d, warm, cfg, n_tokens = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
meta, model, data = build_gpt(d, "gpt")
model.eval()
classes = data["classes"]
B = classes.shape[0]
cls = model.c["clsTokenNum"]


def generate(n):
    cond = torch.cat([classes, torch.full([B], model.c["numClasses"], dtype=torch.int64)])
    model.setup_caches(2 * B)

    def pick(logits):
        c, u = torch.split(logits, B, dim=0)
        return (u + (c - u) * cfg).argmax(-1)

    tok = pick(model.cached(model.cls_embedding(cond, train=False), 0)[:, -1])
    sync()
    t_prefill = time.perf_counter()
    tokens = [tok]
    for i in range(1, n):
        x = torch.cat([tok, tok]).unsqueeze(1)
        tok = pick(model.cached(model.tok_embeddings(x), cls + i - 1)[:, -1])
        tokens.append(tok)
    return torch.stack(tokens, 1), t_prefill


def run():
    t0 = time.perf_counter()
    seq, t_prefill = generate(n_tokens)
    sync()
    t1 = time.perf_counter()
    return {"prefill_ms": (t_prefill - t0) * 1e3, "total_ms": (t1 - t0) * 1e3, "tokens": seq.flatten().tolist()}


def profile(pos):
    """Self CPU ms per op of one cached step at pos (2·B rows, random tokens), median of 5."""
    from torch.profiler import profile as torch_profile, ProfilerActivity

    model.setup_caches(2 * B)
    x = model.tok_embeddings(torch.randint(0, model.c["vocabSize"], [2 * B, 1]))
    for _ in range(2):
        model.cached(x, pos)
    runs = []
    for _ in range(5):
        with torch_profile(activities=[ProfilerActivity.CPU]) as p:
            model.cached(x, pos)
        runs.append({e.key: (e.self_cpu_time_total / 1e3, e.count) for e in p.key_averages()})
    ops = sorted(runs[0], key=lambda k: -sorted(r[k][0] for r in runs)[2])[:8]
    return {"profile": [{"op": k, "ms": sorted(r[k][0] for r in runs)[2], "calls": runs[0][k][1]} for k in ops]}


generate(warm)
print(json.dumps({"ready": True, "threads": torch.get_num_threads(), "torch": torch.__version__}), flush=True)
while True:
    command = sys.stdin.readline().strip()
    if command == "run":
        print(json.dumps(run()), flush=True)
    elif command == "profile":
        print(json.dumps(profile(min(128, n_tokens - 1))), flush=True)
    else:
        break
