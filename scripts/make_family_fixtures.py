#!/usr/bin/python3
"""Fixtures for the label-smoothing family: confidence penalty, focal loss (Keras semantics),
FLSD-53 and class-conditional noise, computed with torch in float64 (Debian python3-torch 1.13).

Run:  /usr/bin/python3 scripts/make_family_fixtures.py      Writes test/fixtures/family.json.

Formulas (q = softmax(z) over the row, p' = (1-eps)*p + eps*u, w = per-class weights or 1, r = row weight):
  * confidence penalty (Pereyra et al. 2017):  row = sum_c w_c p'_c (-log q_c) - beta * H_w(q),
        H_w(q) = -sum_c w_c q_c log q_c  (weighted like the smoothing term)
  * focal (Lin et al. 2017) with smoothing, Keras CategoricalFocalCrossentropy(alpha, gamma, label_smoothing):
        row = -alpha * sum_c p'_c (1 - q_c)^gamma log q_c
    Keras clips q to [1e-7, 1 - 1e-7] first; every case here is checked to stay inside that range, where the
    clip changes nothing, so these values are Keras' too.
  * FLSD-53 (Mukhoti et al. 2020): gamma_i = 5 if q_{i,y_i} < 0.2 else 3, from the detached prediction.
  * class-conditional noise: u(.|y) = S[y] (S: K x K, rows are distributions); for soft targets u = p^T S.
'mean' divides by sum_i w[y_i] over rows (class indices) or by N (probabilities). Gradients by autograd.
"""
import json
import os

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(20261128)
OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "family.json")


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def case(name, n, k, eps=0.0, beta=None, gamma=None, alpha=None, weight=None, soft=False, matrix=False,
         reduction="mean", scale=2.0):
    z = torch.tensor(rng.normal(0, scale, size=(n, k)), requires_grad=True)
    if soft:
        t = rng.random((n, k)) ** 3 + 1e-3
        p = torch.tensor(t / t.sum(1, keepdims=True))
        y = None
    else:
        y = torch.tensor(rng.integers(0, k, size=n))
        p = torch.nn.functional.one_hot(y, k).double()
    S = None
    if matrix:
        s = rng.random((k, k)) + 0.05
        S = torch.tensor(s / s.sum(1, keepdims=True))
        u = p @ S
    else:
        u = torch.full((n, k), 1.0 / k)
    w = torch.ones(k) if weight is None else torch.tensor(weight)
    logq = torch.log_softmax(z, 1)
    q = logq.exp()
    if gamma is not None:
        qd = q.detach()
        assert float(qd.min()) > 1e-7 and float(qd.max()) < 1 - 1e-7, "outside Keras' clip range"
        if gamma == "flsd-53":
            qy = (qd * p).sum(1) if soft else qd[torch.arange(n), y]
            g = torch.where(qy < 0.2, torch.tensor(5.0), torch.tensor(3.0))[:, None]
        else:
            g = torch.tensor(float(gamma))
        mod = (1 - q) ** g * (1.0 if alpha is None else alpha)
    else:
        mod = torch.ones_like(q)
    part = lambda a: -(w * a * mod * logq).sum(1)  # noqa: E731
    nll = part(p)
    smooth = part(u)
    rows = (1 - eps) * nll + eps * smooth
    entropy = -(w * q * logq).sum(1)
    if beta is not None:
        rows = rows - beta * entropy
    denom = float(n) if soft else float(w[y].sum())
    if reduction == "mean":
        loss, nll_r, smooth_r, ent_r = rows.sum() / denom, nll.sum() / denom, smooth.sum() / denom, entropy.sum() / denom
    elif reduction == "sum":
        loss, nll_r, smooth_r, ent_r = rows.sum(), nll.sum(), smooth.sum(), entropy.sum()
    else:
        loss, nll_r, smooth_r, ent_r = rows, nll, smooth, entropy
    loss.sum().backward()
    options = {"labelSmoothing": eps, "reduction": reduction}
    if beta is not None:
        options["confidencePenalty"] = beta
    if gamma is not None:
        options["focalGamma"] = gamma
    if alpha is not None:
        options["focalAlpha"] = alpha
    if weight is not None:
        options["weight"] = weight
    if matrix:
        options["noise"] = {"matrix": flat(S)}
    out = {
        "name": name,
        "classes": k,
        "logits": flat(z),
        "target": flat(p) if soft else [int(v) for v in y.tolist()],
        "targetKind": "probs" if soft else "index",
        "options": options,
        "loss": flat(loss) if reduction == "none" else float(loss),
        "nll": flat(nll_r) if reduction == "none" else float(nll_r),
        "smoothing": flat(smooth_r) if reduction == "none" else float(smooth_r),
        "grad": flat(z.grad),
    }
    if beta is not None:
        out["entropy"] = flat(ent_r) if reduction == "none" else float(ent_r)
    cases.append(out)


cases = []
for red in ("mean", "sum", "none"):
    case(f"confidence penalty {red}", 6, 5, eps=0.1, beta=0.3, reduction=red)
    case(f"focal keras alpha 0.25 gamma 2 {red}", 6, 5, eps=0.1, gamma=2.0, alpha=0.25, reduction=red)
    case(f"flsd-53 {red}", 8, 4, eps=0.05, gamma="flsd-53", reduction=red, scale=1.5)
    case(f"class-conditional noise {red}", 6, 5, eps=0.2, matrix=True, reduction=red)
case("confidence penalty without smoothing", 5, 7, beta=0.5)
case("confidence penalty, class weights", 6, 5, eps=0.1, beta=0.2, weight=[0.5, 1.0, 2.0, 1.5, 0.3])
case("confidence penalty, soft targets", 5, 4, eps=0.2, beta=0.4, soft=True)
case("focal gamma 0 = cross-entropy", 5, 6, eps=0.1, gamma=0.0)
case("focal gamma 0.5 (fractional)", 5, 6, eps=0.1, gamma=0.5)
case("focal default alpha, soft targets", 5, 4, eps=0.1, gamma=2.0, soft=True)
case("focal with class weights", 6, 5, eps=0.1, gamma=1.0, alpha=0.25, weight=[0.5, 1.0, 2.0, 1.5, 0.3])
case("focal + confidence penalty", 6, 5, eps=0.1, gamma=2.0, beta=0.1)
case("flsd-53 large logits (both gammas)", 12, 5, gamma="flsd-53", scale=1.0)
case("class-conditional noise, soft targets", 5, 4, eps=0.3, matrix=True, soft=True)
case("class-conditional noise + focal", 6, 5, eps=0.2, matrix=True, gamma=2.0, alpha=0.25)

os.makedirs(os.path.dirname(OUT), exist_ok=True)
tmp = OUT + ".tmp"
with open(tmp, "w") as f:
    json.dump({"generator": "scripts/make_family_fixtures.py", "torch": torch.__version__, "cases": cases}, f)
os.replace(tmp, OUT)
print(f"{len(cases)} cases -> {OUT}")
