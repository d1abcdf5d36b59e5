"""Table 1 (automatic columns): TTR per model x variant x decoding x length, perplexity and entropy."""
from pathlib import Path

import _lib  # noqa: F401
import pandas as pd
from hyperfit.runner import run, write_table
from hyperfit.tables import table1


def main(sm):
    texts, scores = {}, {}
    for path in sm.input.texts:  # results/metrics/{model}/{variant}/texts_{decoding}-{length}.tsv
        p = Path(path)
        decoding, length = p.stem.removeprefix("texts_").rsplit("-", 1)
        texts[(p.parts[-3], p.parts[-2], decoding, int(length))] = pd.read_csv(p, sep="\t")
    for path in sm.input.scores:
        p = Path(path)
        scores[(p.parts[-3], p.parts[-2])] = pd.read_csv(p, sep="\t")
    window = int(next(c for c in next(iter(texts.values())).columns if c.startswith("ttr_last"))[8:])
    table = table1(texts, scores, window)
    write_table(table, sm.output.tsv)
    write_table(table.round(4), sm.output.md)
    print(table.to_string())


run(snakemake, main)  # noqa: F821
