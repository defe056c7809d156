# PyTorch side of bench/engine.ts: the same work in Python, printed as one JSON line.
import json, math, os, time
import torch
import torch.nn.functional as F

torch.set_num_threads(int(os.environ.get("CTFGEN_THREADS", os.cpu_count())))
torch.manual_seed(0)

def median_ms(fn, reps, warmup=2):
    for _ in range(warmup): fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); fn(); ts.append((time.perf_counter() - t0) * 1e3)
    ts.sort(); return ts[len(ts) // 2]

a = torch.randn(1024, 1024); b = torch.randn(1024, 1024)
mm = median_ms(lambda: a @ b, 10)

x = torch.randn(4); y = torch.randn(4)
n = 20000
t0 = time.perf_counter()
for _ in range(n): x + y
add_us = (time.perf_counter() - t0) / n * 1e6

# LlamaGen transformer block (dim 384, 6 heads, seq 256, batch 8), composite attention as in 1.13
D, H, T, B = 384, 6, 256, 8
hd = D // H
hidden = ((int(2 * 4 * D / 3) + 255) // 256) * 256
p = lambda *s: (torch.randn(*s) * 0.02).requires_grad_()
wqkv, wo, w1, w3, w2 = p(3 * D, D), p(D, D), p(hidden, D), p(hidden, D), p(D, hidden)
n1, n2 = torch.ones(D, requires_grad=True), torch.ones(D, requires_grad=True)
half = hd // 2
freqs = 1.0 / (10000 ** (torch.arange(0, half, 2)[: half // 2].float() / half))
g = int(math.sqrt(T))
f = torch.outer(torch.arange(g).float(), freqs)
ang = torch.cat([f[:, None, :].expand(-1, g, -1), f[None, :, :].expand(g, -1, -1)], -1).reshape(T, half)
cos, sin = ang.cos(), ang.sin()

def rms(x, w):
    return (x.float() * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + 1e-5)).type_as(x) * w

def rope(x):
    xs = x.float().reshape(*x.shape[:-1], -1, 2)
    c = cos.view(1, T, 1, half); s = sin.view(1, T, 1, half)
    return torch.stack([xs[..., 0] * c - xs[..., 1] * s, xs[..., 1] * c + xs[..., 0] * s], -1).flatten(3)

mask = torch.ones(T, T, dtype=torch.bool).tril()
def block(x):
    h = rms(x, n1)
    q, k, v = F.linear(h, wqkv).split([D, D, D], -1)
    q = rope(q.view(B, T, H, hd)).transpose(1, 2); k = rope(k.view(B, T, H, hd)).transpose(1, 2)
    v = v.view(B, T, H, hd).transpose(1, 2)
    att = (q @ k.transpose(-2, -1)) * (1 / math.sqrt(hd))
    att = att.masked_fill(~mask, float("-inf")).softmax(-1)
    y = F.linear((att @ v).transpose(1, 2).reshape(B, T, D), wo)
    h = x + y
    return h + F.linear(F.silu(F.linear(rms(h, n2), w1)) * F.linear(rms(h, n2), w3), w2)

xin = torch.randn(B, T, D)
def step():
    out = block(xin)
    out.square().mean().backward()
    for t in (wqkv, wo, w1, w3, w2, n1, n2): t.grad = None
block_ms = median_ms(step, 5)
print(json.dumps({"matmul_ms": mm, "add_us": add_us, "block_ms": block_ms, "threads": torch.get_num_threads()}))
