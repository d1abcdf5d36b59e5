"""Figure 6's table: identical-row share and pixel TTR of the completed part, per variant and for the images."""
from hyperfit.runner import run


def main(sm):
    from hyperfit.images import repetition_table
    from hyperfit.runner import read_json, read_jsonl, write_markdown, write_table

    completions = {v: read_jsonl(p) for v, p in zip(sm.params.variants, sm.input.completions)}
    table = repetition_table(completions, read_json(sm.input.images), sm.params.name)
    write_table(table, sm.output.tsv)
    write_markdown(sm.output.md, table)
    print(table.to_string())


run(snakemake, main)  # noqa: F821
