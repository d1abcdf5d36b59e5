"""Figure 2 from the main runs' per-epoch training histories."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.paths import RUN_HISTORY, run_file
    from hyperfit.plots import figure2, save

    histories = {m: pd.read_csv(run_file(path, RUN_HISTORY), sep="\t") for m, path in zip(sm.params.models, sm.input.runs)}
    save(figure2(histories), sm.output.pdf, sm.output.png)


run(snakemake, main)  # noqa: F821
