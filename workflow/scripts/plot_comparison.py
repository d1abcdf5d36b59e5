"""The baselines comparison figure: TTR per method (95% intervals), and TTR against mean entropy."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.plots import comparison_figure, save

    save(comparison_figure(pd.read_csv(sm.input.table, sep="\t")), sm.output.pdf, sm.output.png)


run(snakemake, main)  # noqa: F821
