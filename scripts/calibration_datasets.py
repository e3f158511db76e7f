"""The synthetic calibration datasets of the fixture generators (make_calibration_fixtures.py,
make_debiased_ece_fixtures.py), and the project's seeded RNG they are drawn with.

Each sample takes two mulberry32 draws u, v and only +, -, *, / on them, so that the TypeScript tests
regenerate the same numbers bit for bit (test/helpers/calibrationDatasets.ts mirrors `dataset`).
"""
import numpy as np


def mulberry32(seed):
    """The project's seeded RNG (src/random/mulberry32.ts): floats in [0, 1)."""
    state = [seed & 0xFFFFFFFF]

    def imul(a, b):
        return (a * b) & 0xFFFFFFFF

    def nxt():
        state[0] = (state[0] + 0x6D2B79F5) & 0xFFFFFFFF
        t = state[0]
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296

    return nxt


def sample(kind, u, v):
    """One (confidence f, outcome y) of dataset `kind` from the draws u, v."""
    if kind == 'calibrated':  # f uniform on [0.3, 1], y ~ Bernoulli(f): true error 0
        f = 0.3 + 0.7 * u
        p = f
    elif kind == 'overconfident':  # f near 1, accuracy f - 0.3
        f = 1 - 0.1 * u * u
        p = f - 0.3
    elif kind == 'confident':  # a sharp model: f near 1, nearly calibrated
        f = 1 - 0.05 * u * u * u
        p = f - 0.002
    elif kind == 'ones':  # every confidence exactly 1, 80 % correct
        f = 1.0
        p = 0.8
    elif kind == 'underconfident':  # f in [0.5, 0.9], accuracy f + 0.1
        f = 0.5 + 0.4 * u
        p = f + 0.1
    elif kind == 'edges':  # confidences on the bin edges m/10 and at 0
        f = float(int(u * 11)) / 10
        p = 0.5
    else:
        raise ValueError(kind)
    return f, 1.0 if v < p else 0.0


def dataset(kind, n, seed):
    """n samples of `kind` drawn from mulberry32(seed): (f, y) as float64 arrays."""
    rng = mulberry32(seed)
    f = np.zeros(n)
    y = np.zeros(n)
    for i in range(n):
        u = rng()
        v = rng()
        f[i], y[i] = sample(kind, u, v)
    return f, y
