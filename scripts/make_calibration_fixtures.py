#!/usr/bin/python3
"""Reference values for the calibration metrics: writes test/fixtures/calibration.json.

Run with Debian's numpy/scipy: /usr/bin/python3 scripts/make_calibration_fixtures.py

- smECE: a re-implementation, written for this project from reading the algorithm of relplot
  (github apple/ml-calibration, src/relplot/metrics.py and kernels.py; it is not on PyPI here), with
  relplot's defaults: grid of E = max(2000, round(20/s))//2 + 1 points, linear splitting of each sample
  between its two grid neighbours, E Gaussian taps at m/(E-1) - 1/2 (cut at 1/2, not renormalized),
  mirror extension about the end points, scipy.signal.convolve 'valid', linear interpolation onto
  T = max(round(10/s), 200) mesh points, smECE_s = sum|A_r| / sum(A_1 + 1e-4), bisection (s = 1, then 10
  halvings; s < 0.001 or s < smECE_s means too small). Also the continuous definition of the paper
  (exact reflected Gaussian kernel, fine trapezoid quadrature) at the same s, for comparison.
- classwise ECE (Kull et al. 2019), AURC (Geifman & El-Yaniv 2017), top-label and positive-class ECE:
  direct numpy transcriptions of the definitions, independent of the TypeScript code.

Datasets: calibration_datasets.py (mulberry32 draws, mirrored bit for bit by the TypeScript tests).
"""
import json
import os

import numpy as np
import scipy.signal
from calibration_datasets import dataset

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'calibration.json')


# --- relplot's algorithm ----------------------------------------------------------------------------
def py_round(x):
    return int(round(x))  # Python rounds half to even, as relplot does


def grid_split(f, w, e):
    values = np.zeros(e)
    cell = (f * (e - 1)).astype(int).clip(0, e - 2)
    frac = f * (e - 1) - cell
    np.add.at(values, cell, (1 - frac) * w)
    np.add.at(values, cell + 1, frac * w)
    return values


def gaussian_taps(s, e):
    t = np.linspace(0, 1, e)
    return np.exp(-(t - 0.5) * (t - 0.5) / (2 * s**2)) / (np.sqrt(2 * np.pi) * s)


def reflected_smooth(values, s):
    e = len(values)
    extended = np.concatenate([values[::-1][:-1], values, values[::-1][1:]])
    full = scipy.signal.convolve(extended, gaussian_taps(s, e), 'valid')
    return full[e // 2 : e // 2 + e]


def interpolate(t, g):
    e = len(g)
    cell = (t * (e - 1)).astype(int).clip(0, e - 2)
    rho = (t - cell / (e - 1)) * (e - 1)
    return g[cell] * (1 - rho) + g[cell + 1] * rho


def smooth_apply(f, w, s, t):
    e = max(2000, py_round(20 / s)) // 2 + 1
    return interpolate(t, reflected_smooth(grid_split(f, w, e), s))


def smece_at(f, y, s):
    t = np.linspace(0, 1, max(py_round(10 / s), 200))
    a_r = smooth_apply(f, f - y, s, t)
    dens = smooth_apply(f, np.ones_like(f), s, t) + 1e-4
    return float(np.sum(np.abs(a_r / dens) * dens) / np.sum(dens))


def smece(f, y):
    def too_small(s):
        return s < 0.001 or s < smece_at(f, y, s)

    hi = 1.0
    if not too_small(1.0):
        lo = 0.0
        for _ in range(10):
            mid = (hi + lo) / 2
            if too_small(mid):
                lo = mid
            else:
                hi = mid
    return smece_at(f, y, hi), hi


def reliability(f, y, s, points=200):
    t = np.linspace(0, 1, points)
    a_r = smooth_apply(f, f - y, s, t)
    a_1 = smooth_apply(f, np.ones_like(f), s, t)
    return t, t - a_r / (a_1 + 1e-4), a_1 / len(f)


def smece_continuous(f, y, s, mesh=20001):
    """The paper's integral with the exact reflected Gaussian kernel (images at -f, 2 - f, +-2 ...)."""
    t = np.linspace(0, 1, mesh)
    signed = np.zeros(mesh)
    for lo in range(0, len(f), 100):
        fc, rc = f[lo : lo + 100], (f - y)[lo : lo + 100]
        k = np.zeros((mesh, len(fc)))
        for shift in (-2, 0, 2):
            for sign in (1, -1):
                k += np.exp(-((t[:, None] - (shift + sign * fc[None, :])) ** 2) / (2 * s * s))
        signed += k @ rc
    integrand = np.abs(signed) / (np.sqrt(2 * np.pi) * s * len(f))
    return float(np.trapz(integrand, t))


# --- binned metrics ---------------------------------------------------------------------------------
def bin_index(c, m):
    # ((b-1)/M, b/M], 0 in the first bin; decided with exact comparisons against b/M.
    b = np.ceil(c * m).astype(int) - 1
    b = np.where((b >= 0) & (c <= b / m), b - 1, b)
    b = np.where(c > (b + 1) / m, b + 1, b)
    return b.clip(0, m - 1)


def binned_ece(conf, outcome, m):
    b = bin_index(conf, m)
    total = 0.0
    for j in range(m):
        sel = b == j
        if sel.any():
            total += sel.sum() / len(conf) * abs(outcome[sel].mean() - conf[sel].mean())
    return float(total)


def classwise_ece(q, labels, m):
    k = q.shape[1]
    return float(np.mean([binned_ece(q[:, c], (labels == c).astype(float), m) for c in range(k)]))


def aurc(conf, correct):
    order = np.argsort(-conf, kind='stable')
    errors = 1 - correct[order]
    risk = np.cumsum(errors) / np.arange(1, len(conf) + 1)
    return float(risk.mean()), risk


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def main():
    smooth_cases = []
    for name, kind, n, seed in [
        ('calibrated n=2000', 'calibrated', 2000, 1),
        ('calibrated n=200', 'calibrated', 200, 2),
        ('over-confident n=1000', 'overconfident', 1000, 3),
        ('sharp, nearly calibrated n=10000', 'confident', 10000, 4),
        ('all confidences 1, n=500', 'ones', 500, 5),
        ('under-confident n=300', 'underconfident', 300, 6),
        ('single example', 'calibrated', 1, 7),
        ('two examples', 'overconfident', 2, 8),
    ]:
        f, y = dataset(kind, n, seed)
        value, s = smece(f, y)
        t, curve, density = reliability(f, y, s)
        fixed = [{'bandwidth': b, 'smoothEce': smece_at(f, y, b)} for b in (0.05, 0.1, 0.01, 0.003)]
        smooth_cases.append(
            {
                'name': name,
                'kind': kind,
                'n': n,
                'seed': seed,
                'head': [f[: min(n, 3)].tolist(), y[: min(n, 3)].tolist()],
                'smoothEce': value,
                'bandwidth': s,
                'fixed': fixed,
                'continuous': smece_continuous(f, y, s) if n <= 2000 else None,
                'curve': curve[::20].tolist(),
                'density': density[::20].tolist(),
            }
        )
        print(f'{name}: smECE {value:.6f} at sigma {s}')

    # Multi-class predictions for classwise ECE, AURC, top-label ECE (stored explicitly: small).
    multi = []
    rng = np.random.default_rng(10)
    for name, n, k, scale in [('random 40x4', 40, 4, 2.0), ('random 300x10', 300, 10, 4.0), ('ties 12x3', 12, 3, 0)]:
        labels = rng.integers(0, k, size=n)
        if scale == 0:  # ties in confidence: a few distinct logit rows repeated
            base = np.array([[2.0, 0, 0], [0, 1.0, 0], [1.0, 1.0, 0]])
            z = base[np.arange(n) % 3]
        else:
            z = rng.normal(size=(n, k)) * scale
            z[np.arange(n), labels] += scale * (rng.random(n) < 0.6)
        q = softmax(z)
        conf = q.max(axis=1)
        pred = z.argmax(axis=1)
        correct = (pred == labels).astype(float)
        a, risk = aurc(conf, correct)
        multi.append(
            {
                'name': name,
                'classes': k,
                'logits': z.ravel().tolist(),
                'labels': labels.tolist(),
                'classwiseEce15': classwise_ece(q, labels, 15),
                'classwiseEce5': classwise_ece(q, labels, 5),
                'ece15': binned_ece(conf, correct, 15),
                'aurc': a,
                'risk': risk.tolist(),
                'smoothEce': smece(conf, correct)[0],
            }
        )

    # Binary / multi-label: positive-class ECE on sigmoid probabilities.
    z = rng.normal(size=60) * 3
    p = 1 / (1 + np.exp(-z))
    t = (rng.random(60) < 1 / (1 + np.exp(-z / 2))).astype(float)
    binary = {
        'logits': z.tolist(),
        'target': t.tolist(),
        'ece15': binned_ece(p, t, 15),
        'ece10': binned_ece(p, t, 10),
        'brier': float(np.mean((p - t) ** 2)),
        'nll': float(np.mean(np.logaddexp(0, z) - t * z)),
        'smoothEce': smece(p, t)[0],
    }

    tmp = OUT + '.tmp'
    with open(tmp, 'w') as fh:
        json.dump(
            {
                'generator': 'scripts/make_calibration_fixtures.py',
                'numpy': np.__version__,
                'scipy': scipy.__version__,
                'smoothEce': smooth_cases,
                'multiclass': multi,
                'binary': binary,
            },
            fh,
        )
    os.replace(tmp, OUT)
    print('wrote', OUT)


if __name__ == '__main__':
    main()
