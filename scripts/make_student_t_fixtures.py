#!/usr/bin/env python3
"""Reference quantiles of Student's t distribution (scipy) for test/fixtures/studentT.json.

Run with /usr/bin/python3 (scipy installed): python3 scripts/make_student_t_fixtures.py > test/fixtures/studentT.json
"""
import json

from scipy import stats

cases = []
for df in [1, 2, 3, 4, 5, 6, 7, 9, 10, 19, 29, 49, 99, 1000]:
    for p in [0.5, 0.6, 0.9, 0.95, 0.975, 0.99, 0.995, 0.025, 0.001]:
        cases.append({"p": p, "df": df, "q": float(stats.t.ppf(p, df))})
print(json.dumps({"generator": "scipy.stats.t.ppf", "cases": cases}, indent=1))
