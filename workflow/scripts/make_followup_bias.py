"""The follow-up's fixed logit bias: TTR, rep-n and entropy of the original model's greedy continuations by
bias (full, or on its top-K tokens of rank rise) and strength, beside original and hyperfitted greedy."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.followup import bias_notes
    from hyperfit.runner import read_json, write_markdown, write_table
    from hyperfit.sweeptables import bias_table

    metrics = {r["texts"]: pd.read_csv(r["metrics"], sep="\t") for r in [*sm.params.runs, *sm.params.references]}
    entropy = {}
    for m, p in zip(sm.params.models, sm.input.entropy):
        e = read_json(p)
        entropy[m] = {"all": e["entropy"], f"top{sm.params.top_k}": e["entropy_top"]}
    own = {k: v for p in sm.input.own for k, v in read_json(p).items()}
    scores = {r["scores"]: read_json(r["scores"]) for r in sm.params.references}
    table = bias_table(list(sm.params.runs), metrics, entropy, list(sm.params.references), scores, own)
    write_table(table, sm.output.tsv)
    write_markdown(sm.output.md, table, bias_notes(sm.params.top_k))
    print(table.to_string())


run(snakemake, main)  # noqa: F821
