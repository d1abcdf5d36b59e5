"""The follow-up's fixed logit bias: TTR, rep-n and entropy of the original model's greedy continuations by
bias strength, beside original and hyperfitted greedy."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.followup import BIAS_NOTES
    from hyperfit.runner import read_json, write_markdown, write_table
    from hyperfit.sweeptables import bias_table

    metrics = {r["texts"]: pd.read_csv(r["metrics"], sep="\t") for r in [*sm.params.runs, *sm.params.references]}
    entropy = {m: read_json(p)["entropy"] for m, p in zip(sm.params.models, sm.input.entropy)}
    scores = {r["scores"]: read_json(r["scores"]) for r in sm.params.references}
    table = bias_table(list(sm.params.runs), metrics, entropy, list(sm.params.references), scores)
    write_table(table, sm.output.tsv)
    write_markdown(sm.output.md, table, BIAS_NOTES)
    print(table.to_string())


run(snakemake, main)  # noqa: F821
