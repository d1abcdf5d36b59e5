"""Table 2: Self-BLEU, Dataset BLEU, training-data overlap, rep-n, diversity, gzip ratio."""
from hyperfit.runner import run


def main(sm):
    from hyperfit.runner import atomic_path, write_table
    from hyperfit.tables import read_text_metrics, table2, table2_notes

    threshold = sm.params.threshold
    table = table2(read_text_metrics(sm.params.runs), threshold)
    write_table(table, sm.output.tsv)
    with atomic_path(sm.output.md) as tmp:
        tmp.write_text(table.round(4).to_markdown(index=False) + "\n\n" + table2_notes(threshold), encoding="utf-8")
    print(table.to_string())


run(snakemake, main)  # noqa: F821
