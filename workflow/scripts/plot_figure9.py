"""Figure 9 from its data table."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.plots import save
    from hyperfit.textfigures import figure9

    save(figure9(pd.read_csv(sm.input.table, sep="\t"), sm.params.window), sm.output.pdf, sm.output.png)


run(snakemake, main)  # noqa: F821
