"""Figure 2 from the per-epoch training histories."""
import _lib  # noqa: F401
import pandas as pd
from hyperfit.plots import figure2, save
from hyperfit.runner import run


def main(sm):
    histories = {m: pd.read_csv(p, sep="\t") for m, p in zip(sm.params.models, sm.input.histories)}
    save(figure2(histories), sm.output.pdf, sm.output.png)


run(snakemake, main)  # noqa: F821
