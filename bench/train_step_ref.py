# PyTorch side of bench/train-step.ts: the same optimizer step for stage 1, stage 2 and
# the baseline, LlamaGen-style: loss and accuracy read back, backward, clip_grad_norm_,
# torch.optim.AdamW over LlamaGen's two groups (weight decay on dim >= 2 tensors), zero_grad(set_to_none).
# Starts from the weights, cluster map and batches the TypeScript side exported. Prints one JSON line.
#   usage: python3 train_step_ref.py <dir> <warm-up steps> <timed steps> <optimizer json> <aux mask 0|1> [stages, e.g. baseline]
import json, sys, time
import torch
import torch.nn.functional as F
from llamagen_ref import build_gpt, median, setup_threads, sync

setup_threads()
torch.manual_seed(0)
d, warmup, steps, opt, aux_mask = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4]), sys.argv[5] == "1"
stages = sys.argv[6].split(",") if len(sys.argv) > 6 else ["stage1", "stage2", "baseline"]


def run(stage):
    meta, model, data = build_gpt(d, stage)
    model.train()
    idx_to_cluster = data.get("idx_to_cluster")
    nb = sum(1 for k in data if k.startswith("classes"))
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": opt["weightDecay"]}, {"params": no_decay, "weight_decay": 0.0}],
        lr=opt["lr"],
        betas=tuple(opt["betas"]),
    )

    def step(i):
        classes, fine = data[f"classes{i % nb}"], data[f"fine{i % nb}"]
        coarse = idx_to_cluster.index_select(0, fine.reshape(-1)).reshape(fine.shape) if idx_to_cluster is not None else None
        if stage == "stage2":
            logits = model(classes, coarse)[:, 1:]
            if aux_mask:
                member = idx_to_cluster.reshape(1, 1, -1) == coarse.unsqueeze(2)
                logits = logits.masked_fill(~member, float("-inf"))
            target = fine
        else:
            target = coarse if stage == "stage1" else fine
            logits = model(classes, target[:, :-1])
        flat = logits.reshape(-1, logits.size(-1))
        t = target.reshape(-1)
        loss = F.cross_entropy(flat, t)
        acc = (flat.argmax(-1) == t).float().mean()
        value = loss.item()
        acc.item()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), opt["gradClip"])
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return value

    losses, times = [], []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        losses.append(step(i))
        sync()
        if i >= warmup:
            times.append((time.perf_counter() - t0) * 1e3)
    return {"step_ms": median(times), "losses": losses}


print(json.dumps({"stages": {s: run(s) for s in stages}, "threads": torch.get_num_threads(), "torch": torch.__version__}))
