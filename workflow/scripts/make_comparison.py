"""The baselines comparison: hyperfitted greedy against early stopping, a repetition penalty, an
entropy-matched temperature and other decodings, per seed and summarized over seeds."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.runner import atomic_path, read_json, write_table
    from hyperfit.sweeptables import COMPARISON_VALUES, comparison_markdown, comparison_row, summarize

    rows = []
    for r in sm.params.runs:
        temperature = read_json(r["temperature"]) if r["temperature"] else None
        history = pd.read_csv(r["history"], sep="\t") if r["weights"] == "early_stopped" else None
        row = comparison_row(pd.read_csv(r["metrics"], sep="\t"), read_json(r["scores"]), sm.params.threshold,
                             temperature, history)
        rows.append({"model": r["model"], "method": r["label"], "seed": r["seed"], **row})
    per_seed = pd.DataFrame(rows)
    write_table(per_seed, sm.output.per_seed)
    table = summarize(per_seed.drop(columns="seed"), ["model", "method"], COMPARISON_VALUES)
    write_table(table, sm.output.tsv)
    with atomic_path(sm.output.md) as tmp:
        tmp.write_text(comparison_markdown(table, sm.params.threshold) + "\n", encoding="utf-8")
    print(per_seed.to_string())


run(snakemake, main)  # noqa: F821
