#!/usr/bin/python3
"""Reference values for the debiased calibration error: writes test/fixtures/debiasedEce.json.

Run with Debian's numpy: /usr/bin/python3 scripts/make_debiased_ece_fixtures.py

The estimator of Kumar, Liang & Ma 2019 ("Verified Uncertainty Calibration", NeurIPS), transcribed from
the definitions of their library (github p-lambda/verified_calibration, calibration/utils.py:
`bin`, `get_bin_probs`, `difference_mean`, `unbiased_square_ce`, `unbiased_l2_ce`) with numpy, independent
of the TypeScript code. The bins are equal-width with upper edges m/M (bisect_left on the upper edges, as
their `bin` does: a confidence on an edge belongs to the bin below it; 0 to the first bin).

Datasets are drawn with mulberry32 (the project's seeded RNG) using only +, -, *, / so that the
TypeScript test regenerates the same numbers bit for bit.
"""
import bisect
import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'debiasedEce.json')


def mulberry32(seed):
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


# --- datasets (mirrored in test/debiasedEce.test.ts) ------------------------------------------------
def dataset(kind, n, seed):
    rng = mulberry32(seed)
    f = []
    y = []
    for _ in range(n):
        u = rng()
        v = rng()
        if kind == 'calibrated':  # f uniform on [0.3, 1], y ~ Bernoulli(f): true error 0
            fi = 0.3 + 0.7 * u
            yi = 1 if v < fi else 0
        elif kind == 'overconfident':  # f near 1, accuracy f - 0.3
            fi = 1 - 0.1 * u * u
            yi = 1 if v < fi - 0.3 else 0
        elif kind == 'confident':  # a sharp model: f near 1, nearly calibrated
            fi = 1 - 0.05 * u * u * u
            yi = 1 if v < fi - 0.002 else 0
        elif kind == 'edges':  # confidences on the bin edges m/10 and at 0
            fi = float(int(u * 11)) / 10
            yi = 1 if v < 0.5 else 0
        else:
            raise ValueError(kind)
        f.append(fi)
        y.append(yi)
    return f, y


# --- Kumar et al.'s estimator ---------------------------------------------------------------------
def bin_data(data, bins):
    # calibration/utils.py `bin`: bins are the upper edges; bisect_left puts an edge value in the lower bin.
    binned = [[] for _ in bins]
    for prob, label in data:
        binned[bisect.bisect_left(bins, prob)].append((prob, label))
    return binned


def difference_mean(data):
    a = np.array(data)
    return np.mean(a[:, 0]) - np.mean(a[:, 1])


def get_bin_probs(binned):
    sizes = [len(b) for b in binned]
    total = sum(sizes)
    return [s * 1.0 / total for s in sizes]


def unbiased_square_ce(binned):
    def bin_error(data):
        if len(data) < 2:
            return 0.0
        biased = abs(difference_mean(data)) ** 2
        mean_label = np.mean([x[1] for x in data])
        return biased - mean_label * (1.0 - mean_label) / (len(data) - 1.0)

    return float(np.dot(get_bin_probs(binned), [bin_error(b) for b in binned]))


def plugin_square_ce(binned):
    def bin_error(data):
        return 0.0 if len(data) == 0 else abs(difference_mean(data)) ** 2

    return float(np.dot(get_bin_probs(binned), [bin_error(b) for b in binned]))


def case(kind, n, seed, m):
    f, y = dataset(kind, n, seed)
    edges = [(j + 1) / m for j in range(m)]
    binned = bin_data(list(zip(f, y)), edges)
    sq = unbiased_square_ce(binned)
    return {
        'kind': kind,
        'n': n,
        'seed': seed,
        'bins': m,
        'squared': sq,
        'debiasedEce': max(sq, 0.0) ** 0.5,
        'plugIn': plugin_square_ce(binned),
    }


def main():
    cases = [
        case('calibrated', 1000, 7, 15),
        case('calibrated', 200, 8, 15),
        case('calibrated', 30, 9, 15),
        case('overconfident', 1000, 11, 15),
        case('overconfident', 500, 12, 10),
        case('confident', 2000, 13, 15),
        case('confident', 100, 14, 15),
        case('edges', 400, 15, 10),
    ]
    with open(OUT, 'w') as fh:
        json.dump({'generator': 'scripts/make_debiased_ece_fixtures.py', 'cases': cases}, fh, indent=1)
        fh.write('\n')


if __name__ == '__main__':
    main()
