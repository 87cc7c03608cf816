# Control for probe 11: the tiny preset's architecture in PyTorch, same data and settings.
# python3 scripts/probes/copy_control.py IDS.json [MAX_STEPS]  (IDS.json from list-ids.ts)
import json, math, sys, time, torch, torch.nn as nn, torch.nn.functional as F
torch.manual_seed(0); torch.set_num_threads(2)
d = json.load(open(sys.argv[1])); steps_cap = int(sys.argv[2]) if len(sys.argv) > 2 else 10**9
V, D, I, L, H, KV, E = d['vocab'], 128, 384, 4, 4, 2, 32
class RMS(nn.Module):
    def __init__(s): super().__init__(); s.w = nn.Parameter(torch.ones(D))
    def forward(s, x): return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * s.w
def rope(pos):
    inv = 1.0 / (10000 ** (torch.arange(0, E, 2).float() / E)); a = pos[..., None].float() * inv; a = torch.cat([a, a], -1)
    return a.cos()[:, None], a.sin()[:, None]
def rot(x, c, s): x1, x2 = x.chunk(2, -1); return x * c + torch.cat([-x2, x1], -1) * s
class Layer(nn.Module):
    def __init__(s):
        super().__init__(); s.n1, s.n2 = RMS(), RMS()
        s.q, s.k, s.v = nn.Linear(D, H*E), nn.Linear(D, KV*E), nn.Linear(D, KV*E); s.o = nn.Linear(H*E, D, bias=False)
        s.g, s.u, s.dn = nn.Linear(D, I, bias=False), nn.Linear(D, I, bias=False), nn.Linear(I, D, bias=False)
    def forward(s, h, c, sn, mask):
        B, T, _ = h.shape; x = s.n1(h)
        q = s.q(x).view(B, T, H, E).transpose(1, 2); k = s.k(x).view(B, T, KV, E).transpose(1, 2); v = s.v(x).view(B, T, KV, E).transpose(1, 2)
        q, k = rot(q, c, sn), rot(k, c, sn); k = k.repeat_interleave(H // KV, 1); v = v.repeat_interleave(H // KV, 1)
        a = torch.softmax((q @ k.transpose(-1, -2)) / math.sqrt(E) + torch.where(mask, 0.0, -1e9), -1) @ v
        h = h + s.o(a.transpose(1, 2).reshape(B, T, H*E)); x = s.n2(h)
        return h + s.dn(F.silu(s.g(x)) * s.u(x))
class M(nn.Module):
    def __init__(s):
        super().__init__(); s.emb = nn.Embedding(V, D); s.layers = nn.ModuleList([Layer() for _ in range(L)]); s.n = RMS()
        for p in s.parameters():
            if p.dim() == 2: nn.init.normal_(p, std=0.02)
    def forward(s, ids, pos, seg):
        c, sn = rope(pos); T = ids.shape[1]
        causal = torch.tril(torch.ones(T, T, dtype=torch.bool)); mask = causal[None, None] & (seg[:, None, :, None] == seg[:, None, None, :])
        h = s.emb(ids)
        for l in s.layers: h = l(h, c, sn, mask)
        return s.n(h) @ s.emb.weight.T
# pack like the TS trainer: first fit into rows of 128 (inputs = doc[:-1], targets = doc[1:])
docs = d['docs']; g = torch.Generator().manual_seed(0); order = torch.randperm(len(docs), generator=g).tolist()
rows, room = [], []
for i in order:
    x = docs[i]; n = len(x) - 1
    j = next((r for r in range(max(0, len(rows) - 8), len(rows)) if room[r] >= n), -1)
    if j < 0: rows.append([]); room.append(128); j = len(rows) - 1
    rows[j].append(x); room[j] -= n
def batch(rs):
    ids = torch.zeros(len(rs), 128, dtype=torch.long); tg = torch.full((len(rs), 128), -100); pos = torch.zeros_like(ids); seg = torch.full_like(ids, -1)
    for b, r in enumerate(rs):
        t = 0
        for si, x in enumerate(r):
            n = len(x) - 1; ids[b, t:t+n] = torch.tensor(x[:-1]); tg[b, t:t+n] = torch.tensor(x[1:]); pos[b, t:t+n] = torch.arange(n); seg[b, t:t+n] = si; t += n
    return ids, tg, pos, seg
m = M(); opt = torch.optim.AdamW(m.parameters(), lr=2e-3, weight_decay=0.01)
BS = 16; total = min(len(rows) // BS, steps_cap)
sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1, (s+1)/30) * (0.5*(1+math.cos(math.pi*min(1, max(0, s-30)/max(1, total-30)))) if s >= 30 else (s+1)/30))
def gate():
    m.eval(); ok = 0
    with torch.inference_mode():
        for p in d['probes']:
            ids = list(p['prompt'])
            for _ in range(len(p['answer'])):
                T = len(ids); lo = m(torch.tensor([ids]), torch.arange(T)[None], torch.zeros(1, T, dtype=torch.long)); ids.append(int(lo[0, -1].argmax()))
            ok += ids[len(p['prompt']):] == p['answer']
    m.train(); return ok / len(d['probes'])
t0 = time.time()
for s in range(total):
    ids, tg, pos, seg = batch(rows[s*BS:(s+1)*BS])
    lo = m(ids, pos, seg); loss = F.cross_entropy(lo.reshape(-1, V), tg.reshape(-1))
    opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0); opt.step(); sched.step()
    if s % 50 == 0 or s == total - 1: print(f'step {s} loss {loss.item():.4f} gate {gate() if s % 100 == 0 or s == total-1 else ""} {time.time()-t0:.0f}s', flush=True)
