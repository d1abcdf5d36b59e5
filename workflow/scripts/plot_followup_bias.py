"""Figure of the follow-up's fixed-bias test: TTR and entropy by bias strength."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.plots import followup_bias_figure, save

    save(followup_bias_figure(pd.read_csv(sm.input.table, sep="\t")), sm.output.pdf, sm.output.png)


run(snakemake, main)  # noqa: F821
