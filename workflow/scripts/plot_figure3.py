"""Figure 3: distribution of the per-text overlap with the training data."""
import _lib  # noqa: F401
from hyperfit.plots import figure3, save
from hyperfit.runner import run
from hyperfit.tables import read_generation_tables


def main(sm):
    overlaps = {key: df["overlap"] for key, df in read_generation_tables(sm.input.tables, "overlap").items()}
    save(figure3(overlaps, sm.params.threshold), sm.output.pdf, sm.output.png)


run(snakemake, main)  # noqa: F821
