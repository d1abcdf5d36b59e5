"""The claims figure: each claim's estimate and 95% interval against the paper's value, by verdict."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.claims import claims_figure
    from hyperfit.plots import save

    save(claims_figure(pd.read_csv(sm.input.table, sep="\t")), sm.output.pdf, sm.output.png)


run(snakemake, main)  # noqa: F821
