"""The follow-up's overrides table: per model (and evaluation domain), how often the hyperfitted model's greedy
token is not the original's top-1, and the original's ranks of the tokens it picks instead."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.followup import OVERRIDES_NOTES, overrides_table
    from hyperfit.runner import write_markdown, write_table

    per_text = {m: pd.read_csv(p, sep="\t") for m, p in zip(sm.params.models, sm.input.tables)}
    table = overrides_table(per_text, sm.params.seed)
    write_table(table, sm.output.tsv)
    write_markdown(sm.output.md, table, OVERRIDES_NOTES)
    print(table.to_string())


run(snakemake, main)  # noqa: F821
