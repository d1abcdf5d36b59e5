"""The MMLU or GLUE table (original vs hyperfitted, with the difference) from the lm-eval result files."""
from pathlib import Path

import _lib  # noqa: F401
from hyperfit.downstream import glue_table, mmlu_table
from hyperfit.runner import read_json, run, write_table


def main(sm):
    records = {}
    for path in sm.input.results:  # results/lmeval/{model}/{variant}/{suite}.json
        p = Path(path)
        records[(p.parts[-3], p.parts[-2])] = read_json(p)
    table = {"mmlu": mmlu_table, "glue": glue_table}[sm.params.suite](records)
    write_table(table, sm.output.tsv)
    shown = table.round(4)
    write_table(shown.astype(object).where(shown.notna(), ""), sm.output.md)  # skipped tasks: empty cells
    print(table.to_string())


run(snakemake, main)  # noqa: F821
