"""The baselines comparison: hyperfitted greedy against early stopping, a repetition penalty, an
entropy-matched temperature and other decodings, per seed and summarized over seeds."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.paths import RUN_FACTS, run_file
    from hyperfit.runner import atomic_path, read_json, write_table
    from hyperfit.quality import QualityTables, quality_notes
    from hyperfit.sweeptables import (COMPARISON_VALUES, QUALITY_VALUES, comparison_markdown, comparison_row,
                                      comparison_text_statistics, quality_point_values, quality_text_statistics,
                                      summarize)
    from hyperfit.tables import mauve_rows, text_values

    frames = [pd.read_csv(p, sep="\t") for p in sm.input.mauve]
    mauve_by_run = mauve_rows(frames, ("model", "setting", "weights", "method", "length"))
    mauve = pd.concat(frames)
    mauve = {(r.model, r.setting, r.weights, r.method, int(r.length)): r.mauve for r in mauve.itertuples()}
    rows, ttrs, quality = [], {}, {}
    measured = QualityTables(sm.input.quality)
    original = {r["model"]: read_json(r["scores"]) for r in sm.params.runs if r["setting"] == "original"}
    for r in sm.params.runs:
        temperature = read_json(r["temperature"]) if r["temperature"] else None
        history = pd.read_csv(r["history"], sep="\t") if r["weights"] == "early_stopped" else None
        metrics = pd.read_csv(r["metrics"], sep="\t")
        row = comparison_row(metrics, read_json(r["scores"]), sm.params.threshold, temperature, history,
                             original[r["model"]])
        row["trainable_parameters"] = read_json(run_file(r["train"], RUN_FACTS))["trainable_parameters"] if r["train"] \
            else float("nan")
        row["mauve"] = mauve[(r["model"], r["setting"], r["weights"], r["method"], int(r["length"]))]
        per_text = measured.texts(r["texts"])
        row.update(quality_point_values(per_text, measured.human(r["model"], r["length"]),
                                        mauve_by_run[(r["model"], r["setting"], r["weights"], r["method"],
                                                      int(r["length"]))]))
        quality.setdefault((r["model"], r["label"]), []).append(per_text)
        rows.append({"model": r["model"], "method": r["label"], "seed": r["seed"], **row})
        ttrs.setdefault((r["model"], r["label"]), []).append(text_values(metrics, "ttr"))
    per_seed = pd.DataFrame(rows)
    write_table(per_seed, sm.output.per_seed)
    domains = [c for c in per_seed.columns if c.startswith("mauve_") and c != "mauve_pairs"]
    table = summarize(per_seed.drop(columns="seed"), ["model", "method"], COMPARISON_VALUES + QUALITY_VALUES + domains)
    table = comparison_text_statistics(table, ttrs, sm.params.seed)
    table = quality_text_statistics(table, quality, ["model", "method"], "text", sm.params.seed)
    write_table(table, sm.output.tsv)
    with atomic_path(sm.output.md) as tmp:
        tmp.write_text(comparison_markdown(table, sm.params.threshold, quality_notes(sm.params.quality, sm.params.models))
                       + "\n", encoding="utf-8")
    print(per_seed.to_string())


run(snakemake, main)  # noqa: F821
