# LAB probe 17: how fast does the tiny preset's architecture learn induction on pure
# repeated random sequences, and which lever shortens the plateau? Synthetic: each row
# is a random sequence of L item tokens (V items, uniform) repeated to fill T tokens;
# the score is next-token accuracy on the repeats (chance 1/V). PyTorch, CPU.
# /usr/bin/python3 scripts/probes/induction_ablation.py VARIANT [STEPS]
# env SEED (init and rows; default 0), THREADS (default 2)
#   VARIANT: base | lr5e-3 | lr1e-2 | attn-only | heads8 | wd0 | layers2 | d256 | zero-bias | v1500
#            | v1500-all (items drawn from the whole 1,500) | v1500-untied (separate output head) | v300
import math, sys, time, torch, torch.nn as nn, torch.nn.functional as F
variant = sys.argv[1]; STEPS = int(sys.argv[2]) if len(sys.argv) > 2 else 800
import os; SEED = int(os.environ.get('SEED', '0'))  # SEED varies the init and the rows (0: probes 17-18)
torch.manual_seed(SEED); torch.set_num_threads(int(os.environ.get('THREADS', '2')))
V, D, I, L, H, KV, E = 120, 128, 384, 4, 4, 2, 32
lr, wd, mlp, zero_bias, tied = 2e-3, 0.1, True, False, True
if variant == 'zero-bias': zero_bias = True
ITEMS = V
if variant in ('v1500', 'v1500-untied'): V = 1500  # the world tokenizer's vocabulary; the items stay 120 of its tokens
if variant == 'v1500-untied': tied = False
if variant == 'v1500-all': V = ITEMS = 1500  # every token of the vocabulary is an item
if variant == 'v300': V = 300
if variant == 'lr5e-3': lr = 5e-3
if variant == 'lr1e-2': lr = 1e-2
if variant == 'attn-only': mlp = False
if variant == 'heads8': H, KV, E = 8, 8, 16
if variant == 'wd0': wd = 0.0
if variant == 'layers2': L = 2
if variant == 'd256': D, I, H, KV, E = 256, 768, 8, 4, 32
B, T = 16, 97
class RMS(nn.Module):
    def __init__(s): super().__init__(); s.w = nn.Parameter(torch.ones(D))
    def forward(s, x): return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * s.w
inv = 1.0 / (10000 ** (torch.arange(0, E, 2).float() / E)); ang = torch.arange(T - 1)[:, None].float() * inv; ang = torch.cat([ang, ang], -1)
COS, SIN = ang.cos(), ang.sin()
def rot(x): x1, x2 = x.chunk(2, -1); return x * COS + torch.cat([-x2, x1], -1) * SIN
MASK = torch.full((T - 1, T - 1), float('-inf')).triu(1)
class Layer(nn.Module):
    def __init__(s):
        super().__init__(); s.n1, s.n2 = RMS(), RMS()
        s.q, s.k, s.v = nn.Linear(D, H*E), nn.Linear(D, KV*E), nn.Linear(D, KV*E); s.o = nn.Linear(H*E, D, bias=False)
        s.g, s.u, s.dn = nn.Linear(D, I, bias=False), nn.Linear(D, I, bias=False), nn.Linear(I, D, bias=False)
    def forward(s, h):
        b, t, _ = h.shape; x = s.n1(h)
        q = rot(s.q(x).view(b, t, H, E).transpose(1, 2)); k = rot(s.k(x).view(b, t, KV, E).transpose(1, 2)); v = s.v(x).view(b, t, KV, E).transpose(1, 2)
        k = k.repeat_interleave(H // KV, 1); v = v.repeat_interleave(H // KV, 1)
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(E) + MASK, -1) @ v
        h = h + s.o(a.transpose(1, 2).reshape(b, t, H*E))
        return h + s.dn(F.silu(s.g(s.n2(h))) * s.u(s.n2(h))) if mlp else h
class M(nn.Module):
    def __init__(s):
        super().__init__(); s.emb = nn.Embedding(V, D); s.head = None if tied else nn.Linear(D, V, bias=False); s.layers = nn.ModuleList([Layer() for _ in range(L)]); s.n = RMS()
        for p in s.parameters():
            if p.dim() == 2: nn.init.normal_(p, std=0.02)
        if zero_bias:  # warmup's init: every bias 0 and every norm 1 (PyTorch draws nn.Linear biases uniformly)
            for l in s.layers:
                for lin in (l.q, l.k, l.v): nn.init.zeros_(lin.bias)
    def forward(s, ids):
        h = s.emb(ids)
        for l in s.layers: h = l(h)
        return s.n(h) @ (s.emb.weight if s.head is None else s.head.weight).T
def data(gen):
    lens = torch.randint(6, 41, (B,), generator=gen)
    ids = torch.zeros(B, T, dtype=torch.long); rep = torch.zeros(B, T, dtype=torch.bool)
    for b in range(B):
        n = int(lens[b]); seq = torch.randint(0, ITEMS, (n,), generator=gen)
        ids[b] = seq.repeat(T // n + 1)[:T]; rep[b, n:] = True
    return ids, rep
m = M(); opt = torch.optim.AdamW(m.parameters(), lr=lr, weight_decay=wd, betas=(0.9, 0.95))
gen = torch.Generator().manual_seed(1 + SEED); t0 = time.time()
for s in range(STEPS + 1):
    ids, rep = data(gen)
    lo = m(ids[:, :-1]); loss = F.cross_entropy(lo.reshape(-1, V), ids[:, 1:].reshape(-1))
    if s % 50 == 0:
        acc = ((lo.argmax(-1) == ids[:, 1:]) & rep[:, 1:]).sum().item() / rep[:, 1:].sum().item()
        print(f'{variant} step {s} loss {loss.item():.3f} repeat-acc {acc:.3f} {time.time()-t0:.0f}s', flush=True)
    opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0); opt.step()
