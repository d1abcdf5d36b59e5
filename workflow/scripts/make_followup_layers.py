"""The follow-up's 'terminal expansion': per layer, effective dimension of each model's hidden states and the
distance between them, for every follow-up model."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.runner import atomic_path, write_table

    table = pd.concat([pd.read_csv(p, sep="\t").assign(model=m) for m, p in zip(sm.params.models, sm.input.tables)])
    table = table[["model", *[c for c in table.columns if c != "model"]]]
    write_table(table, sm.output.tsv)
    with atomic_path(sm.output.md) as tmp:
        tmp.write_text(table.round(3).to_markdown(index=False) + "\n\nNotes:\n\n"
                       "- Hidden states of every position of the evaluation texts (context + reference), per layer: "
                       "0 is the embeddings, then each transformer block's output.\n"
                       "- effective_dim_*: participation ratio of the hidden states' covariance spectrum, (sum of "
                       "eigenvalues)^2 / sum of squared eigenvalues (the follow-up's own definition is not stated "
                       "in our sources); effective_dim_change: hyperfitted minus original.\n"
                       "- l2_distance: mean over positions of the L2 distance between the two models' hidden states; "
                       "norm_*: mean L2 norm of each model's hidden states.\n", encoding="utf-8")
    print(table.to_string())


run(snakemake, main)  # noqa: F821
