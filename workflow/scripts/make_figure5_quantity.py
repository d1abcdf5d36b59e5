"""Figure 5 (right) data: mean greedy TTR by number of training windows at a fixed number of updates."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.runner import read_jsonl, write_markdown, write_table
    from hyperfit.paths import RUN_HISTORY, run_file
    from hyperfit.sweeptables import quantity_table, text_ttr

    window = sm.params.ttr_window
    texts = {r["texts"]: read_jsonl(r["texts"]) for r in sm.params.runs}
    histories = {r["train"]: pd.read_csv(run_file(r["train"], RUN_HISTORY), sep="\t") for r in sm.params.runs}
    original = {r["model"]: text_ttr(read_jsonl(r["texts"]), window) for r in sm.params.original}
    per_seed, summary = quantity_table(list(sm.params.runs), texts, histories, original, window)
    write_table(summary, sm.output.tsv)
    first = ["model", "num_samples", "epochs", "updates", "seeds"]
    write_markdown(sm.output.md, summary[[*first, *(c for c in summary.columns if c not in first)]],
                   f"Mean greedy TTR (last {window} generated tokens) of the evaluation continuations; every run "
                   f"takes {sm.params.updates} optimizer updates, so fewer windows mean more epochs. ttr, "
                   "final_train_loss: mean over seeds [95% t-interval over the seeds]; original_ttr: the original "
                   "model's TTR on the same texts.")
    print(per_seed.to_string())


run(snakemake, main)  # noqa: F821
