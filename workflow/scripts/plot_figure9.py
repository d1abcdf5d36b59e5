"""Figure 9 from its data table."""
import _lib  # noqa: F401
import pandas as pd
from hyperfit.plots import save
from hyperfit.runner import run
from hyperfit.textfigures import figure9


def main(sm):
    save(figure9(pd.read_csv(sm.input.table, sep="\t"), sm.params.window), sm.output.pdf, sm.output.png)


run(snakemake, main)  # noqa: F821
