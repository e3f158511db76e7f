#!/usr/bin/python3
"""Reference values for the debiased calibration error: writes test/fixtures/debiasedEce.json.

Run with Debian's numpy: /usr/bin/python3 scripts/make_debiased_ece_fixtures.py

The estimator of Kumar, Liang & Ma 2019 ("Verified Uncertainty Calibration", NeurIPS), transcribed from
the definitions of their library (github p-lambda/verified_calibration, calibration/utils.py:
`bin`, `get_bin_probs`, `difference_mean`, `unbiased_square_ce`, `unbiased_l2_ce`) with numpy, independent
of the TypeScript code. The bins are equal-width with upper edges m/M (bisect_left on the upper edges, as
their `bin` does: a confidence on an edge belongs to the bin below it; 0 to the first bin).

Datasets: calibration_datasets.py (mulberry32 draws, mirrored bit for bit by the TypeScript tests).
"""
import bisect
import json
import os

import numpy as np
from calibration_datasets import dataset

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'debiasedEce.json')


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
