"""Figure of the follow-up's layer analysis: effective dimension and distance by layer."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.plots import followup_layers_figure, save

    save(followup_layers_figure(pd.read_csv(sm.input.table, sep="\t")), sm.output.pdf, sm.output.png)


run(snakemake, main)  # noqa: F821
