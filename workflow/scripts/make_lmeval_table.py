"""The MMLU or GLUE table (original vs hyperfitted, with the difference) from the lm-eval result files."""
from hyperfit.runner import run


def main(sm):
    from hyperfit.downstream import glue_table, mmlu_table
    from hyperfit.runner import read_json, write_markdown, write_table

    records = {(r["model"], r["variant"]): read_json(path) for r, path in zip(sm.params.runs, sm.input.results)}
    table = {"mmlu": mmlu_table, "glue": glue_table}[sm.wildcards.suite](records)
    write_table(table, sm.output.tsv)
    limits = [c for c in ("limit", "limit_per_subject") if c in table]  # no limit: every question
    write_markdown(sm.output.md, table.astype({c: object for c in limits}).fillna({c: "none" for c in limits}))
    print(table.to_string())


run(snakemake, main)  # noqa: F821
