"""The follow-up's 'terminal expansion': per layer, effective dimension of each model's hidden states and the
distance and cosine similarity between them, for every follow-up model."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.followup import layers_notes
    from hyperfit.runner import write_markdown, write_table

    table = pd.concat([pd.read_csv(p, sep="\t").assign(model=m) for m, p in zip(sm.params.models, sm.input.tables)])
    table = table[["model", *[c for c in table.columns if c != "model"]]]
    write_table(table, sm.output.tsv)
    write_markdown(sm.output.md, table, layers_notes(sm.params.skip_first_position))
    print(table.to_string())


run(snakemake, main)  # noqa: F821
