#!/usr/bin/python3
"""
make_golden.py -- writes the golden files tests/golden/<mechanism>.safetensors that
tests/lra/test_golden.cpp holds lra_cpu's model to (as llm.c's test_gpt2 holds its C model to
PyTorch's numbers). Run once, by hand, after a deliberate change of a mechanism's math; the
build, the tests and CI only read its output (torch is not installed there).

  cmake --build build --target golden_projection      # the Performer's projection, drawn by lra_cpu
  /usr/bin/python3 tests/golden/make_golden.py        # Debian's interpreter has python3-torch

For each mechanism the PyTorch twin implements (apps/twin/torch_twin.py: transformer, local,
linformer, linear, performer) it builds a tiny lra_cpu model in PyTorch, in float64:

  tokens (B, N) -> embedding + learned positions -> L pre-LN blocks
     x += Wo attend(LN1(x) Wq, LN1(x) Wk, LN1(x) Wv)       (no biases; H heads of d = D / H)
     x += fc2(GELU_erf(fc1(LN2(x))))
  -> final LayerNorm -> mean over positions -> head fc2(ReLU(fc1(.))) -> logits (B, classes)
  loss = mean cross-entropy;  LayerNorm eps 1e-6;  dropout 0

(lra/include/lra/lra/train/model.hpp), with fixed random parameters under lra_cpu's checkpoint
names, a fixed batch and labels, and writes the parameters, the input, the logits, the loss and
every parameter's gradient (all float32):

  param/<name>   grad/<name>   input/tokens (i32 B x N)   input/lengths (i32 B)
  input/labels (i32 B)   output/logits (B x classes)   output/loss (1)
  performer: projection/<layer> (m x d), the random features lra_cpu draws for that layer
  __metadata__: the model's shape, mechanism and its --attn parameters

Attention comes from the twin: softmax_attention, local_attention, linear_attention, and the
twin's Linformer product E[:, :N] K. The Performer's FAVOR+ features follow lra_cpu's
formulation (attention/src/performer.cpp), not the twin's: the stabiliser is the max of the
whole exponent w.x' - |x'|^2/2, eps = 1e-6 on every feature and the normaliser guard
den + 2 eps where |den| <= eps; the twin (the bench's peer) subtracts the max of w.x' only and
uses eps = 1e-4. Its projection W is lra_cpu's own draw, written by the golden_projection tool
(tests/golden/golden_projection.cpp), so both sides use the same features.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "apps", "twin"))
os.environ.setdefault("OMP_NUM_THREADS", "1")  # the same bits on every run

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import torch_twin as twin  # noqa: E402

SHAPE = dict(vocab=20, max_len=32, dim=16, heads=2, mlp_dim=32, layers=2, classes=3, seed=0)
BATCH = 2
# --attn parameters per mechanism: several tiles / blocks over N = 32, k < N, m = 2 blocks of d.
MECHANISMS = {
    "transformer": {"tile": "8"},
    "local": {"block": "8"},
    "linformer": {"k": "8"},
    "linear": {},
    "performer": {"features": "16"},
}
LN_EPS = 1e-6
EPS = 1e-6  # linear and performer: lra_cpu's default eps


# ----------------------------------------------------------------------------- safetensors I/O
def save_safetensors(path, tensors, metadata):
    """tensors: list of (name, torch tensor f32 or i32). Written atomically (tmp + rename)."""
    dtypes = {torch.float32: "F32", torch.int32: "I32"}
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors:
        raw = t.detach().contiguous().numpy().tobytes()
        header[name] = {"dtype": dtypes[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text + b"".join(blobs))
    os.replace(path + ".tmp", path)


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    body = raw[8 + n:]
    out = {}
    for name, h in header.items():
        a, b = h["data_offsets"]
        dtype = {"F32": torch.float32, "I32": torch.int32}[h["dtype"]]
        out[name] = torch.frombuffer(bytearray(body[a:b]), dtype=dtype).reshape(h["shape"])
    return out


# ----------------------------------------------------------------------------- attention
def identity(p):
    return p


def favor_features(x, w, is_query):
    """lra_cpu's FAVOR+ features: m^-1/2 (exp(w.x' - |x'|^2/2 - c) + eps), c = max exponent.

    Queries: c = max_r w_r.x' - |x'|^2/2 per row, so |x'|^2/2 cancels, exactly (in the gradient
    too: only max_r w_r.x' is held constant). Keys: c = the max over positions and features,
    held constant. Detaching the whole query c instead adds an O(eps) term to the queries'
    gradient (2e-5 relative here), which lra_cpu leaves out."""
    d, m = x.shape[-1], w.shape[0]
    xs = x * d ** -0.25
    proj = torch.matmul(xs, w.t())
    if is_query:
        expo = proj - proj.amax(dim=-1, keepdim=True).detach()
    else:
        expo = proj - 0.5 * (xs * xs).sum(dim=-1, keepdim=True)
        expo = expo - expo.amax(dim=(-2, -1), keepdim=True).detach()
    return (torch.exp(expo) + EPS) * m ** -0.5


def performer_attention(q, k, v, w):
    qf, kf = favor_features(q, w, True), favor_features(k, w, False)
    den = torch.matmul(qf, kf.sum(dim=-2).unsqueeze(-1))                # (B,H,N,1)
    den = torch.where(den.abs() <= EPS, den + 2 * EPS, den)              # DenGuard::Lra
    return torch.matmul(qf, torch.matmul(kf.transpose(-2, -1), v)) / den


def attend(mech, opts, p, prefix, layer, q, k, v):
    n = q.shape[2]
    if mech == "transformer":
        return twin.softmax_attention(q, k, v, identity)
    if mech == "local":
        return twin.local_attention(q, k, v, int(opts["block"]), identity)
    if mech == "linformer":  # share_kv (lra_cpu's default): F = E
        e = p[prefix + "E"][:, :n]
        return twin.softmax_attention(q, torch.matmul(e, k), torch.matmul(e, v), identity)
    if mech == "linear":
        return twin.linear_attention(q, k, v, eps=EPS)
    if mech == "performer":
        return performer_attention(q, k, v, p[f"projection/{layer}"])
    raise ValueError(mech)


# ----------------------------------------------------------------------------- model
def forward(mech, opts, p, tokens):
    s = SHAPE
    b, n, h = tokens.shape[0], tokens.shape[1], s["heads"]

    def ln(x, name):
        return F.layer_norm(x, (s["dim"],), p[name + ".weight"], p[name + ".bias"], LN_EPS)

    def dense(x, name):
        return torch.matmul(x, p[name + ".weight"]) + p[name + ".bias"]

    x = p["embedding.weight"][tokens.long()] + p["positions.weight"][:n]
    for layer in range(s["layers"]):
        blk = f"encoder.blocks.{layer}."
        mix = blk + "mixer."
        y = ln(x, blk + "ln1")
        heads = [torch.matmul(y, p[mix + w + ".weight"]).reshape(b, n, h, -1).permute(0, 2, 1, 3)
                 for w in ("wq", "wk", "wv")]
        o = attend(mech, opts, p, mix, layer, *heads).permute(0, 2, 1, 3).reshape(b, n, -1)
        x = x + torch.matmul(o, p[mix + "wo.weight"])
        y = ln(x, blk + "ln2")
        x = x + dense(F.gelu(dense(y, blk + "mlp.fc1")), blk + "mlp.fc2")
    pooled = ln(x, "encoder.ln").mean(dim=1)
    return dense(torch.relu(dense(pooled, "head.fc1")), "head.fc2")


def make_params(mech, opts, gen):
    """Fixed random parameters under lra_cpu's names, float32 (order = the model's)."""
    s = SHAPE
    d, m, qkv = s["dim"], s["mlp_dim"], s["dim"]

    def rnd(*shape, std):
        return torch.randn(*shape, generator=gen) * std

    out = [("embedding.weight", rnd(s["vocab"], d, std=1.0)),
           ("positions.weight", rnd(s["max_len"], d, std=0.5))]

    def layer_norm(name):
        out.append((name + ".weight", 1.0 + rnd(d, std=0.1)))
        out.append((name + ".bias", rnd(d, std=0.1)))

    def linear(name, fan_in, fan_out, bias=True):
        out.append((name + ".weight", rnd(fan_in, fan_out, std=fan_in ** -0.5)))
        if bias:
            out.append((name + ".bias", rnd(fan_out, std=0.1)))

    for layer in range(s["layers"]):
        blk = f"encoder.blocks.{layer}."
        layer_norm(blk + "ln1")
        for w in ("wq", "wk", "wv"):
            linear(blk + "mixer." + w, d, qkv, bias=False)
        linear(blk + "mixer.wo", qkv, d, bias=False)
        if mech == "linformer":
            out.append((blk + "mixer.E", rnd(int(opts["k"]), s["max_len"], std=s["max_len"] ** -0.5)))
        layer_norm(blk + "ln2")
        linear(blk + "mlp.fc1", d, m)
        linear(blk + "mlp.fc2", m, d)
    layer_norm("encoder.ln")
    linear("head.fc1", d, m)
    linear("head.fc2", m, s["classes"])
    return [(k, v.float()) for k, v in out]


def projections(tool, opts):
    """lra_cpu's Performer projection of every layer, written by the golden_projection tool."""
    s = SHAPE
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "projection.safetensors")
        subprocess.run([tool, path, opts["features"], str(s["dim"] // s["heads"]), str(s["layers"]),
                        str(s["seed"])], check=True)
        w = load_safetensors(path)
    return [(f"projection/{i}", w[f"projection/{i}"]) for i in range(s["layers"])]


def golden(mech, tool, out_dir):
    opts = MECHANISMS[mech]
    s = SHAPE
    gen = torch.Generator().manual_seed(1234)
    params = make_params(mech, opts, gen)
    tokens = torch.randint(0, s["vocab"], (BATCH, s["max_len"]), generator=gen, dtype=torch.int32)
    lengths = torch.full((BATCH,), s["max_len"], dtype=torch.int32)  # the twin has no padding
    labels = torch.randint(0, s["classes"], (BATCH,), generator=gen, dtype=torch.int32)
    extra = projections(tool, opts) if mech == "performer" else []

    # The reference: float64 from the float32 values, so its own rounding is ~1e-16.
    p = {k: v.double().requires_grad_(not k.startswith("projection/")) for k, v in params + extra}
    logits = forward(mech, opts, p, tokens)
    loss = F.cross_entropy(logits, labels.long())
    loss.backward()

    tensors = [("param/" + k, v) for k, v in params] + extra
    tensors += [("input/tokens", tokens), ("input/lengths", lengths), ("input/labels", labels),
                ("output/logits", logits.detach().float()),
                ("output/loss", loss.detach().float().reshape(1))]
    tensors += [("grad/" + k, p[k].grad.float()) for k, _ in params]
    meta = {k: str(v) for k, v in s.items()}
    meta.update(mechanism=mech, mechanism_params=",".join(f"{k}={v}" for k, v in opts.items()),
                batch=str(BATCH), generator="tests/golden/make_golden.py",
                torch=torch.__version__, reference="float64, stored as float32")
    path = os.path.join(out_dir, mech + ".safetensors")
    save_safetensors(path, tensors, meta)
    print(f"{path}: loss {loss.item():.6f}, {len(params)} parameters, "
          f"{os.path.getsize(path)} bytes")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=here, help="folder of the golden files (default: tests/golden)")
    ap.add_argument("--projection-tool", default=os.path.join(ROOT, "build", "tests", "golden_projection"),
                    help="lra_cpu's golden_projection executable (default: build/tests/golden_projection)")
    ap.add_argument("--mechanisms", default=",".join(MECHANISMS), help="comma-separated subset")
    a = ap.parse_args()
    torch.set_num_threads(1)
    for mech in a.mechanisms.split(","):
        if mech not in MECHANISMS:
            sys.exit(f"make_golden.py: unknown mechanism '{mech}' (the twin has {', '.join(MECHANISMS)})")
        if mech == "performer" and not os.access(a.projection_tool, os.X_OK):
            sys.exit(f"make_golden.py: {a.projection_tool} not found: build it first "
                     "(cmake --build build --target golden_projection) or pass --projection-tool")
        golden(mech, a.projection_tool, a.out)


if __name__ == "__main__":
    main()
