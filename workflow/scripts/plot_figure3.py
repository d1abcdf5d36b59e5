"""Figure 3: distribution of the per-text overlap with the training data."""
from hyperfit.runner import run


def main(sm):
    from hyperfit.plots import figure3, save
    from hyperfit.tables import read_text_metrics

    overlaps = {key: df["overlap"] for key, df in read_text_metrics(sm.params.runs).items()}
    save(figure3(overlaps, sm.params.threshold), sm.output.pdf, sm.output.png)


run(snakemake, main)  # noqa: F821
