"""Figure 4 from the original and hyperfitted next-token distribution tables."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.plots import figure4, save

    positions = {(r["model"], r["variant"]): pd.read_csv(path, sep="\t", keep_default_na=False)
                 for r, path in zip(sm.params.runs, sm.input.tables)}
    save(figure4(positions), sm.output.pdf, sm.output.png)


run(snakemake, main)  # noqa: F821
