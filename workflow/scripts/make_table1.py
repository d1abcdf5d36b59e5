"""Table 1: perplexity, TTR and the human-preference columns per model x length x method."""
from pathlib import Path

import _lib  # noqa: F401
import pandas as pd
from hyperfit.human import table1_columns
from hyperfit.runner import atomic_path, run, write_table
from hyperfit.tables import read_generation_tables, table1, table1_notes


def main(sm):
    texts = read_generation_tables(sm.input.texts, "texts")
    scores = {(Path(p).parts[-3], Path(p).parts[-2]): pd.read_csv(p, sep="\t") for p in sm.input.scores}
    window = sm.params.ttr_window
    human = table1_columns(pd.read_csv(sm.input.human, sep="\t"))
    table = table1(texts, scores, window, sm.params.decodings, human=human)
    write_table(table, sm.output.tsv)
    with atomic_path(sm.output.md) as tmp:
        tmp.write_text(table.round(4).to_markdown(index=False) + "\n\n" + table1_notes(window), encoding="utf-8")
    print(table.to_string())


run(snakemake, main)  # noqa: F821
