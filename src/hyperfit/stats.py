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


# ------------------------------------------------------------------------------------------ over texts
BOOTSTRAP_RESAMPLES = 2000
PERMUTATIONS = 10000


def _spread(values) -> bool:
    import numpy as np

    return len(values) > 1 and float(np.ptp(values)) > 0


def bootstrap_ci(values: Sequence[float], seed: int, level: float = 0.95,
                 resamples: int = BOOTSTRAP_RESAMPLES) -> tuple[float, float]:
    """95% percentile bootstrap interval of the mean over texts (scipy.stats.bootstrap, seeded); the value
    itself twice where the texts do not vary, NaN for fewer than two texts."""
    import numpy as np
    from scipy import stats

    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return math.nan, math.nan
    if not _spread(x):
        return float(x[0]), float(x[0])
    res = stats.bootstrap((x,), np.mean, confidence_level=level, n_resamples=resamples, method="percentile",
                          random_state=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def bootstrap_ratio_ci(numerators: Sequence[float], denominators: Sequence[float], seed: int,
                       transform=None, level: float = 0.95, resamples: int = BOOTSTRAP_RESAMPLES) -> tuple[float, float]:
    """Interval of a token-pooled quantity, sum(numerators) / sum(denominators) (optionally transformed,
    e.g. exp for perplexity), resampling whole texts (paired numerator and denominator)."""
    import numpy as np
    from scipy import stats

    num, den = np.asarray(numerators, dtype=float), np.asarray(denominators, dtype=float)
    f = transform or (lambda v: v)
    if len(num) < 2:
        return math.nan, math.nan
    if not _spread(num / den):
        value = float(f(num.sum() / den.sum()))
        return value, value
    res = stats.bootstrap((num, den), lambda a, b, axis=-1: f(a.sum(axis=axis) / b.sum(axis=axis)), paired=True,
                          vectorized=True, confidence_level=level, n_resamples=resamples, method="percentile",
                          random_state=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def paired_difference(a: Sequence[float], b: Sequence[float], seed: int, level: float = 0.95) -> dict:
    """The mean of a - b over the same texts: a paired bootstrap interval (of the per-text differences) and a
    two-sided paired permutation test (each text's two values swapped at random; scipy.stats.permutation_test
    with permutation_type='samples'), both seeded."""
    import numpy as np
    from scipy import stats

    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape:
        raise ValueError("a paired difference needs the same texts on both sides")
    diff = x - y
    low, high = bootstrap_ci(diff, seed, level)
    if not _spread(np.concatenate([x, y])) or len(x) < 2:
        p = math.nan if len(x) < 2 else 1.0
    else:
        res = stats.permutation_test((x, y), lambda u, v, axis=-1: np.mean(u - v, axis=axis),
                                     permutation_type="samples", vectorized=True, n_resamples=PERMUTATIONS,
                                     alternative="two-sided", random_state=np.random.default_rng(seed))
        p = float(res.pvalue)
    return {"diff": float(diff.mean()), "diff_ci_low": low, "diff_ci_high": high, "p_value": p}


def paired_columns(name: str, a, b, seed: int) -> dict:
    """A table's columns for a paired difference a - b: name, name_ci_low, name_ci_high, name_p (NaN where
    there is nothing to compare with, b None)."""
    d = paired_difference(a, b, seed) if b is not None else dict.fromkeys(
        ("diff", "diff_ci_low", "diff_ci_high", "p_value"), math.nan)
    return {name: d["diff"], f"{name}_ci_low": d["diff_ci_low"], f"{name}_ci_high": d["diff_ci_high"],
            f"{name}_p": d["p_value"]}


def ci_columns(name: str, interval: tuple[float, float]) -> dict:
    return {f"{name}_ci_low": interval[0], f"{name}_ci_high": interval[1]}


def with_columns(table, rows: list[dict]):
    """`table` with one more column per key of `rows` (one dict per table row, in order)."""
    out = table.copy()
    for key in rows[0] if rows else []:
        out[key] = [r[key] for r in rows]
    return out
