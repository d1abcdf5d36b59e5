"""Per-text metrics of one generation file."""
import _lib  # noqa: F401
import pandas as pd
from hyperfit.metrics import ttr
from hyperfit.runner import read_jsonl, run, write_table


def main(sm):
    w = sm.params.ttr_window
    rows = [{"domain": r["domain"], "index": r["index"], "n_tokens": len(r["generated_ids"]),
             f"ttr_last{w}": ttr(r["generated_ids"], w), "ttr_full": ttr(r["generated_ids"])}
            for r in read_jsonl(sm.input.texts)]
    write_table(pd.DataFrame(rows), sm.output.table)


run(snakemake, main)  # noqa: F821
