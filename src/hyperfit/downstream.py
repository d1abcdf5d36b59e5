"""Downstream tables (MMLU, GLUE) and their figure: original vs hyperfitted, from lm-eval result files.

Each result file (one per model x variant x suite, written by the evaluate_lmeval rule) records which
lm-eval task or group answers each table row (`tasks`), lm-eval's numbers (`results`), the settings and
the tasks skipped for want of data (`skipped`). No model is loaded here.
"""
from __future__ import annotations

import math

import pandas as pd

from .errors import UserError
from .lmeval import GLUE_TASKS, MMLU_CATEGORIES, glue_metrics

VARIANTS = ("original", "hyperfitted")
_SETTINGS = ("shots", "limit")


def metric_value(record: dict, name: str, metric: str) -> float:
    """lm-eval's value of `metric` (unfiltered) for task or group `name`."""
    entry = record["results"].get(name, {})
    key = f"{metric},none"
    if key not in entry:
        raise UserError(f"lm-eval result for {name!r} has no {metric!r} (has {sorted(entry)}): rerun the "
                        "evaluate_lmeval job of this suite")
    return float(entry[key])


def pair_records(records: dict[tuple[str, str], dict]) -> dict[str, dict[str, dict]]:
    """{(model, variant): record} as {model: {variant: record}}; both variants must be there and must have
    been evaluated alike (same source, shots and limit), or the difference would mean nothing."""
    pairs: dict[str, dict[str, dict]] = {}
    for (model, variant), record in records.items():
        pairs.setdefault(model, {})[variant] = record
    for model, pair in sorted(pairs.items()):
        if set(pair) != set(VARIANTS):
            raise UserError(f"{model}: lm-eval results for {sorted(pair)} only; need {list(VARIANTS)}")
        original, hyperfitted = pair["original"], pair["hyperfitted"]
        for key in _SETTINGS:
            if original["settings"][key] != hyperfitted["settings"][key]:
                raise UserError(f"{model}: original and hyperfitted were evaluated with different {key}")
        if original["tasks"] != hyperfitted["tasks"] or original["source"] != hyperfitted["source"]:
            raise UserError(f"{model}: original and hyperfitted were evaluated on different tasks")
    return dict(sorted(pairs.items()))


def _compare(pair: dict[str, dict], name: str, metric: str) -> dict:
    original = metric_value(pair["original"], name, metric)
    hyperfitted = metric_value(pair["hyperfitted"], name, metric)
    return {"original": original, "hyperfitted": hyperfitted, "difference": hyperfitted - original}


def _examples(record: dict, name: str) -> int:
    return int(record["results"][name]["sample_len"])


def mmlu_table(records: dict[tuple[str, str], dict]) -> pd.DataFrame:
    """Accuracy overall and per category (lm-eval's size-weighted group means), per model."""
    rows = []
    for model, pair in pair_records(records).items():
        original = pair["original"]
        for category in ("overall", *MMLU_CATEGORIES):
            name = original["tasks"][category]
            if _examples(original, name) != _examples(pair["hyperfitted"], name):
                raise UserError(f"{model}: {name} has different question counts in the two variants")
            rows.append({"model": model, "category": category, "questions": _examples(original, name),
                         "metric": "acc", **_compare(pair, name, "acc"),
                         "shots": original["settings"]["shots"],
                         "limit_per_subject": original["settings"]["limit"],
                         "data": original["data"]["overall"]})
    return pd.DataFrame(rows)


def glue_table(records: dict[tuple[str, str], dict]) -> pd.DataFrame:
    """Per GLUE task the metrics GLUE reports (CoLA: MCC; MRPC, QQP: F1 and accuracy; others accuracy).
    A task without data here is a row with no values and the reason in `data`."""
    rows = []
    for model, pair in pair_records(records).items():
        original = pair["original"]
        tasks = sorted({*original["tasks"], *original["skipped"]}, key=GLUE_TASKS.index)
        for task in tasks:
            for metric in glue_metrics(task):
                row = {"model": model, "task": task, "metric": metric}
                if task in original["skipped"]:
                    row.update(examples=None, original=math.nan, hyperfitted=math.nan, difference=math.nan,
                               data=original["skipped"][task])
                else:
                    name = original["tasks"][task]
                    row.update(examples=_examples(original, name), **_compare(pair, name, metric),
                               data=original["data"][task])
                row.update(shots=original["settings"]["shots"], limit=original["settings"]["limit"])
                rows.append(row)
    table = pd.DataFrame(rows)
    table["examples"] = table["examples"].astype("Int64")
    return table[["model", "task", "metric", "examples", "original", "hyperfitted", "difference", "shots",
                  "limit", "data"]]


def downstream_figure(mmlu: pd.DataFrame | None, glue: pd.DataFrame | None):
    """Bars of hyperfitted minus original per model: MMLU per category, GLUE per task and metric. GLUE
    tasks without data are named under the panel; a stand-in is marked as such on its label."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(title, df, key) for title, df, key in (("MMLU (accuracy)", mmlu, "category"),
                                                       ("GLUE", glue, "task")) if df is not None]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.8), squeeze=False)
    for ax, (title, df, key) in zip(axes[0], panels):
        shown = df[df["difference"].notna()]
        if key == "task":
            labels = [f"{t} {m}" + ("\n(stand-in)" if str(d).startswith("stand-in") else "")
                      for t, m, d in zip(shown["task"], shown["metric"], shown["data"])]
            shown = shown.assign(label=labels)
            skipped = sorted(set(df.loc[df["difference"].isna(), "task"]), key=GLUE_TASKS.index)
            if skipped:
                ax.text(0.01, 0.02, "not evaluated (no data here): " + ", ".join(skipped),
                        transform=ax.transAxes, fontsize=7)
        else:
            shown = shown.assign(label=shown["category"].str.replace("_", " "))
        models = list(dict.fromkeys(shown["model"]))
        labels = list(dict.fromkeys(shown["label"]))
        width = 0.8 / max(len(models), 1)
        for i, model in enumerate(models):
            part = shown[shown["model"] == model].set_index("label").reindex(labels)
            xs = [j + (i - (len(models) - 1) / 2) * width for j in range(len(labels))]
            bars = ax.bar(xs, part["difference"], width=width, color=f"C{i}", label=model)
            ax.bar_label(bars, fmt="%+.3f", fontsize=6)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xticks(range(len(labels)), labels, fontsize=7, rotation=30 if key == "task" else 0)
        ax.set(title=title, ylabel="hyperfitted - original")
        ax.grid(axis="y", alpha=0.3)
        if models:
            ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
