# PyTorch side of bench/vq-decode.ts: LlamaGen's VQ decode_code written with torch.nn.functional
# (its AttnBlock as in vq_model.py; swish as F.silu, the op our engine calls), run on the weights
# and codes the TypeScript side exported. Writes its decoded image next to the inputs so the
# caller can compare the two outputs.
#   usage: python3 vq-decode_ref.py <dir with weights.json, weights.bin, codes.bin> <warmup>
import json, os, sys, time
import torch
import torch.nn.functional as F

torch.set_num_threads(int(os.environ.get("CTFGEN_THREADS", os.cpu_count())))

d, warmup = sys.argv[1], int(sys.argv[2])
meta = json.load(open(os.path.join(d, "weights.json")))
blob = bytearray(open(os.path.join(d, "weights.bin"), "rb").read())
W = {}
for e in meta["tensors"]:
    n = 1
    for s in e["shape"]:
        n *= s
    # own storage per tensor, as a model's parameters have (a view into the blob is only 4-byte aligned)
    W[e["name"]] = torch.frombuffer(blob, dtype=torch.float32, count=n, offset=e["offset"]).reshape(e["shape"]).clone()
del blob
cfg = meta["config"]
mult, nrb = cfg["decoderChMult"], cfg["numResBlocks"]
codes = torch.frombuffer(bytearray(open(os.path.join(d, "codes.bin"), "rb").read()), dtype=torch.int64).reshape(meta["codes_shape"])


def gn(x, p):
    return F.group_norm(x, 32, W[p + ".weight"], W[p + ".bias"], 1e-6)


def conv(x, p, **kw):
    return F.conv2d(x, W[p + ".weight"], W[p + ".bias"], **kw)


def res(x, p):
    h = conv(F.silu(gn(x, p + ".norm1")), p + ".conv1", padding=1)
    h = conv(F.silu(gn(h, p + ".norm2")), p + ".conv2", padding=1)
    if p + ".nin_shortcut.weight" in W:
        x = conv(x, p + ".nin_shortcut")
    return x + h


def attn(x, p):  # LlamaGen's AttnBlock
    h = gn(x, p + ".norm")
    q, k, v = conv(h, p + ".q"), conv(h, p + ".k"), conv(h, p + ".v")
    b, c, hh, ww = q.shape
    q = q.reshape(b, c, hh * ww).permute(0, 2, 1)
    k = k.reshape(b, c, hh * ww)
    w_ = F.softmax(torch.bmm(q, k) * (int(c) ** (-0.5)), dim=2)
    v = v.reshape(b, c, hh * ww)
    h_ = torch.bmm(v, w_.permute(0, 2, 1)).reshape(b, c, hh, ww)
    return x + conv(h_, p + ".proj_out")


def decode_code(codes):
    emb = F.normalize(W["quantize.embedding.weight"], p=2, dim=-1)
    h = conv(emb[codes].permute(0, 3, 1, 2).contiguous(), "post_quant_conv")
    h = conv(h, "decoder.conv_in", padding=1)
    h = attn(res(h, "decoder.mid.0"), "decoder.mid.1")
    h = res(h, "decoder.mid.2")
    for i in range(len(mult)):
        p = f"decoder.conv_blocks.{i}"
        for j in range(nrb + 1):
            h = res(h, f"{p}.res.{j}")
            if f"{p}.attn.{j}.q.weight" in W:
                h = attn(h, f"{p}.attn.{j}")
        if i != len(mult) - 1:
            h = conv(F.interpolate(h, scale_factor=2.0, mode="nearest"), f"{p}.upsample.conv", padding=1)
    return conv(F.silu(gn(h, "decoder.norm_out")), "decoder.conv_out", padding=1)


# Protocol (one JSON object per line on stdout): after loading and the warm-up runs it prints
# {"ready": ...}; each "run" line on stdin times one decode and prints {"ms": ...}; "end" writes
# the last decoded image to decoded_torch.bin and exits. The caller interleaves these runs with
# its own, so background load hits both sides alike.
with torch.no_grad():
    for _ in range(warmup):
        out = decode_code(codes)
    print(json.dumps({"ready": True, "threads": torch.get_num_threads(), "torch": torch.__version__}), flush=True)
    while sys.stdin.readline().strip() == "run":
        t0 = time.perf_counter()
        out = decode_code(codes)
        print(json.dumps({"ms": (time.perf_counter() - t0) * 1e3}), flush=True)
out.contiguous().numpy().tofile(os.path.join(d, "decoded_torch.bin"))
