"""Figure 5 (left) data: top-1 agreement between models hyperfitted on the same windows in other orders."""
import _lib  # noqa: F401
from hyperfit.runner import atomic_path, read_json, run, write_table
from hyperfit.sweeptables import shuffle_markdown, shuffle_table


def main(sm):
    argmax = {path: [r["argmax"] for r in read_json(path)] for path in sm.input.scores}
    original = {m: [r["argmax"] for r in read_json(p)] for m, p in zip(sm.params.models, sm.input.original)}
    per_seed, summary = shuffle_table(list(sm.params.runs), argmax, original)
    write_table(summary, sm.output.tsv)
    with atomic_path(sm.output.md) as tmp:
        tmp.write_text("Top-1 agreement (share of evaluation-text positions where the two models' most probable "
                       "next tokens are equal), mean over seeds [95% interval]:\n\n" + shuffle_markdown(summary)
                       + "\n", encoding="utf-8")
    print(per_seed.to_string())


run(snakemake, main)  # noqa: F821
