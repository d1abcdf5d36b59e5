"""Table 3: sharpness of the next-token distribution (entropy, top-1/3/5 mass, perplexity) per domain."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.data import selection_markdown
    from hyperfit.runner import read_json, write_markdown, write_table
    from hyperfit.sharpness import table3, table3_notes, table3_statistics

    scores = {(r["model"], r["variant"]): pd.DataFrame(read_json(r["scores"])) for r in sm.params.runs}
    table = table3_statistics(table3(scores), scores, sm.params.seed)
    write_table(table, sm.output.tsv)
    write_markdown(sm.output.md, table, table3_notes() + selection_markdown(sm.input.selection))
    print(table.to_string())


run(snakemake, main)  # noqa: F821
