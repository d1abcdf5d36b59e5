"""Figure 5 (right) data: mean greedy TTR by number of training windows at a fixed number of updates."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.runner import atomic_path, read_jsonl, write_table
    from hyperfit.sweeptables import quantity_table, text_ttr, with_ci

    window = sm.params.ttr_window
    texts = {r["texts"]: read_jsonl(r["texts"]) for r in sm.params.runs}
    histories = {r["train"]: pd.read_csv(f"{r['train']}/history.tsv", sep="\t") for r in sm.params.runs}
    original = {r["model"]: text_ttr(read_jsonl(r["texts"]), window) for r in sm.params.original}
    per_seed, summary = quantity_table(list(sm.params.runs), texts, histories, original, window)
    write_table(summary, sm.output.tsv)
    show = summary[["model", "num_samples", "epochs", "updates", "seeds"]].copy()
    show["ttr"] = with_ci(summary, "ttr")
    show["final_train_loss"] = with_ci(summary, "final_train_loss")
    show["original_ttr"] = summary["original_ttr"].round(3)
    with atomic_path(sm.output.md) as tmp:
        tmp.write_text(show.to_markdown(index=False) + f"\n\nMean greedy TTR (last {window} generated tokens) of the "
                       f"evaluation continuations; every run takes {sm.params.updates} optimizer updates, so fewer "
                       "windows mean more epochs. Mean over seeds [95% interval].\n", encoding="utf-8")
    print(per_seed.to_string())


run(snakemake, main)  # noqa: F821
