"""Table 3: sharpness of the next-token distribution (entropy, top-1/3/5 mass, perplexity) per domain."""
from pathlib import Path

import _lib  # noqa: F401
import pandas as pd
from hyperfit.runner import atomic_path, run, write_table
from hyperfit.sharpness import table3, table3_notes


def main(sm):
    scores = {}
    for path in sm.input.scores:  # results/metrics/{model}/{variant}/scores.tsv
        p = Path(path)
        scores[(p.parts[-3], p.parts[-2])] = pd.read_csv(p, sep="\t")
    table = table3(scores)
    write_table(table, sm.output.tsv)
    with atomic_path(sm.output.md) as tmp:
        tmp.write_text(table.round(4).to_markdown(index=False) + "\n\n" + table3_notes(), encoding="utf-8")
    print(table.to_string())


run(snakemake, main)  # noqa: F821
