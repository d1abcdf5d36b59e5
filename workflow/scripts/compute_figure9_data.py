"""Figure 9's data: TTR of the trailing window by position in the generated sequence, per generation file."""
import _lib  # noqa: F401
import pandas as pd
from hyperfit.runner import read_jsonl, run, write_table
from hyperfit.texts import ttr_position_rows


def main(sm):
    rows = []
    for spec, path in zip(sm.params.runs, sm.input.texts):
        texts = [(r["domain"], r["generated_ids"]) for r in read_jsonl(path)]
        rows += [{**spec, **row} for row in ttr_position_rows(texts, sm.params.window, sm.params.step)]
    table = pd.DataFrame(rows)
    write_table(table, sm.output.table)
    print(table[table["domain"] == "all"].to_string())


run(snakemake, main)  # noqa: F821
