# PyTorch side of bench/train-step.ts: the same optimizer step for stage 1 (ar), stage 2 (aux) and
# the baseline, LlamaGen-style: loss and accuracy read back, backward, clip_grad_norm_,
# torch.optim.AdamW over LlamaGen's two groups (weight decay on dim >= 2 tensors), zero_grad(set_to_none).
# Starts from the weights, cluster map and batches the TypeScript side exported. Session protocol
# (bench/python-session.ts): it prints {"ready": ...} once the three stages are built; then each
# stdin line "step <stage>" runs that stage's next step and answers {"ms", "loss"}, so the caller
# can alternate its own steps with these.
#   usage: python3 train_step_ref.py <dir> <optimizer json> <aux mask 0|1>
import json, sys, time
import torch
import torch.nn.functional as F
from llamagen_ref import build_gpt, setup_threads

setup_threads()
torch.manual_seed(0)
d, opt, aux_mask = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3] == "1"


def stepper(stage):
    """The stage's model and optimizer, as a function running step i."""
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
        if stage == "aux":
            logits = model(classes, coarse)[:, 1:]
            if aux_mask:
                member = idx_to_cluster.reshape(1, 1, -1) == coarse.unsqueeze(2)
                logits = logits.masked_fill(~member, float("-inf"))
            target = fine
        else:
            target = coarse if stage == "ar" else fine
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

    return step


steppers = {s: stepper(s) for s in ("ar", "aux", "baseline")}
counts = {s: 0 for s in steppers}
print(json.dumps({"ready": True, "threads": torch.get_num_threads(), "torch": torch.__version__}), flush=True)
while True:
    command = sys.stdin.readline().split()
    if len(command) != 2 or command[0] != "step":
        break
    stage = command[1]
    t0 = time.perf_counter()
    loss = steppers[stage](counts[stage])
    ms = (time.perf_counter() - t0) * 1e3
    counts[stage] += 1
    print(json.dumps({"ms": ms, "loss": loss}), flush=True)
