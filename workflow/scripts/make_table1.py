"""Table 1: perplexity, TTR and the human-preference columns per model x length x method."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.data import selection_markdown
    from hyperfit.human import table1_columns
    from hyperfit.runner import read_json, write_markdown, write_table
    from hyperfit.tables import table1, table1_notes, table1_statistics

    texts = {(r["model"], r["variant"], r["decoding"], r["length"]): pd.read_csv(r["metrics"], sep="\t")
             for r in sm.params.runs}
    scores = {(r["model"], r["variant"]): pd.DataFrame(read_json(r["scores"])) for r in sm.params.variants}
    window = sm.params.ttr_window
    # no rater files given (human.annotations): the human columns say 'not collected'
    human = table1_columns(pd.read_csv(sm.input.human, sep="\t")) if sm.input.human else None
    table = table1_statistics(table1(texts, scores, sm.params.decodings, human=human), texts, scores, sm.params.seed)
    mauve = pd.concat([pd.read_csv(p, sep="\t") for p in sm.input.mauve])
    mauve = {(r.model, r.setting, r.method, int(r.length)): r.mauve for r in mauve.itertuples() if r.weights == "model"}
    table["mauve"] = [mauve[(r.model, r.variant, r.decoding, int(r.length))] for r in table.itertuples()]
    write_table(table, sm.output.tsv)
    write_markdown(sm.output.md, table, table1_notes(window) + selection_markdown(sm.input.selection))
    print(table.to_string())


run(snakemake, main)  # noqa: F821
