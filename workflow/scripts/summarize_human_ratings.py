"""Preference shares, Fleiss' kappa and bootstrap intervals from the completed rater files ("not collected"
while there are none)."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.human import ingest, preference_notes, preference_table
    from hyperfit.runner import write_markdown, write_table

    p = sm.params
    key = pd.read_csv(sm.input.key, sep="\t", dtype={"raters": str})
    ratings = ingest(list(sm.input.annotations), key)
    table = preference_table(key, ratings, p.iterations, p.seed)
    write_table(table, sm.output.tsv)
    write_markdown(sm.output.md, table, preference_notes(p.raters, p.ratings_per_pair, p.iterations))
    print(table.to_string())


run(snakemake, main)  # noqa: F821
