"""Same-run PyTorch baseline for the model benchmark: the same Qwen2-style architecture
(RMSNorm, rotary embeddings, SwiGLU, grouped-query attention, tied embeddings) and the
same shapes as src/model/transformer.ts, trained with AdamW on random tokens, on the
CPU. Written for this benchmark. Usage:

  /usr/bin/python3 torch_reference.py '{"configs": [...], "matmul": [512, 1024], "seconds": 3}'

prints one JSON object: training tokens/s per config, matmul GFLOP/s and, when asked
("sample": {"new_tokens", "batches", "prompt_tokens"}), KV-cache sampling tokens/s per
config and batch (preallocated cache, inference_mode, the faster of 1 and 2 threads).
"""
import json
import math
import sys
import time

import torch
import torch.nn.functional as F


class Block(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        d, h, k = c["hiddenSize"], c["numHeads"], c["numKvHeads"]
        e = d // h
        self.h, self.k, self.e = h, k, e
        self.ln1 = torch.nn.Parameter(torch.ones(d))
        self.ln2 = torch.nn.Parameter(torch.ones(d))
        self.q = torch.nn.Linear(d, h * e)
        self.kp = torch.nn.Linear(d, k * e)
        self.v = torch.nn.Linear(d, k * e)
        self.o = torch.nn.Linear(h * e, d, bias=False)
        self.gate = torch.nn.Linear(d, c["intermediateSize"], bias=False)
        self.up = torch.nn.Linear(d, c["intermediateSize"], bias=False)
        self.down = torch.nn.Linear(c["intermediateSize"], d, bias=False)

    @staticmethod
    def norm(x, w, eps=1e-6):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w

    def forward(self, x, cos, sin, cache=None, pos=0):
        """`cache`: preallocated (keys, values) [b, kv heads, max len, e], filled up to `pos`."""
        b, t, _ = x.shape
        y = self.norm(x, self.ln1)
        q = self.q(y).view(b, t, self.h, self.e).transpose(1, 2)
        k = self.kp(y).view(b, t, self.k, self.e).transpose(1, 2)
        v = self.v(y).view(b, t, self.k, self.e).transpose(1, 2)

        def rot(z):
            z1, z2 = z.chunk(2, dim=-1)
            return z * cos + torch.cat([-z2, z1], dim=-1) * sin

        q, k = rot(q), rot(k)
        if cache is not None:
            cache[0][:, :, pos : pos + t] = k
            cache[1][:, :, pos : pos + t] = v
            k, v = cache[0][:, :, : pos + t], cache[1][:, :, : pos + t]
        g = self.h // self.k
        k = k.repeat_interleave(g, dim=1)
        v = v.repeat_interleave(g, dim=1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(self.e)
        if t > 1:
            att = att + torch.full((t, pos + t), float("-inf")).triu(pos + 1)
        a = torch.softmax(att, dim=-1) @ v
        x = x + self.o(a.transpose(1, 2).reshape(b, t, -1))
        y = self.norm(x, self.ln2)
        return x + self.down(F.silu(self.gate(y)) * self.up(y))


class Model(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.emb = torch.nn.Embedding(c["vocabSize"], c["hiddenSize"])
        self.blocks = torch.nn.ModuleList([Block(c) for _ in range(c["numLayers"])])
        self.ln = torch.nn.Parameter(torch.ones(c["hiddenSize"]))
        e = c["hiddenSize"] // c["numHeads"]
        inv = 1.0 / (10000 ** (torch.arange(0, e, 2).float() / e))
        self.register_buffer("inv", inv)

    def forward(self, ids, caches=None, pos=0):
        t = ids.shape[1]
        ang = torch.arange(pos, pos + t).float()[:, None] * self.inv[None, :]
        full = torch.cat([ang, ang], dim=-1)
        cos, sin = full.cos(), full.sin()
        x = self.emb(ids)
        for i, blk in enumerate(self.blocks):
            x = blk(x, cos, sin, None if caches is None else caches[i], pos)
        return Block.norm(x, self.ln) @ self.emb.weight.T


def train_step(model, opt, ids, vocab):
    """One causal-LM step on ids [b, t]: forward, cross-entropy, backward, optimiser."""
    logits = model(ids[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, vocab), ids[:, 1:].reshape(-1))
    opt.zero_grad()
    loss.backward()
    opt.step()


def sample_rate(model, c, batch, prompt_tokens, new_tokens):
    """Tokens/s of KV-cache decoding at T = 1: a preallocated cache, inference_mode."""
    e = c["hiddenSize"] // c["numHeads"]
    total = prompt_tokens + new_tokens
    gen = torch.Generator().manual_seed(1)
    with torch.inference_mode():
        caches = [(torch.zeros(batch, c["numKvHeads"], total, e), torch.zeros(batch, c["numKvHeads"], total, e)) for _ in model.blocks]
        ids = torch.arange(prompt_tokens).remainder(c["vocabSize"]).repeat(batch, 1)
        start = time.perf_counter()
        logits = model(ids, caches, 0)[:, -1]
        pos = prompt_tokens
        for _ in range(new_tokens):
            nxt = torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=gen)
            logits = model(nxt, caches, pos)[:, -1]
            pos += 1
        return batch * new_tokens / (time.perf_counter() - start)


def main():
    spec = json.loads(sys.argv[1])
    torch.manual_seed(0)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "train_tokens_per_s": {}, "matmul_gflops": {}}
    for name, c in spec["configs"].items():
        model = Model(c)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        b, t = c["batch"], c["seq"]
        ids = torch.randint(0, c["vocabSize"], (b, t))

        train_step(model, opt, ids, c["vocabSize"])
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < spec["seconds"] or n < 2:
            train_step(model, opt, ids, c["vocabSize"])
            n += 1
        out["train_tokens_per_s"][name] = n * b * (t - 1) / (time.perf_counter() - start)
    sample = spec.get("sample")
    if sample:
        out["sample_tokens_per_s"] = {}
        for name in sample.get("configs", list(spec["configs"])):
            c = spec["configs"][name]
            torch.manual_seed(1)
            model = Model(c).eval()
            rates = {}
            for batch in sample["batches"]:
                best = 0.0
                for threads in sorted({1, torch.get_num_threads(), 2}):
                    torch.set_num_threads(threads)
                    sample_rate(model, c, batch, sample["prompt_tokens"], 8)  # warm
                    best = max(best, sample_rate(model, c, batch, sample["prompt_tokens"], sample["new_tokens"]))
                rates[f"batch{batch}"] = best
            torch.set_num_threads(out["threads"])
            out["sample_tokens_per_s"][name] = rates
    for size in spec["matmul"]:
        a, bm = torch.randn(size, size), torch.randn(size, size)
        a @ bm
        reps, start = 0, time.perf_counter()
        while time.perf_counter() - start < 1.0:
            a @ bm
            reps += 1
        out["matmul_gflops"][str(size)] = 2 * size**3 * reps / (time.perf_counter() - start) / 1e9
    print(json.dumps(out))


if __name__ == "__main__":
    main()
