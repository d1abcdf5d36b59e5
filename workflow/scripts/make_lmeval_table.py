"""The MMLU or GLUE table (original vs hyperfitted, with the difference) from the lm-eval result files."""
from hyperfit.runner import run


def main(sm):
    from hyperfit.downstream import glue_table, mmlu_table
    from hyperfit.runner import read_json, write_table

    records = {(r["model"], r["variant"]): read_json(path) for r, path in zip(sm.params.runs, sm.input.results)}
    table = {"mmlu": mmlu_table, "glue": glue_table}[sm.wildcards.suite](records)
    write_table(table, sm.output.tsv)
    shown = table.round(4)
    write_table(shown.astype(object).where(shown.notna(), ""), sm.output.md)  # skipped tasks: empty cells
    print(table.to_string())


run(snakemake, main)  # noqa: F821
