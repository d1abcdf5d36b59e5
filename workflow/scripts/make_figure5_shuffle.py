"""Figure 5 (left) data: top-1 agreement between models hyperfitted on the same windows in other orders."""
from hyperfit.runner import run


def main(sm):
    from hyperfit.runner import atomic_path, read_json, write_table
    from hyperfit.sweeptables import shuffle_markdown, shuffle_table

    argmax = {r["scores"]: [s["argmax"] for s in read_json(r["scores"])] for r in sm.params.runs}
    original = {r["model"]: [s["argmax"] for s in read_json(r["scores"])] for r in sm.params.original}
    per_seed, summary = shuffle_table(list(sm.params.runs), argmax, original)
    write_table(summary, sm.output.tsv)
    with atomic_path(sm.output.md) as tmp:
        tmp.write_text("Top-1 agreement (share of evaluation-text positions where the two models' most probable "
                       "next tokens are equal), mean over seeds [95% interval]:\n\n" + shuffle_markdown(summary)
                       + "\n", encoding="utf-8")
    print(per_seed.to_string())


run(snakemake, main)  # noqa: F821
