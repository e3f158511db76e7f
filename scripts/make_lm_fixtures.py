#!/usr/bin/python3
"""Fixtures for the language-model options: logit soft-capping (Gemma 2), z-loss (PaLM; Liger's and
flash-attn's lse_square_scale) and the per-row log-sum-exp, on sequence-shaped batches with padding,
computed with torch in float64 (Debian python3-torch 1.13).

Run:  /usr/bin/python3 scripts/make_lm_fixtures.py      Writes test/fixtures/languageModel.json.

Formulas (z: [B, T, V] flattened to N = B*T rows of V classes, y: [B, T] class indices, -100 = padding):
  z' = c * tanh(z / c)                          (softcap c; z' = z without one)
  lse_i = logsumexp(z'_i)                       (every row, padding included)
  ce_i = F.cross_entropy(z', y, weight, ignore_index, reduction='none', label_smoothing=eps) * s_i
  zl_i = beta * lse_i^2 * s_i * [y_i != ignore_index]           (s = sampleWeight or 1)
  mean:  sum(ce) / sum_i w[y_i] (non-ignored)  +  sum(zl) / count of non-ignored rows
  sum:   sum(ce) + sum(zl);     none: ce_i + zl_i
nll and smoothing are the same with label_smoothing 0 and 1. Gradients by autograd, through the tanh.
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(20261206)
OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "languageModel.json")
IGNORE = -100


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def case(name, b, t, v, eps=0.0, softcap=None, zloss=None, weight=None, sample=None, pad=0,
         reduction="mean", scale=2.0, ignore=IGNORE):
    n = b * t
    z = torch.tensor(rng.normal(0, scale, size=(n, v)), requires_grad=True)
    y = torch.tensor(rng.integers(0, v, size=n))
    for i in rng.choice(n, size=pad, replace=False):
        y[i] = ignore
    zc = softcap * torch.tanh(z / softcap) if softcap is not None else z
    w = None if weight is None else torch.tensor(weight)
    s = torch.ones(n) if sample is None else torch.tensor(sample)
    valid = (y != ignore).double()

    def rows(e):
        return F.cross_entropy(zc, y, weight=w, ignore_index=ignore, reduction="none", label_smoothing=e) * s

    ce, nll, smooth = rows(eps), rows(0.0), rows(1.0)
    lse = torch.logsumexp(zc, 1)
    zl = (zloss or 0.0) * lse**2 * s * valid
    ysafe = torch.where(y == ignore, torch.zeros_like(y), y)
    denom = float(((w[ysafe] if w is not None else torch.ones(n)) * valid).sum())
    count = float(valid.sum())
    if reduction == "mean":
        red = lambda a, d: a.sum() / d  # noqa: E731
        loss = red(ce, denom) + red(zl, count)
        parts = (red(nll, denom), red(smooth, denom), red(zl, count))
    elif reduction == "sum":
        loss = ce.sum() + zl.sum()
        parts = (nll.sum(), smooth.sum(), zl.sum())
    else:
        loss = ce + zl
        parts = (nll, smooth, zl)
    loss.sum().backward()
    options = {"labelSmoothing": eps, "reduction": reduction, "lse": True}
    if ignore != IGNORE:
        options["ignoreIndex"] = ignore
    if softcap is not None:
        options["softcap"] = softcap
    if zloss is not None:
        options["zLoss"] = zloss
    if weight is not None:
        options["weight"] = weight
    if sample is not None:
        options["sampleWeight"] = sample
    pick = lambda a: flat(a) if reduction == "none" else float(a)  # noqa: E731
    out = {
        "name": name,
        "shape": [b, t, v],
        "classes": v,
        "logits": flat(z),
        "target": [int(x) for x in y.tolist()],
        "targetKind": "index",
        "options": options,
        "loss": pick(loss),
        "nll": pick(parts[0]),
        "smoothing": pick(parts[1]),
        "denominator": denom,
        "lse": flat(lse),
        "grad": flat(z.grad),
    }
    if zloss is not None:
        out["zLoss"] = pick(parts[2])
    cases.append(out)


cases = []
for red in ("mean", "sum", "none"):
    case(f"z-loss 1e-2, padding, {red}", 2, 5, 7, eps=0.1, zloss=1e-2, pad=3, reduction=red)
    case(f"softcap 2, {red}", 3, 2, 6, eps=0.1, softcap=2.0, pad=1, reduction=red)
    case(f"softcap 5 + z-loss 1e-3, padding, {red}", 2, 6, 9, eps=0.1, softcap=5.0, zloss=1e-3, pad=4,
         reduction=red)
case("z-loss with class weights: mean divides it by the count, the CE by sum w[y]", 2, 4, 5, eps=0.1,
     zloss=0.05, pad=2, weight=[0.5, 1.0, 2.0, 1.5, 0.3])
case("z-loss with sample weights, sum", 2, 4, 5, eps=0.2, zloss=0.05, pad=1,
     sample=[0.5, 1.0, 2.0, 0.0, 3.0, 1.0, 1.5, 0.25], reduction="sum")
case("softcap 3 saturated (logits ~ 20)", 2, 3, 6, eps=0.1, softcap=3.0, zloss=1e-4, scale=20.0)
case("lse only, no smoothing", 1, 6, 8, pad=2, reduction="none")
case("PaLM z-loss 1e-4, Gemma 2 softcap 30, vocabulary 50", 2, 8, 50, eps=0.1, softcap=30.0, zloss=1e-4,
     pad=5, scale=8.0)
case("ignoreIndex -1", 2, 3, 4, eps=0.1, zloss=1e-2, pad=2, ignore=-1)

os.makedirs(os.path.dirname(OUT), exist_ok=True)
tmp = OUT + ".tmp"
with open(tmp, "w") as f:
    json.dump({"generator": "scripts/make_lm_fixtures.py", "torch": torch.__version__, "cases": cases}, f)
os.replace(tmp, OUT)
print(f"{len(cases)} cases -> {OUT}")
