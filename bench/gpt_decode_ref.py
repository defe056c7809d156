# PyTorch side of bench/gpt-decode.ts: LlamaGen's CFG generate loop (prefill, then one cached step
# per token; [cond; uncond] rows, uncond + (cond - uncond) * s) with greedy tokens, on the GPT and
# classes the TypeScript side exported. Prints one JSON line.
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


generate(warm)
t0 = time.perf_counter()
seq, t_prefill = generate(n_tokens)
sync()
t1 = time.perf_counter()
print(
    json.dumps(
        {
            "prefill_ms": (t_prefill - t0) * 1e3,
            "total_ms": (t1 - t0) * 1e3,
            "tokens": seq.flatten().tolist(),
            "threads": torch.get_num_threads(),
            "torch": torch.__version__,
        }
    )
)
