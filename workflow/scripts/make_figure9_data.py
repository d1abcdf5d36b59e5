"""Figure 9's data: TTR of the trailing window by position in the generated sequence, per generation file."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.runner import read_jsonl, write_table
    from hyperfit.texts import ttr_position_rows

    rows = []
    for r in sm.params.runs:
        texts = [(t["domain"], t["generated_ids"]) for t in read_jsonl(r["texts"])]
        spec = {"model": r["model"], "variant": r["variant"], "decoding": r["decoding"], "length": r["length"]}
        rows += [{**spec, **row} for row in ttr_position_rows(texts, sm.params.window, sm.params.step)]
    table = pd.DataFrame(rows)
    write_table(table, sm.output.table)
    print(table[table["domain"] == "all"].to_string())


run(snakemake, main)  # noqa: F821
