"""Same-run PyTorch baseline for `npm run bench -- big`: the Qwen2.5-0.5B shape of
torch_reference.py's model (random weights), KV-cache sampling tokens/s at batch 1 and
16, and one LoRA step (A and B on every linear layer, base frozen) on a batch of tokens.
Written for this benchmark. Usage:

  /usr/bin/python3 torch_big.py '{"config": {...}, "new_tokens": 16, "prompt_tokens": 14, "batches": [1, 16], "lora_r": 8, "train_batch": 1, "train_seq": 128}'
"""
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_reference import Model, sample_rate, train_step  # noqa: E402


class LoRALinear(torch.nn.Module):
    def __init__(self, base, r, alpha):
        super().__init__()
        self.base = base
        self.a = torch.nn.Parameter(torch.empty(r, base.in_features).uniform_(-1 / base.in_features ** 0.5, 1 / base.in_features ** 0.5))
        self.b = torch.nn.Parameter(torch.zeros(base.out_features, r))
        self.scale = alpha / r

    def forward(self, x):
        return self.base(x) + (x @ self.a.T @ self.b.T) * self.scale


def main():
    spec = json.loads(sys.argv[1])
    c = spec["config"]
    torch.manual_seed(0)
    model = Model(c)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "sample_tokens_per_s": {}}
    for batch in spec["batches"]:
        out["sample_tokens_per_s"][f"batch{batch}"] = round(sample_rate(model.eval(), c, batch, spec["prompt_tokens"], spec["new_tokens"]), 2)
    for p in model.parameters():
        p.requires_grad_(False)
    for blk in model.blocks:
        for name in ["q", "kp", "v", "o", "gate", "up", "down"]:
            setattr(blk, name, LoRALinear(getattr(blk, name), spec["lora_r"], 16))
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4)
    b, t = spec["train_batch"], spec["train_seq"]
    ids = torch.randint(0, c["vocabSize"], (b, t + 1))

    train_step(model, opt, ids, c["vocabSize"])
    start = time.perf_counter()
    train_step(model, opt, ids, c["vocabSize"])
    train_step(model, opt, ids, c["vocabSize"])
    out["lora_sft_step_tokens_per_s"] = round(2 * b * t / (time.perf_counter() - start), 1)
    out["lora_trainable_params"] = sum(p.numel() for p in params)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
