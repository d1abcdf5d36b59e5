"""The baselines comparison: hyperfitted greedy against early stopping, a repetition penalty, an
entropy-matched temperature and other decodings, per seed and summarized over seeds."""
import math

import _lib  # noqa: F401
import pandas as pd
from hyperfit.runner import atomic_path, read_json, read_jsonl, run, write_table
from hyperfit.sweeps import setting_windows
from hyperfit.sweeptables import COMPARISON_VALUES, comparison_markdown, comparison_row, summarize


def main(sm):
    tokens = {m: read_json(p) for m, p in zip(sm.params.models, sm.input.tokens)}
    pools = {m: read_json(p) for m, p in zip(sm.params.models, sm.input.pools)}
    histories = {p: pd.read_csv(p, sep="\t") for p in sm.input.histories}
    rows = []
    for r in sm.params.runs:
        model = r["model"]
        train = tokens[model]["train"] if r["train"] == "main" else \
            setting_windows(pools[model], sm.params.settings[r["train"]])
        temperature = read_json(r["temperature"]) if r["temperature"] else None
        row = comparison_row(read_jsonl(r["texts"]), read_json(r["scores"]), train, sm.params.ttr_window,
                             sm.params.threshold, temperature)
        row["early_stop_epoch"] = math.nan
        if r["weights"] == "early_stopped":
            h = histories[r["history"]]
            row["early_stop_epoch"] = int(h.loc[h["val_loss"].idxmin(), "epoch"])
        rows.append({"model": model, "method": r["method"], "seed": r["seed"], **row})
    per_seed = pd.DataFrame(rows)
    write_table(per_seed, sm.output.per_seed)
    table = summarize(per_seed.drop(columns="seed"), ["model", "method"], COMPARISON_VALUES)
    write_table(table, sm.output.tsv)
    with atomic_path(sm.output.md) as tmp:
        tmp.write_text(comparison_markdown(table, sm.params.threshold) + "\n", encoding="utf-8")
    print(per_seed.to_string())


run(snakemake, main)  # noqa: F821
