"""Figure of the downstream differences (hyperfitted minus original), from the MMLU and GLUE tables."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.downstream import downstream_figure
    from hyperfit.plots import save

    tables = {name: pd.read_csv(path, sep="\t") for name, path in sm.input.items()}
    save(downstream_figure(tables.get("mmlu"), tables.get("glue")), sm.output.pdf, sm.output.png)


run(snakemake, main)  # noqa: F821
