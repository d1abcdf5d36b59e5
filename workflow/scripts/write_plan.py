"""The plan as files: results/plan/settings.tsv and results/plan/runs.tsv (hyperfit.plan)."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.runner import write_table

    settings = pd.DataFrame(sm.params.settings)
    write_table(settings, sm.output.settings)
    write_table(pd.DataFrame(sm.params.runs), sm.output.runs)
    print(settings.to_string())


run(snakemake, main)  # noqa: F821
