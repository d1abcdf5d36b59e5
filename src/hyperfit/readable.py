"""The people's view of a result table: what every table's Markdown shows (the .tsv beside it keeps every column).

One call, readable_table, turns a table as the workflow builds it into the view: each estimate and its interval in
one cell, "0.539 [0.491, 0.584]"; numbers rounded alike down a column; a p-value only beside the paired difference
it tests (a row against its baseline); columns with nothing to show (every row "not collected", or empty) left out,
with one line saying which and why. readable_markdown renders it with the table's notes;
hyperfit.runner.write_markdown writes it.

The interval columns it recognises are the ones the tables are built with: `<x>_ci_low`, `<x>_ci_high`
(hyperfit.stats.ci_columns and paired_columns, sweeptables.summarize) and `<x>_lo`, `<x>_hi` (hyperfit.human);
`<x>_p` beside a paired difference `<x>` (stats.paired_columns) is its p-value.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Number

import pandas as pd

NOT_COLLECTED = "not collected"  # = hyperfit.tables.NOT_COLLECTED (not imported: tables imports much more)
NOT_COLLECTED_REASON = "no rater files in human.annotations"
MARKERS = (NOT_COLLECTED, "undefined", "not judged", "")  # texts a numeric column may hold in place of a number
INTERVAL_SUFFIXES = (("_ci_low", "_ci_high"), ("_lo", "_hi"))
P_SUFFIX = "_p"
LOOSE_P = ("p_value", "pvalue", "p-value")     # p-values of no paired difference: never shown
# counts kept as floats (NaN in some rows, or a mean over seeds): written whole where every value is whole
COUNTS = ("epoch", "epochs", "seeds", "texts", "tokens", "pairs", "ratings", "examples", "questions", "images",
          "parameters", "layer", "length", "updates", "num_samples")


@dataclass
class View:
    """The people's view: `table` (every cell a string), `align` ("right" for number columns) and `lines`, one
    sentence each on what the view merged or left out."""
    table: pd.DataFrame
    align: list[str]
    lines: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------------ numbers
def _number(v) -> float | None:
    """A cell as a number: numbers and numeric text ("40.0" from a TSV read as text); None for anything else
    (NaN and None included)."""
    if isinstance(v, bool):
        return None
    if isinstance(v, Number):
        f = float(v)
        return None if math.isnan(f) else f
    if isinstance(v, str):
        try:
            f = float(v.replace(",", ""))
        except ValueError:
            return None
        return None if math.isnan(f) else f
    return None


def _missing(v) -> bool:
    if v is None or v is pd.NA:
        return True
    if isinstance(v, str):
        return v.strip() == ""
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _is_numeric_column(values: pd.Series) -> bool:
    """Numbers, or text that is a number or a marker ("not collected", "undefined") in every row, one number at
    least (human columns read back from a TSV are text)."""
    if pd.api.types.is_bool_dtype(values):
        return False
    if pd.api.types.is_numeric_dtype(values):
        return True
    seen = False
    for v in values:
        if _missing(v) or (isinstance(v, str) and v.strip() in MARKERS):
            continue
        if _number(v) is None:
            return False
        seen = True
    return seen


@dataclass(frozen=True)
class NumberFormat:
    """How one column's numbers are written: `decimals`, a sign on every number (differences), thousands
    separators (values of 10,000 and more)."""
    decimals: int
    sign: bool = False
    commas: bool = False

    def __call__(self, v: float) -> str:
        v = round(v, self.decimals)
        if v == 0:
            v = 0.0  # no "-0.000"
        spec = ("+" if self.sign else "") + ("," if self.commas else "") + f".{self.decimals}f"
        return format(v, spec)


def column_format(values, integer: bool = False, sign: bool = False, bounds=()) -> NumberFormat:
    """One format for all the numbers of a column, its estimates (`values`) and interval bounds (`bounds`)
    together: counts (`integer`) without decimals; 3 decimals when every value lies in [-1, 1] (shares, TTR,
    top-k mass, agreement; tiny columns, below 0.001, 3 significant digits); otherwise 3 significant digits of
    the column's smallest estimate, at most 3 decimals (23.5 and 101.2; 2.35 and 23.46); thousands separated
    from 10,000 on."""
    ests = [x for x in (_number(v) for v in values) if x is not None and math.isfinite(x)]
    nums = ests + [x for x in (_number(v) for v in bounds) if x is not None and math.isfinite(x)]
    largest = max((abs(x) for x in nums), default=0.0)
    commas = largest >= 10_000
    if integer:
        return NumberFormat(0, sign, commas)
    if largest == 0 or 0.001 <= largest <= 1:
        return NumberFormat(3, sign, commas)
    if largest < 0.001:
        return NumberFormat(2 - math.floor(math.log10(largest)), sign, commas)
    smallest = min((abs(x) for x in ests if x != 0), default=largest)
    return NumberFormat(min(3, max(0, 2 - math.floor(math.log10(smallest)))), sign, commas)


def format_p(p) -> str:
    """A p-value: two significant digits, "<0.001" below that; empty where there is no test."""
    x = _number(p)
    if x is None:
        return "" if _missing(p) else str(p)
    return "<0.001" if x < 0.001 else f"{x:.2g}"


def interval_cell(estimate, low=None, high=None, fmt: NumberFormat | None = None) -> str:
    """'0.539 [0.491, 0.584]'; the estimate alone where the interval is missing (one seed, no texts); the text
    itself for a marker ("not collected", "undefined"); empty for a missing estimate."""
    x = _number(estimate)
    if x is None:
        return "" if _missing(estimate) else str(estimate)
    fmt = fmt or column_format([estimate], bounds=[low, high])
    lo, hi = _number(low), _number(high)
    if lo is None or hi is None:
        return fmt(x)
    return f"{fmt(x)} [{fmt(lo)}, {fmt(hi)}]"


# ------------------------------------------------------------------------------------------ the view
def _is_difference(name: str, p_columns: set[str]) -> bool:
    return f"{name}{P_SUFFIX}" in p_columns or name.endswith(("_diff", "_change")) or name == "difference"


def _intervals(columns: list[str], explicit: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """{name: (low column, high column)}, name being the estimate's column where the table has one."""
    found = dict(explicit)
    taken = {c for pair in found.values() for c in pair}
    for low_suffix, high_suffix in INTERVAL_SUFFIXES:
        for c in columns:
            if c in taken or not c.endswith(low_suffix):
                continue
            name = c[: -len(low_suffix)]
            high = name + high_suffix
            if name and high in columns and high not in taken and name not in found:
                found[name] = (c, high)
                taken |= {c, high}
    return found


def _join(names: list[str]) -> str:
    return ", ".join(names)


def readable_table(df: pd.DataFrame, *, intervals: dict[str, tuple[str, str]] | None = None,
                   not_collected_reason: str = NOT_COLLECTED_REASON, level: str = "95%") -> View:
    """The people's view of a result table (the table itself is not changed):

    - an estimate and its interval in one cell, "0.539 [0.491, 0.584]", under the estimate's column name; an
      interval whose estimate is not a column of its own (a bootstrap interval beside a mean over seeds) gets a
      column "<x> (95% interval)" holding "[low, high]";
    - every number of a column written alike (column_format): 3 decimals for values in [-1, 1], 3 significant
      digits otherwise, counts whole (integer columns; COUNTS by name), a sign on differences (a column with a
      p-value, `*_diff`, `*_change`, `difference`);
    - p-values (`<x>_p`) only beside the paired difference `<x>` they test, 2 significant digits, empty where a
      row has no baseline; p-values of nothing paired (`p_value`) are left out;
    - columns "not collected" in every row, and columns empty in every row, left out;

    and one line per thing merged or left out. `intervals`: {estimate column: (low, high)} for pairs named
    otherwise than `<x>_ci_low`/`<x>_ci_high` or `<x>_lo`/`<x>_hi`."""
    columns = [str(c) for c in df.columns]
    df = df.copy()
    df.columns = columns
    pairs = _intervals(columns, intervals or {})
    bounds = {c for pair in pairs.values() for c in pair}
    p_columns = {c for c in columns if c.endswith(P_SUFFIX) and c[: -len(P_SUFFIX)] in columns
                 and c not in bounds and c[: -len(P_SUFFIX)] not in bounds}
    loose_p = [c for c in columns if c.lower() in LOOSE_P or c.lower().endswith(tuple("_" + p for p in LOOSE_P))]
    orphans = {name: pair for name, pair in pairs.items() if name not in columns}
    low_of = {pair[0]: name for name, pair in orphans.items()}

    out, align, merged, shown_p = {}, [], [], []
    for c in columns:
        if c in loose_p or c in p_columns:
            continue
        if c in bounds and c not in low_of:
            continue
        if c in low_of:                                             # an interval without its own estimate
            name = low_of[c]
            lo, hi = (df[col] for col in orphans[name])
            fmt = column_format([*lo, *hi], sign=_is_difference(name, p_columns))  # no estimate: the bounds
            out[f"{name} ({level} interval)"] = ["" if _number(a) is None or _number(b) is None
                                                 else f"[{fmt(_number(a))}, {fmt(_number(b))}]" for a, b in zip(lo, hi)]
            align.append("right")
            merged.append(name)
            continue
        values = df[c]
        if not _is_numeric_column(values):
            out[c] = ["" if _missing(v) else str(v) for v in values]
            align.append("left")
            continue
        integer = pd.api.types.is_integer_dtype(values) or (
            c.endswith(COUNTS) and all(float(x).is_integer() for x in map(_number, values) if x is not None))
        if c in pairs:
            lo, hi = (df[col] for col in pairs[c])
            fmt = column_format(values, integer, _is_difference(c, p_columns), bounds=[*lo, *hi])
            out[c] = [interval_cell(v, a, b, fmt) for v, a, b in zip(values, lo, hi)]
            merged.append(c)
        else:
            fmt = column_format(values, integer, _is_difference(c, p_columns))
            out[c] = [interval_cell(v, fmt=fmt) for v in values]
        align.append("right")
        if f"{c}{P_SUFFIX}" in p_columns:
            p = f"{c}{P_SUFFIX}"
            out[p] = [format_p(q) if _number(v) is not None else "" for v, q in zip(values, df[p])]
            align.append("right")
            shown_p.append(p)

    view = pd.DataFrame(out, index=range(len(df)))
    not_collected = [c for c in view.columns if len(view) and (view[c] == NOT_COLLECTED).any()
                     and all(v in ("", NOT_COLLECTED) for v in view[c])]
    empty = [c for c in view.columns if len(view) and (view[c] == "").all()]
    keep = [i for i, c in enumerate(view.columns) if c not in not_collected and c not in empty]
    view = view.iloc[:, keep]
    align = [align[i] for i in keep]
    shown_p = [p for p in shown_p if p in view.columns]
    merged = [m for m in merged if m in view.columns or f"{m} ({level} interval)" in view.columns]

    lines = []
    if merged:
        lines.append(f'"value [low, high]": the value and its {level} interval (the notes say which interval; the '
                     f".tsv has the bounds as columns of their own): {_join(merged)}.")
    for p in shown_p:
        diff = p[: -len(P_SUFFIX)]
        stem = diff[: -len("_diff")] if diff.endswith("_diff") else diff
        against = f" (the row named in {stem}_vs)" if f"{stem}_vs" in view.columns else ""
        lines.append(f"{p}: p-value of the paired test of {diff}, the row against its baseline{against} on the same "
                     f"texts (null hypothesis: no difference; the notes say which test); empty where a row has no "
                     "baseline.")
    if loose_p:
        lines.append(f"Left out: {_join(loose_p)}, p-values of no paired comparison with a baseline (in the .tsv).")
    if not_collected:
        lines.append(f"Left out, '{NOT_COLLECTED}' in every row ({not_collected_reason}): {_join(not_collected)}.")
    if empty:
        lines.append(f"Left out, empty in every row: {_join(empty)}.")
    return View(view.reset_index(drop=True), align, lines)


def view_markdown(view: View, index: bool = False) -> str:
    """A View as a Markdown table (its cells as they are: no number re-parsing by tabulate)."""
    if not len(view.table.columns):
        return "(no columns to show)"
    align = (["left"] if index else []) + view.align
    return view.table.to_markdown(index=index, disable_numparse=True, colalign=align)


def readable_markdown(df: pd.DataFrame, notes: str = "", **kwargs) -> str:
    """The people's view of `df` as Markdown: the table, what the view merged or left out, then `notes`."""
    view = readable_table(df, **kwargs)
    parts = [view_markdown(view)]
    if view.lines:
        parts.append("\n".join(f"- {line}" for line in view.lines))
    if notes and notes.strip():
        parts.append(notes.strip("\n"))
    return "\n\n".join(parts) + "\n"
