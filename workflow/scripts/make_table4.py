"""Table 4: the base setting hyperfitted on each training domain, evaluated on every domain."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.runner import read_json, read_jsonl, write_markdown, write_table
    from hyperfit.sweeptables import data_type_table, table4_human, table4_notes, table4_statistics

    texts = {r["texts"]: read_jsonl(r["texts"]) for r in sm.params.runs}
    scores = {r["scores"]: read_json(r["scores"]) for r in sm.params.runs}
    original = {r["model"]: {"texts": read_jsonl(r["texts"]), "scores": read_json(r["scores"])}
                for r in sm.params.original}
    window = sm.params.ttr_window
    # no rater files given (human.annotations): the human columns say 'not collected'
    human = table4_human(pd.read_csv(sm.input.human, sep="\t", dtype={"preferred_or_equal": str}),
                         sm.params.human) if sm.input.human else None
    table = data_type_table(list(sm.params.runs), texts, scores, original, window, human)
    table = table4_statistics(table, list(sm.params.runs), texts, original, window, sm.params.seed)
    write_table(table, sm.output.tsv)
    first = ["model", "train_data", "seeds"]
    write_markdown(sm.output.md, table[[*first, *(c for c in table.columns if c not in first)]],
                   table4_notes(window))
    print(table.to_string())


run(snakemake, main)  # noqa: F821
