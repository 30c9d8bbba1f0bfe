#!/usr/bin/python3
"""
torch_twin.py -- the PyTorch (1.13, Debian python3-torch) twin of `lra_cpu bench`, for the
side-by-side speed comparison in the README. Never needed by the build or the tests.

Derived from shared/peer/torch_lra.py (the team's PyTorch peer, RESULTS.md), changed so the model
and hyper-parameters match lra_cpu's bench exactly:
  - model = lra::LraModel: token embedding (vocab 256) + learned positions, pre-LN blocks with
    separate bias-free Wq/Wk/Wv/Wo (lra MultiHeadAttention), GELU(erf) MLP with biases,
    LayerNorm eps 1e-6, final LayerNorm, mean pooling, head Dense(D->MLP)-ReLU-Dense(MLP->2);
  - Adam as lra (flax defaults): betas (0.9, 0.98), eps 1e-9, lr 1e-4;
  - presets: tiny = 2 layers, D 64, H 2, MLP 128, batch 8; text = 4 layers, D 256, H 4,
    MLP 1024, batch 4 (the peer's tiny and lra-text);
  - every lra mechanism name with lra's bench hyper-parameters: local block 256, linformer
    k 256 (one E shared by K and V, as lra's share_kv), performer m 256 (as the peer), and for
    the mechanisms the peer lacks, lra's defaults: sparse block 50 + 10 summary columns,
    longformer window 512, reformer 1 hash round x 10 buckets (shared QK, chunk + previous
    chunk), sinkhorn block 50 (7 log-space Sinkhorn iterations), synthesizer random (QK^T/sqrt(d)
    + learned R), bigbird block 64 (window 3, 3 random, first/last global).
    The six extra ones are written the efficient way PyTorch allows (gathered blocks, no N x N
    mask where the method needs none); they are cost-equivalent re-implementations, not
    bit-compatible with lra's kernels.
  - reports CPU time per step (time.process_time, all threads) next to wall time: on a shared
    machine the ratio of CPU times is the steadier comparison.

Environment (set by compare.py, as RESULTS.md's "tuned" anchor): GLIBC_TUNABLES=
glibc.malloc.hugetlb=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736,
OMP_WAIT_POLICY=PASSIVE, OPENBLAS_THREAD_TIMEOUT=4. OPENBLAS_CORETYPE is left as found.

  /usr/bin/python3 lra/bench/torch_twin.py --attn transformer --seq-len 1024 --preset tiny
prints one JSON line.
"""
import argparse
import json
import math
import os
import resource
import statistics
import sys
import time

PRESETS = {"tiny": dict(layers=2, dim=64, heads=2, mlp=128, batch=8),
           "text": dict(layers=4, dim=256, heads=4, mlp=1024, batch=4)}
MECHANISMS = ["transformer", "local", "sparse", "longformer", "linformer", "reformer", "sinkhorn",
              "synthesizer", "bigbird", "linear", "performer"]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--attn", default="transformer", choices=MECHANISMS)
    p.add_argument("--seq-len", type=int, default=1024)
    p.add_argument("--preset", default="tiny", choices=sorted(PRESETS))
    p.add_argument("--batch", type=int, default=0, help="0: the preset's")
    p.add_argument("--steps", type=int, default=10, help="timed steps at most")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--min-steps", type=int, default=3)
    p.add_argument("--budget", type=float, default=15.0, help="seconds per configuration")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--block", type=int, default=256, help="local block")
    p.add_argument("--proj-k", type=int, default=256, help="linformer k")
    p.add_argument("--features", type=int, default=256, help="performer m")
    p.add_argument("--seed", type=int, default=1)
    return p.parse_args(argv)


ARGS = parse_args()
os.environ["OPENBLAS_NUM_THREADS"] = str(ARGS.threads)  # before torch loads OpenBLAS
os.environ["OMP_NUM_THREADS"] = str(ARGS.threads)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


# ----------------------------------------------------------------------------- attention
def softmax_attn(q, k, v):
    s = torch.matmul(q * q.shape[-1] ** -0.5, k.transpose(-2, -1))
    return torch.matmul(torch.softmax(s, dim=-1), v)


def blocks(x, b):  # (B,H,N,d) -> (B,H,nb,b,d), N padded up to a multiple of b
    B, H, N, d = x.shape
    pad = (-N) % b
    if pad:
        x = F.pad(x, (0, 0, 0, pad))
    return x.reshape(B, H, (N + pad) // b, b, d)


def local_attn(q, k, v, b):
    N = q.shape[2]
    o = softmax_attn(blocks(q, b), blocks(k, b), blocks(v, b))
    return o.reshape(q.shape[0], q.shape[1], -1, q.shape[3])[:, :, :N]


def sparse_attn(q, k, v, b=50, c=10):
    # fixed pattern: own block + the last c columns of every block (summary columns)
    B, H, N, d = q.shape
    qb, kb, vb = blocks(q, b), blocks(k, b), blocks(v, b)
    nb = qb.shape[2]
    ks = kb[:, :, :, b - c:].reshape(B, H, nb * c, d)  # summary keys (B,H,S,d)
    vs = vb[:, :, :, b - c:].reshape(B, H, nb * c, d)
    scale = d ** -0.5
    s_own = torch.matmul(qb * scale, kb.transpose(-2, -1))                  # (B,H,nb,b,b)
    s_sum = torch.matmul(qb.reshape(B, H, nb * b, d) * scale, ks.transpose(-2, -1))  # (B,H,N',S)
    own = torch.arange(nb).repeat_interleave(c)                             # block of each summary col
    mask = (own[None, :] == torch.arange(nb)[:, None])[:, None, :]          # (nb,1,S): own block
    s_sum = s_sum.reshape(B, H, nb, b, nb * c).masked_fill(mask, float("-inf"))
    p = torch.softmax(torch.cat([s_own, s_sum], dim=-1), dim=-1)
    o = torch.matmul(p[..., :b], vb).reshape(B, H, nb * b, d) + torch.matmul(
        p[..., b:].reshape(B, H, nb * b, nb * c), vs)
    return o[:, :, :N]


def longformer_attn(q, k, v, w=512):
    # keys [i - (w - w/2 - 1), i + w/2]: blocks of w/2, each query block sees blocks r-1, r, r+1
    B, H, N, d = q.shape
    b = w // 2
    qb, kb, vb = blocks(q, b), blocks(k, b), blocks(v, b)
    nb = qb.shape[2]
    zk = torch.zeros_like(kb[:, :, :1])
    kw = torch.cat([torch.cat([zk, kb[:, :, :-1]], 2), kb, torch.cat([kb[:, :, 1:], zk], 2)], dim=3)
    vw = torch.cat([torch.cat([zk, vb[:, :, :-1]], 2), vb, torch.cat([vb[:, :, 1:], zk], 2)], dim=3)
    s = torch.matmul(qb * d ** -0.5, kw.transpose(-2, -1))                 # (B,H,nb,b,3b)
    i = torch.arange(nb * b).reshape(nb, b, 1)
    j = (torch.arange(nb).reshape(nb, 1, 1) - 1) * b + torch.arange(3 * b).reshape(1, 1, 3 * b)
    ok = (j >= i - (w - w // 2 - 1)) & (j <= i + w // 2) & (j >= 0) & (j < N)
    p = torch.softmax(s.masked_fill(~ok, float("-inf")), dim=-1)
    return torch.matmul(p, vw).reshape(B, H, nb * b, d)[:, :, :N]


def reformer_attn(q, v, rot, n_buckets=10):
    # shared QK: keys = normalised queries; angular LSH (1 round), sort by bucket, chunks of
    # ceil(N / n_buckets), each chunk sees itself + the previous chunk (wrapping), self masked
    B, H, N, d = q.shape
    c = math.ceil(N / n_buckets)
    proj = torch.matmul(q.detach(), rot)                                    # (B,H,N,nb/2)
    buckets = torch.argmax(torch.cat([proj, -proj], dim=-1), dim=-1)
    order = torch.argsort(buckets * N + torch.arange(N), dim=-1)            # (B,H,N)
    idx = order.unsqueeze(-1).expand(-1, -1, -1, d)
    sq, sv = q.gather(2, idx), v.gather(2, idx)
    sk = F.normalize(sq, dim=-1)
    pad = n_buckets * c - N
    if pad:
        sq, sk, sv = (F.pad(t, (0, 0, 0, pad)) for t in (sq, sk, sv))
    qc, kc, vc = (t.reshape(B, H, n_buckets, c, d) for t in (sq, sk, sv))
    kw = torch.cat([kc, kc.roll(1, dims=2)], dim=3)
    vw = torch.cat([vc, vc.roll(1, dims=2)], dim=3)
    s = torch.matmul(qc * d ** -0.5, kw.transpose(-2, -1))                  # (B,H,nbk,c,2c)
    eye = torch.eye(c, dtype=torch.bool)
    s = s.masked_fill(torch.cat([eye, torch.zeros_like(eye)], dim=1), -5e4)
    o = torch.matmul(torch.softmax(s, dim=-1), vw).reshape(B, H, n_buckets * c, d)[:, :, :N]
    return torch.empty_like(o).scatter_(2, idx, o)                          # unsort


def sinkhorn_attn(q, k, v, sortnet, b=50, n_iters=7, temperature=0.75):
    # own block + one block mixed by a Sinkhorn-normalised soft permutation of the key blocks
    B, H, N, d = q.shape
    qb, kb, vb = blocks(q, b), blocks(k, b), blocks(v, b)
    nb = qb.shape[2]
    logits = sortnet(kb.mean(dim=3)) [..., :nb] / temperature               # (B,H,nb,nb)
    for _ in range(n_iters):
        logits = logits - torch.logsumexp(logits, dim=-1, keepdim=True)
        logits = logits - torch.logsumexp(logits, dim=-2, keepdim=True)
    perm = logits.exp()
    ks = torch.einsum("bhij,bhjtd->bhitd", perm, kb)
    vs = torch.einsum("bhij,bhjtd->bhitd", perm, vb)
    o = softmax_attn(qb, torch.cat([kb, ks], dim=3), torch.cat([vb, vs], dim=3))
    return o.reshape(B, H, nb * b, d)[:, :, :N]


def bigbird_attn(q, k, v, rand_blocks, b=64):
    # query block r (not first/last) sees window r-1..r+1, blocks 0 and nb-1, 3 random blocks;
    # the first and last query blocks are global: they see every key
    B, H, N, d = q.shape
    qb, kb, vb = blocks(q, b), blocks(k, b), blocks(v, b)
    nb = qb.shape[2]
    r = torch.arange(nb)
    sel = torch.stack([(r - 1).clamp(0, nb - 1), r, (r + 1).clamp(0, nb - 1),
                       torch.zeros_like(r), torch.full_like(r, nb - 1)], dim=1)
    sel = torch.cat([sel, rand_blocks[:nb] % nb], dim=1)                    # (nb, 8)
    kg = kb.index_select(2, sel.flatten()).reshape(B, H, nb, -1, d)        # (B,H,nb,8b,d)
    vg = vb.index_select(2, sel.flatten()).reshape(B, H, nb, -1, d)
    o = softmax_attn(qb, kg, vg).reshape(B, H, nb * b, d)
    kf, vf = kb.reshape(B, H, nb * b, d), vb.reshape(B, H, nb * b, d)
    og = softmax_attn(torch.cat([qb[:, :, 0], qb[:, :, -1]], dim=2), kf, vf)  # global rows
    o = torch.cat([og[:, :, :b], o[:, :, b:(nb - 1) * b], og[:, :, b:]], dim=2)
    return o[:, :, :N]


def linear_attn(q, k, v, eps=1e-6):
    q, k = F.elu(q) + 1.0, F.elu(k) + 1.0
    kv = torch.matmul(k.transpose(-2, -1), v)
    z = torch.matmul(q, k.sum(dim=-2).unsqueeze(-1))
    return torch.matmul(q, kv) / (z + eps)


def orthogonal_features(m, d, gen):
    blocks_ = []
    for _ in range(math.ceil(m / d)):
        qm, _ = torch.linalg.qr(torch.randn(d, d, generator=gen))
        blocks_.append(qm.t())
    w = torch.cat(blocks_, dim=0)[:m]
    return torch.randn(m, d, generator=gen).norm(dim=1).unsqueeze(1) * w


def favor(x, omega, is_query, eps=1e-6):
    d, m = x.shape[-1], omega.shape[0]
    x = x * d ** -0.25
    proj = torch.matmul(x, omega.t())
    sq = 0.5 * (x * x).sum(dim=-1, keepdim=True)
    stab = proj.amax(dim=-1, keepdim=True) if is_query else proj.amax(dim=(-2, -1), keepdim=True)
    return (torch.exp(proj - sq - stab.detach()) + eps) * m ** -0.5


def performer_attn(q, k, v, omega, eps=1e-6):
    qf, kf = favor(q, omega, True), favor(k, omega, False)
    kv = torch.matmul(kf.transpose(-2, -1), v)
    z = torch.matmul(qf, kf.sum(dim=-2).unsqueeze(-1))
    return torch.matmul(qf, kv) / (z + eps)


# ----------------------------------------------------------------------------- model (lra's)
class Attention(nn.Module):
    def __init__(self, a, gen):
        super().__init__()
        self.h, self.dh, self.kind = a.heads, a.dim // a.heads, a.attn
        self.wq, self.wk, self.wv, self.wo = (nn.Linear(a.dim, a.dim, bias=False) for _ in range(4))
        n = a.seq_len
        if a.attn == "linformer":
            self.E = nn.Parameter(torch.empty(a.proj_k, n).uniform_(-1, 1) * math.sqrt(6 / (n + a.proj_k)))
        if a.attn == "performer":
            self.register_buffer("omega", orthogonal_features(a.features, self.dh, gen))
        if a.attn == "reformer":
            self.register_buffer("rot", torch.randn(self.dh, 5, generator=gen))
        if a.attn == "sinkhorn":
            self.sortnet = nn.Linear(self.dh, math.ceil(n / 50))
        if a.attn == "synthesizer":
            self.R = nn.Parameter(torch.randn(a.heads, n, n, generator=gen) * math.sqrt(2 / (2 * n)))
        if a.attn == "bigbird":
            self.register_buffer("rand", torch.randint(0, 1 << 20, (math.ceil(n / 64), 3), generator=gen))

    def forward(self, x):
        B, N, D = x.shape
        split = lambda t: t.reshape(B, N, self.h, self.dh).transpose(1, 2)  # noqa: E731
        q, v = split(self.wq(x)), split(self.wv(x))
        k = split(self.wk(x)) if self.kind != "reformer" else None
        kind = self.kind
        if kind == "transformer":
            o = softmax_attn(q, k, v)
        elif kind == "local":
            o = local_attn(q, k, v, ARGS.block)
        elif kind == "sparse":
            o = sparse_attn(q, k, v)
        elif kind == "longformer":
            o = longformer_attn(q, k, v)
        elif kind == "linformer":
            e = self.E[:, :N]
            o = softmax_attn(q, torch.matmul(e, k), torch.matmul(e, v))
        elif kind == "reformer":
            o = reformer_attn(q, v, self.rot)
        elif kind == "sinkhorn":
            o = sinkhorn_attn(q, k, v, self.sortnet)
        elif kind == "synthesizer":
            s = torch.matmul(q * self.dh ** -0.5, k.transpose(-2, -1)) + self.R[:, :N, :N]
            o = torch.matmul(torch.softmax(s, dim=-1), v)
        elif kind == "bigbird":
            o = bigbird_attn(q, k, v, self.rand)
        elif kind == "linear":
            o = linear_attn(q, k, v)
        else:
            o = performer_attn(q, k, v, self.omega)
        return self.wo(o.transpose(1, 2).reshape(B, N, D))


class Block(nn.Module):
    def __init__(self, a, gen):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(a.dim, eps=1e-6), nn.LayerNorm(a.dim, eps=1e-6)
        self.attn = Attention(a, gen)
        self.mlp = nn.Sequential(nn.Linear(a.dim, a.mlp), nn.GELU(), nn.Linear(a.mlp, a.dim))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class Classifier(nn.Module):
    def __init__(self, a, gen):
        super().__init__()
        self.tok = nn.Embedding(256, a.dim)
        self.pos = nn.Parameter(torch.randn(1, a.seq_len, a.dim, generator=gen) * 0.02)
        self.blocks = nn.ModuleList([Block(a, gen) for _ in range(a.layers)])
        self.ln = nn.LayerNorm(a.dim, eps=1e-6)
        self.head = nn.Sequential(nn.Linear(a.dim, a.mlp), nn.ReLU(), nn.Linear(a.mlp, 2))

    def forward(self, tokens):
        x = self.tok(tokens) + self.pos[:, :tokens.shape[1]]
        for b in self.blocks:
            x = b(x)
        return self.head(self.ln(x).mean(dim=1))


# ----------------------------------------------------------------------------- main
def main():
    a = ARGS
    for k, v in PRESETS[a.preset].items():
        setattr(a, k, v)
    if ARGS.batch:
        a.batch = ARGS.batch
    else:
        a.batch = PRESETS[a.preset]["batch"]
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    model = Classifier(a, gen).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-9)
    toks = [torch.randint(1, 256, (a.batch, a.seq_len), generator=gen) for _ in range(4)]
    labels = [torch.randint(0, 2, (a.batch,), generator=gen) for _ in range(4)]

    def step(i):
        c0, t0 = time.process_time(), time.perf_counter()
        loss = F.cross_entropy(model(toks[i % 4]), labels[i % 4])
        t1 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        return t3 - t0, t1 - t0, t2 - t1, t3 - t2, time.process_time() - c0

    t_start = time.perf_counter()
    done, last = 0, 0.0
    while done < max(1, a.warmup):  # warm-up: as lra_cpu bench (at most half the budget)
        last = step(done)[0]
        done += 1
        if time.perf_counter() - t_start + last > 0.5 * a.budget:
            break
    left = a.budget - (time.perf_counter() - t_start)
    steps = max(a.min_steps, min(a.steps, int(left / max(last, 1e-6))))
    res = [step(done + i) for i in range(steps)]
    med = statistics.median(r[0] for r in res)
    print(json.dumps({
        "twin": "torch", "torch": torch.__version__, "attn": a.attn, "preset": a.preset,
        "seq_len": a.seq_len, "batch": a.batch, "threads": a.threads,
        "params": sum(p.numel() for p in model.parameters()),
        "warmup_steps": done, "timed_steps": steps,
        "median_ms": round(med * 1e3, 2), "steps_per_s": round(1 / med, 4),
        "cpu_ms": round(statistics.median(r[4] for r in res) * 1e3, 2),
        "fwd_ms": round(statistics.median(r[1] for r in res) * 1e3, 2),
        "bwd_ms": round(statistics.median(r[2] for r in res) * 1e3, 2),
        "opt_ms": round(statistics.median(r[3] for r in res) * 1e3, 2),
        "step_ms": [round(r[0] * 1e3, 2) for r in res],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
        "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "GLIBC_TUNABLES", "OMP_WAIT_POLICY",
                                               "OPENBLAS_THREAD_TIMEOUT", "OPENBLAS_NUM_THREADS")},
    }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
