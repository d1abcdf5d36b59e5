"""Figure 5: top-1 agreement matrix of shuffled-data models (left), TTR by number of training windows (right)."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.plots import figure5, save

    fig = figure5(pd.read_csv(sm.input.shuffle, sep="\t"), pd.read_csv(sm.input.quantity, sep="\t"))
    save(fig, sm.output.pdf, sm.output.png)


run(snakemake, main)  # noqa: F821
