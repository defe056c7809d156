# LlamaGen's class-conditional GPT (autoregressive/models/gpt.py) in plain torch, shared by the
# PyTorch sides of bench/gpt-decode.ts and bench/train-step.ts. Module and parameter names follow
# LlamaGen's state dict (as ours do), so the weights exported by the TypeScript side load by name.
# Differences from LlamaGen, all to match what our engine computes:
# - torch 1.13 has no F.scaled_dot_product_attention; attention is the composite PyTorch 2 falls
#   back to on CPU (scores, causal mask, softmax, weighted sum);
# - the KV cache is written by slice assignment and attention reads the filled prefix (LlamaGen
#   attends over the whole preallocated cache under a mask);
# - attention can be bidirectional ("full"), for CTF's stage-2 auxiliary model, whose input
#   vocabulary (coarse labels) differs from its output vocabulary (fine codes);
# - the class table always has the null row (LlamaGen adds it only when class dropout > 0).
import json, math, os, time
import torch
import torch.nn as nn
import torch.nn.functional as F


# the device of the TypeScript side (--device of the benchmark); CUDA needs PyTorch >= 2.0 here
DEVICE = os.environ.get("CTFGEN_BENCH_DEVICE", "cpu")


def setup_threads():
    torch.set_num_threads(int(os.environ.get("CTFGEN_THREADS", os.cpu_count())))
    if DEVICE != "cpu":
        torch.set_default_device(DEVICE)


def sync():
    """Waits for the device's queued work (timings on CUDA)."""
    if DEVICE != "cpu":
        torch.cuda.synchronize()


def median(xs):
    s = sorted(xs)
    return s[len(s) // 2]


def load_tensors(d, name):
    """Tensors written by bench/shared-tensors.ts: <name>.json (index + meta) and <name>.bin."""
    meta = json.load(open(os.path.join(d, name + ".json")))
    blob = bytearray(open(os.path.join(d, name + ".bin"), "rb").read())
    dtypes = {"float32": torch.float32, "int64": torch.int64}
    out = {}
    for e in meta["tensors"]:
        n = 1
        for s in e["shape"]:
            n *= s
        out[e["name"]] = torch.frombuffer(blob, dtype=dtypes[e["dtype"]], count=n, offset=e["offset"]).reshape(e["shape"]).clone()
    return meta, out


def find_multiple(n, k):
    return n if n % k == 0 else n + k - (n % k)


def precompute_freqs_cis_2d(grid_size, n_elem, base=10000, cls_token_num=1):
    half_dim = n_elem // 2
    freqs = 1.0 / (base ** (torch.arange(0, half_dim, 2)[: (half_dim // 2)].float() / half_dim))
    t = torch.arange(grid_size, device=freqs.device)
    freqs = torch.outer(t, freqs)
    freqs_grid = torch.concat([freqs[:, None, :].expand(-1, grid_size, -1), freqs[None, :, :].expand(grid_size, -1, -1)], dim=-1)
    cache = torch.stack([torch.cos(freqs_grid), torch.sin(freqs_grid)], dim=-1).flatten(0, 1)
    return torch.cat([torch.zeros(cls_token_num, n_elem // 2, 2), cache])


def apply_rotary_emb(x, freqs_cis):
    xshaped = x.float().reshape(*x.shape[:-1], -1, 2)
    freqs_cis = freqs_cis.view(1, xshaped.size(1), 1, xshaped.size(3), 2)
    x_out2 = torch.stack(
        [
            xshaped[..., 0] * freqs_cis[..., 0] - xshaped[..., 1] * freqs_cis[..., 1],
            xshaped[..., 1] * freqs_cis[..., 0] + xshaped[..., 0] * freqs_cis[..., 1],
        ],
        dim=-1,
    )
    return x_out2.flatten(3).type_as(x)


def sdpa(q, k, v, causal, dropout_p=0.0, training=False):
    att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.size(-1)))
    if causal and q.size(-2) > 1:
        tq, tk = q.size(-2), k.size(-2)
        allowed = torch.ones(tq, tk, dtype=torch.bool).tril(tk - tq)
        att = att.masked_fill(~allowed, float("-inf"))
    att = att.softmax(-1)
    if dropout_p > 0 and training:
        att = F.dropout(att, dropout_p)
    return att @ v


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        xf = x.float()
        return (xf * torch.rsqrt(torch.mean(xf**2, dim=-1, keepdim=True) + self.eps)).type_as(x) * self.weight


class FeedForward(nn.Module):
    def __init__(self, c):
        super().__init__()
        hidden = find_multiple(int(2 * 4 * c["dim"] / 3), c["multipleOf"])
        self.w1 = nn.Linear(c["dim"], hidden, bias=False)
        self.w3 = nn.Linear(c["dim"], hidden, bias=False)
        self.w2 = nn.Linear(hidden, c["dim"], bias=False)
        self.ffn_dropout = nn.Dropout(c["ffnDropout"])

    def forward(self, x):
        return self.ffn_dropout(self.w2(F.silu(self.w1(x)) * self.w3(x)))


class KVCache:
    def __init__(self, b, n_head, max_len, head_dim):
        self.k = torch.zeros(b, n_head, max_len, head_dim)
        self.v = torch.zeros(b, n_head, max_len, head_dim)

    def update(self, start, k, v):
        end = start + k.size(2)
        self.k[:, :, start:end] = k
        self.v[:, :, start:end] = v
        return self.k[:, :, :end], self.v[:, :, :end]


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dim, self.n_head = c["dim"], c["nHead"]
        self.head_dim = self.dim // self.n_head
        self.causal = c["attention"] == "causal"
        self.attn_dropout_p = c["attnDropout"]
        self.wqkv = nn.Linear(self.dim, 3 * self.dim, bias=False)
        self.wo = nn.Linear(self.dim, self.dim, bias=False)
        self.resid_dropout = nn.Dropout(c["residDropout"])
        self.kv_cache = None

    def forward(self, x, freqs_cis, start=None):
        b, t, _ = x.shape
        xq, xk, xv = self.wqkv(x).split([self.dim, self.dim, self.dim], dim=-1)
        xq = apply_rotary_emb(xq.view(b, t, self.n_head, self.head_dim), freqs_cis)
        xk = apply_rotary_emb(xk.view(b, t, self.n_head, self.head_dim), freqs_cis)
        xv = xv.view(b, t, self.n_head, self.head_dim)
        xq, xk, xv = map(lambda u: u.transpose(1, 2), (xq, xk, xv))
        keys, values = self.kv_cache.update(start, xk, xv) if self.kv_cache is not None else (xk, xv)
        out = sdpa(xq, keys, values, self.causal, self.attn_dropout_p, self.training)
        return self.resid_dropout(self.wo(out.transpose(1, 2).contiguous().view(b, t, self.dim)))


class TransformerBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = Attention(c)
        self.feed_forward = FeedForward(c)
        self.attention_norm = RMSNorm(c["dim"], c["normEps"])
        self.ffn_norm = RMSNorm(c["dim"], c["normEps"])

    def forward(self, x, freqs_cis, start=None):
        h = x + self.attention(self.attention_norm(x), freqs_cis, start)
        return h + self.feed_forward(self.ffn_norm(h))


class LabelEmbedder(nn.Module):
    def __init__(self, num_classes, dim, dropout_prob):
        super().__init__()
        self.num_classes, self.dropout_prob = num_classes, dropout_prob
        self.embedding_table = nn.Embedding(num_classes + 1, dim)

    def forward(self, labels, train):
        if train and self.dropout_prob > 0:
            drop_ids = torch.rand(labels.shape[0]) < self.dropout_prob
            labels = torch.where(drop_ids, self.num_classes, labels)
        return self.embedding_table(labels).unsqueeze(1)


class GPT(nn.Module):
    """c: our resolved GPTConfig (camelCase keys), as the TypeScript side exports it."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        self.tok_embeddings = nn.Embedding(c["inputVocabSize"], c["dim"])
        self.cls_embedding = LabelEmbedder(c["numClasses"], c["dim"], c["classDropout"])
        self.tok_dropout = nn.Dropout(c["tokenDropout"])
        self.layers = nn.ModuleList([TransformerBlock(c) for _ in range(c["nLayer"])])
        self.norm = RMSNorm(c["dim"], c["normEps"])
        self.output = nn.Linear(c["dim"], c["vocabSize"], bias=False)
        grid = round(math.sqrt(c["blockSize"]))
        self.register_buffer("freqs_cis", precompute_freqs_cis_2d(grid, c["dim"] // c["nHead"], c["ropeBase"], c["clsTokenNum"]), persistent=False)

    def forward(self, cond_idx, idx):
        """Teacher-forced: classes [B], tokens [B, L] → logits [B, L+1, V]."""
        h = torch.cat([self.cls_embedding(cond_idx, train=self.training), self.tok_embeddings(idx)], dim=1)
        h = self.tok_dropout(h)
        freqs_cis = self.freqs_cis[: h.shape[1]]
        for layer in self.layers:
            h = layer(h, freqs_cis)
        return self.output(self.norm(h)).float()

    def setup_caches(self, b):
        hd = self.c["dim"] // self.c["nHead"]
        for layer in self.layers:
            layer.attention.kv_cache = KVCache(b, self.c["nHead"], self.c["clsTokenNum"] + self.c["blockSize"], hd)

    def cached(self, x, start):
        """Embeddings [B, t, dim] at positions start..start+t-1 through the cache → logits [B, t, V]."""
        h = x
        freqs_cis = self.freqs_cis[start : start + x.shape[1]]
        for layer in self.layers:
            h = layer(h, freqs_cis, start)
        return self.output(self.norm(h)).float()


def build_gpt(d, name):
    """The GPT exported as <name> by the TypeScript side (config in the json meta)."""
    meta, tensors = load_tensors(d, name)
    model = GPT(meta["config"])
    model.load_state_dict({k: v for k, v in tensors.items() if not k.startswith("data.")}, strict=True)
    return meta, model, {k[5:]: v.to(DEVICE) for k, v in tensors.items() if k.startswith("data.")}
