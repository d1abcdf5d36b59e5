"""Figure 4 from the per-variant next-token distribution tables."""
from pathlib import Path

import _lib  # noqa: F401
import pandas as pd
from hyperfit.plots import figure4, save
from hyperfit.runner import run


def main(sm):
    positions = {}
    for path in sm.input.tables:  # results/metrics/{model}/{variant}/figure4_position.tsv
        p = Path(path)
        positions[(p.parts[-3], p.parts[-2])] = pd.read_csv(p, sep="\t", keep_default_na=False)
    save(figure4(positions), sm.output.pdf, sm.output.png)


run(snakemake, main)  # noqa: F821
