"""Statistics of the experiments: means over seeds with Student-t intervals, top-1 agreement."""
from __future__ import annotations

import math
from typing import Sequence


def mean_ci(values: Sequence[float], level: float = 0.95) -> dict:
    """Mean over seeds with a Student-t interval; one value has no interval (NaN bounds)."""
    from scipy import stats

    vals = [float(v) for v in values]
    n = len(vals)
    if n == 0:
        raise ValueError("no values")
    mean = sum(vals) / n
    if n == 1:
        return {"mean": mean, "ci_low": math.nan, "ci_high": math.nan, "seeds": 1}
    sd = math.sqrt(sum((v - mean) ** 2 for v in vals) / (n - 1))
    half = stats.t.ppf(0.5 + level / 2, n - 1) * sd / math.sqrt(n)
    return {"mean": mean, "ci_low": mean - half, "ci_high": mean + half, "seeds": n}


def top1_agreement(a: Sequence[Sequence[int]], b: Sequence[Sequence[int]]) -> float:
    """Share of positions, pooled over texts, where two models' most probable next tokens are equal."""
    if len(a) != len(b) or any(len(x) != len(y) for x, y in zip(a, b)):
        raise ValueError("the two models' predictions cover different texts or positions")
    same = sum(int(p == q) for x, y in zip(a, b) for p, q in zip(x, y))
    total = sum(len(x) for x in a)
    return same / total


def agreement_rows(preds: dict[str, Sequence[Sequence[int]]]) -> list[dict]:
    """Every ordered pair of models (a, b) with their top-1 agreement (the diagonal is 1)."""
    return [{"a": a, "b": b, "agreement": top1_agreement(pa, pb)} for a, pa in preds.items() for b, pb in preds.items()]


def format_ci(row: dict, digits: int = 3) -> str:
    """'0.512 [0.498, 0.526]' or '0.512' for one seed."""
    if math.isnan(row["ci_low"]):
        return f"{row['mean']:.{digits}f}"
    return f"{row['mean']:.{digits}f} [{row['ci_low']:.{digits}f}, {row['ci_high']:.{digits}f}]"
