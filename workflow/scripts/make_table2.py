"""Table 2: Self-BLEU, Dataset BLEU, training-data overlap, rep-n, diversity, gzip ratio."""
from hyperfit.runner import run


def main(sm):
    from hyperfit.runner import write_markdown, write_table
    from hyperfit.tables import read_text_metrics, table2, table2_notes

    threshold = sm.params.threshold
    table = table2(read_text_metrics(sm.params.runs), threshold)
    write_table(table, sm.output.tsv)
    write_markdown(sm.output.md, table, table2_notes(threshold))
    print(table.to_string())


run(snakemake, main)  # noqa: F821
