"""Table 4: the base setting hyperfitted on each training domain, evaluated on every domain."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.runner import atomic_path, read_json, read_jsonl, write_table
    from hyperfit.sweeptables import data_type_table, difference_cells, table4_human, table4_statistics, with_ci

    texts = {r["texts"]: read_jsonl(r["texts"]) for r in sm.params.runs}
    scores = {r["scores"]: read_json(r["scores"]) for r in sm.params.runs}
    original = {r["model"]: {"texts": read_jsonl(r["texts"]), "scores": read_json(r["scores"])}
                for r in sm.params.original}
    window = sm.params.ttr_window
    preference = pd.read_csv(sm.input.human, sep="\t", dtype={"preferred_or_equal": str})
    table = data_type_table(list(sm.params.runs), texts, scores, original, window,
                            table4_human(preference, sm.params.human))
    means = [c for c in table.columns if c.startswith(("ttr_", "ppl_")) and "_ci_" not in c]
    table = table4_statistics(table, list(sm.params.runs), texts, original, window, sm.params.seed)
    write_table(table, sm.output.tsv)
    show = table[["model", "train_data", "seeds"]].copy()
    for col in means:
        show[col] = with_ci(table, col, 2 if col.startswith("ppl_") else 3)
    for col in [c for c in table.columns if c.startswith("human_")]:
        show[col] = table[col]
    show["ttr_all_texts_95%"] = [f"[{lo:.3f}, {hi:.3f}]" for lo, hi in zip(table["ttr_all_ci_low"],
                                                                           table["ttr_all_ci_high"])]
    show["ttr_vs_original"] = difference_cells(table, "ttr_diff")
    with atomic_path(sm.output.md) as tmp:
        tmp.write_text(show.to_markdown(index=False) + "\n\nNotes:\n\n"
                       f"- ttr_<domain>: mean greedy TTR (last {window} generated tokens) on that evaluation domain; "
                       "ttr_average: their mean (the paper averages its human scores the same way).\n"
                       "- ppl_<domain>: perplexity on that domain's evaluation texts (context + reference).\n"
                       "- Hyperfitted rows: the sweeps' base setting (sweeps.base) trained on each domain; mean over "
                       "seeds [95% interval].\n"
                       "- human_<domain>, human_all: the paper's human success ratio, % of ratings preferring the "
                       "model's continuation or judging it equal to the human one (the study kit, human.table4: "
                       "first seed, greedy, longest generation length); 'not collected' until rated.\n"
                       "- ttr_all_texts_95%: 95% bootstrap interval over all evaluation texts of the TTR (each text's "
                       "value averaged over seeds); ttr_vs_original: mean paired difference from the original model on "
                       "the same texts [paired bootstrap interval], two-sided paired permutation p-value.\n",
                       encoding="utf-8")
    print(table.to_string())


run(snakemake, main)  # noqa: F821
