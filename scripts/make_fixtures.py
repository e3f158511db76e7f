#!/usr/bin/python3
"""Generate the conformance fixtures of labelsmooth from PyTorch 1.13 (Debian python3-torch).

Run:  /usr/bin/python3 scripts/make_fixtures.py
Writes test/fixtures/crossEntropy.json and test/fixtures/binaryCrossEntropy.json. The tests read these
files and never need PyTorch.

Sources of truth:
  * "torch" cases: F.cross_entropy(..., label_smoothing=eps) / F.binary_cross_entropy_with_logits itself,
    loss and autograd gradient, in float64.
  * "closed-form" cases (conventions PyTorch does not have: non-target, prior, per-sample noise, class mask,
    per-example weights, sample weights, normalizer): the dense smoothed target p' is built explicitly and
    the loss is -sum_c gamma_c log softmax(z)_c evaluated by torch in float64, gradient by autograd.
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(20261127)
OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures")


def enc(x):
    """JSON-safe floats: infinities as strings."""
    if isinstance(x, float) and math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if isinstance(x, list):
        return [enc(v) for v in x]
    return x


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def logits_of(n, k, scale=3.0):
    return torch.tensor(rng.normal(0, scale, size=(n, k)))


cases = []


def torch_case(name, z, y, eps, reduction, weight=None, ignore_index=-100, soft=False):
    """PyTorch itself: value and gradient of F.cross_entropy; nll (eps=0) and smoothing (eps=1) parts."""
    z = z.clone().requires_grad_(True)
    w = None if weight is None else torch.tensor(weight)
    loss = F.cross_entropy(z, y, weight=w, ignore_index=ignore_index, reduction=reduction, label_smoothing=eps)
    total = loss.sum()
    total.backward()
    with torch.no_grad():
        nll = F.cross_entropy(z, y, weight=w, ignore_index=ignore_index, reduction=reduction, label_smoothing=0.0)
        smooth = F.cross_entropy(z, y, weight=w, ignore_index=ignore_index, reduction=reduction, label_smoothing=1.0)
    opts = {"labelSmoothing": eps, "reduction": reduction}
    if weight is not None:
        opts["weight"] = weight
    if ignore_index != -100:
        opts["ignoreIndex"] = ignore_index
    n, k = z.shape
    cases.append({
        "name": name, "source": "torch", "classes": k,
        "logits": enc(flat(z)),
        "target": flat(y) if soft else [int(v) for v in y.tolist()],
        "targetKind": "probs" if soft else "index",
        "options": opts,
        "loss": flat(loss) if reduction == "none" else float(loss),
        "nll": flat(nll) if reduction == "none" else float(nll),
        "smoothing": flat(smooth) if reduction == "none" else float(smooth),
        "grad": flat(z.grad),
    })


# --- PyTorch: class indices, uniform noise ---
for k in (2, 5, 10, 100):
    for eps in (0.0, 0.1, 0.3, 1.0):
        for reduction in ("mean", "sum", "none"):
            n = 7
            torch_case(f"sparse K={k} eps={eps} {reduction}", logits_of(n, k), torch.tensor(rng.integers(0, k, n)), eps, reduction)

# --- PyTorch: class weights ---
for reduction in ("mean", "sum", "none"):
    k, n = 6, 9
    w = [float(v) for v in rng.uniform(0.1, 3.0, k)]
    torch_case(f"weighted {reduction}", logits_of(n, k), torch.tensor(rng.integers(0, k, n)), 0.2, reduction, weight=w)

# --- PyTorch: ignore_index (default and custom), with and without weights ---
for reduction in ("mean", "sum", "none"):
    k, n = 5, 8
    y = torch.tensor(rng.integers(0, k, n))
    y[[1, 4]] = -100
    torch_case(f"ignore -100 {reduction}", logits_of(n, k), y, 0.1, reduction)
    w = [float(v) for v in rng.uniform(0.5, 2.0, k)]
    torch_case(f"ignore -100 weighted {reduction}", logits_of(n, k), y, 0.15, reduction, weight=w)
    y2 = torch.tensor(rng.integers(0, k, n))
    y2[[0, 5]] = 3
    torch_case(f"ignore 3 {reduction}", logits_of(n, k), y2, 0.1, reduction, ignore_index=3)

# --- PyTorch: probability targets (mixup-like), smoothed too ---
for reduction in ("mean", "sum", "none"):
    for weighted in (False, True):
        k, n = 7, 6
        a = rng.dirichlet(np.ones(k) * 0.3, n)
        w = [float(v) for v in rng.uniform(0.2, 2.0, k)] if weighted else None
        torch_case(f"soft {'weighted ' if weighted else ''}{reduction}", logits_of(n, k), torch.tensor(a), 0.1, reduction, weight=w, soft=True)

# --- PyTorch: extreme logits ---
k = 8
z = torch.tensor([
    [1e4, -1e4, 0, 0, 0, 0, 0, 0],
    [1e4 + 1, 1e4, 1e4 - 3, 1e4, 1e4, 1e4, 1e4, 1e4],
    [-1e4, -1e4 + 2, -1e4, -1e4, -1e4, -1e4, -1e4, -1e4],
    [5000, -5000, 2500, -2500, 1, -1, 0, 9999],
    [0, 0, 0, 0, 0, 0, 0, 0],
])
for eps in (0.0, 0.1):
    for reduction in ("mean", "none"):
        torch_case(f"extreme eps={eps} {reduction}", z, torch.tensor([0, 1, 1, 7, 3]), eps, reduction)
torch_case("extreme wrong class", z, torch.tensor([1, 2, 0, 1, 3]), 0.1, "none")

# --- a float32 case (tests compare the float32 input path) ---
z32 = logits_of(16, 12)
torch_case("float32-representable logits", z32.float().double(), torch.tensor(rng.integers(0, 12, 16)), 0.1, "mean")
cases[-1]["float32"] = True


# --- closed forms: dense p', then -sum gamma log q with torch ---
def closed_case(name, z, y, eps, reduction="mean", noise="uniform", mask=None, weight=None,
                weight_mode="per-class", sample_weight=None, ignore_index=-100, normalizer=None, soft=None):
    n, k = z.shape
    maskv = torch.ones(n, k, dtype=torch.bool)
    if mask is not None:
        m = torch.tensor(mask, dtype=torch.bool)
        maskv = m.reshape(-1, k).expand(n, k) if m.numel() == k else m.reshape(n, k)
    if soft is not None:
        t = torch.tensor(soft)
        active = torch.ones(n, dtype=torch.bool)
    else:
        yy = torch.tensor(y)
        active = yy != ignore_index
        t = torch.zeros(n, k)
        for i in range(n):
            if active[i]:
                t[i, yy[i]] = 1.0
    ka = maskv.sum(1, keepdim=True).double()
    if noise == "uniform":
        u = maskv.double() / ka
    elif noise == "non-target":
        u = maskv.double() * (1 - t) / (ka - 1)
    else:
        nz = torch.tensor(noise).reshape(-1, k).expand(n, k) * maskv.double()
        u = nz / nz.sum(1, keepdim=True)
    cw = torch.ones(k) if (weight is None or weight_mode == "per-example") else torch.tensor(weight)
    rw = torch.ones(n) if sample_weight is None else torch.tensor(sample_weight)
    if weight is not None and weight_mode == "per-example":
        rw = rw * (t * torch.tensor(weight)).sum(1)
    rw = rw * active.double()
    zz = z.clone().requires_grad_(True)
    masked_z = torch.where(maskv, zz, torch.tensor(-math.inf))
    logq = torch.log_softmax(masked_z, 1)
    logq = torch.where(maskv, logq, torch.zeros(()))
    nll_rows = -(cw * t * logq).sum(1) * rw
    sm_rows = -(cw * u * logq).sum(1) * rw
    rows = (1 - eps) * nll_rows + eps * sm_rows
    if soft is not None:
        denom = float(n)
    elif weight is not None and weight_mode == "per-class":
        denom = float(sum(weight[int(v)] for v in y if v != ignore_index))
    else:
        denom = float(int(active.sum()))
    if reduction == "none":
        loss, nll, sm, total = rows, nll_rows, sm_rows, rows.sum()
    else:
        d = normalizer if normalizer is not None else (denom if reduction == "mean" else 1.0)
        if d == 0:
            d = math.inf  # all rows ignored: loss 0, gradient 0
        loss, nll, sm = rows.sum() / d, nll_rows.sum() / d, sm_rows.sum() / d
        total = loss
    total.backward()
    grad = torch.where(maskv, zz.grad, torch.zeros(()))
    opts = {"labelSmoothing": eps, "reduction": reduction}
    if noise != "uniform":
        opts["noise"] = noise
    if mask is not None:
        opts["classMask"] = mask
    if weight is not None:
        opts["weight"] = weight
        if weight_mode != "per-class":
            opts["weightMode"] = weight_mode
    if sample_weight is not None:
        opts["sampleWeight"] = sample_weight
    if ignore_index != -100:
        opts["ignoreIndex"] = ignore_index
    if normalizer is not None:
        opts["normalizer"] = normalizer
    cases.append({
        "name": name, "source": "closed-form", "classes": k,
        "logits": enc(flat(z)),
        "target": [float(v) for v in np.asarray(soft).reshape(-1)] if soft is not None else [int(v) for v in y],
        "targetKind": "probs" if soft is not None else "index",
        "options": opts,
        "loss": flat(loss) if reduction == "none" else float(loss),
        "nll": flat(nll) if reduction == "none" else float(nll),
        "smoothing": flat(sm) if reduction == "none" else float(sm),
        "denominator": denom,
        "grad": flat(grad),
    })


for reduction in ("mean", "sum", "none"):
    n, k = 6, 5
    y = [int(v) for v in rng.integers(0, k, n)]
    closed_case(f"non-target {reduction}", logits_of(n, k), y, 0.1, reduction, noise="non-target")
    prior = rng.dirichlet(np.ones(k))
    closed_case(f"prior {reduction}", logits_of(n, k), y, 0.2, reduction, noise=[float(v) for v in prior])
    per = rng.dirichlet(np.ones(k), n)
    closed_case(f"per-sample {reduction}", logits_of(n, k), y, 0.3, reduction, noise=[float(v) for v in per.reshape(-1)])
    w = [float(v) for v in rng.uniform(0.2, 2.0, k)]
    closed_case(f"per-example weight {reduction}", logits_of(n, k), y, 0.1, reduction, weight=w, weight_mode="per-example")
    sw = [float(v) for v in rng.uniform(0.0, 2.0, n)]
    closed_case(f"sample weight + class weight {reduction}", logits_of(n, k), y, 0.1, reduction, weight=w, sample_weight=sw)
    closed_case(f"non-target weighted {reduction}", logits_of(n, k), y, 0.1, reduction, noise="non-target", weight=w)

# Class mask: masked classes hold -inf (constrained vocabulary); shared and per-row masks.
n, k = 5, 6
z = logits_of(n, k)
mask = [1, 1, 0, 1, 0, 1]
zm = z.clone()
zm[:, [2, 4]] = -math.inf
y = [0, 1, 3, 5, 0]
for noise in ("uniform", "non-target", [0.1, 0.2, 0.3, 0.1, 0.1, 0.2]):
    label = noise if isinstance(noise, str) else "prior"
    closed_case(f"mask -inf {label}", zm, y, 0.1, "mean", noise=noise, mask=mask)
rowmask = [int(v) for v in (rng.uniform(0, 1, (n, k)) < 0.6).reshape(-1)]
rm = np.array(rowmask).reshape(n, k)
for i in range(n):
    rm[i, y[i]] = 1
rowmask = [int(v) for v in rm.reshape(-1)]
closed_case("per-row mask", z, y, 0.2, "sum", mask=rowmask, weight=[1.0, 2.0, 0.5, 1.0, 1.5, 0.7])
# Soft targets with closed-form conventions.
soft = rng.dirichlet(np.ones(k) * 0.5, n)
closed_case("soft non-target", z, None, 0.1, "mean", noise="non-target", soft=soft)
closed_case("soft per-example weight", z, None, 0.1, "sum", weight=[1.0, 2.0, 0.5, 1.0, 1.5, 0.7],
            weight_mode="per-example", soft=soft)
# Normalizer, and all rows ignored under mean.
closed_case("normalizer", logits_of(6, 4), [0, 1, -100, 3, 2, 1], 0.1, "sum", normalizer=37.0)
closed_case("all ignored mean", logits_of(3, 4), [-100, -100, -100], 0.1, "mean")

os.makedirs(OUT, exist_ok=True)
with open(os.path.join(OUT, "crossEntropy.json"), "w") as f:
    json.dump({"generator": "scripts/make_fixtures.py", "torch": torch.__version__, "cases": cases}, f)

# --- binary cross-entropy: PyTorch BCE-with-logits on Keras-smoothed targets y(1-eps)+eps/2 ---
bcases = []
for eps in (0.0, 0.1, 0.25):
    for reduction in ("mean", "sum", "none"):
        for weighted in (False, True):
            n, k = 5, 4
            z = torch.tensor(rng.normal(0, 4, (n, k)))
            z[0, 0] = 60.0
            z[1, 1] = -60.0
            y = torch.tensor((rng.uniform(0, 1, (n, k)) < 0.5).astype(float))
            w = torch.tensor(rng.uniform(0.1, 2.0, k)) if weighted else None
            zz = z.clone().requires_grad_(True)
            ys = y * (1 - eps) + eps / 2
            loss = F.binary_cross_entropy_with_logits(zz, ys, weight=w, reduction=reduction)
            loss.sum().backward()
            with torch.no_grad():
                nll = F.binary_cross_entropy_with_logits(z, y, weight=w, reduction=reduction)
                sm = F.binary_cross_entropy_with_logits(z, torch.full_like(y, 0.5), weight=w, reduction=reduction)
            opts = {"labelSmoothing": eps, "reduction": reduction}
            if w is not None:
                opts["weight"] = flat(w)
            bcases.append({
                "name": f"bce eps={eps} {reduction}{' weighted' if weighted else ''}", "source": "torch", "classes": k,
                "logits": flat(z), "target": flat(y), "options": opts,
                "loss": flat(loss) if reduction == "none" else float(loss),
                "nll": flat(nll) if reduction == "none" else float(nll),
                "smoothing": flat(sm) if reduction == "none" else float(sm),
                "grad": flat(zz.grad),
            })
with open(os.path.join(OUT, "binaryCrossEntropy.json"), "w") as f:
    json.dump({"generator": "scripts/make_fixtures.py", "torch": torch.__version__, "cases": bcases}, f)
print(f"wrote {len(cases)} cross-entropy and {len(bcases)} binary cases")
