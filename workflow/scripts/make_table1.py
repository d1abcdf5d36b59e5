"""Table 1: perplexity, TTR, MAUVE, quality and the human-preference columns per model x length x method."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.data import selection_markdown
    from hyperfit.human import table1_columns
    from hyperfit.runner import read_json, write_markdown, write_table
    from hyperfit.quality import quality_notes
    from hyperfit.tables import mauve_rows, table1, table1_notes, table1_quality, table1_statistics

    texts = {(r["model"], r["variant"], r["decoding"], r["length"]): pd.read_csv(r["metrics"], sep="\t")
             for r in sm.params.runs}
    scores = {(r["model"], r["variant"]): pd.DataFrame(read_json(r["scores"])) for r in sm.params.variants}
    window = sm.params.ttr_window
    # no rater files given (human.annotations): the human columns say 'not collected'
    human = table1_columns(pd.read_csv(sm.input.human, sep="\t")) if sm.input.human else None
    table = table1_statistics(table1(texts, scores, sm.params.decodings, human=human), texts, scores, sm.params.seed)
    frames = [pd.read_csv(p, sep="\t") for p in sm.input.mauve]
    mauve = pd.concat(frames)
    mauve = {(r.model, r.setting, r.method, int(r.length)): r.mauve for r in mauve.itertuples() if r.weights == "model"}
    table["mauve"] = [mauve[(r.model, r.variant, r.decoding, int(r.length))] for r in table.itertuples()]
    # quality beside diversity: scorer perplexity, coherence, the human continuations' own, MAUVE per domain
    rows = mauve_rows([f[f["weights"] == "model"] for f in frames], ("model", "setting", "method", "length"))
    quality = {(r["model"], r["variant"], r["decoding"], r["length"]): pd.read_csv(r["quality"], sep="\t")
               for r in sm.params.runs}
    human_quality = {(r["model"], r["length"]): pd.read_csv(r["human_quality"], sep="\t") for r in sm.params.runs}
    table = table1_quality(table, quality, human_quality, rows, sm.params.seed)
    write_table(table, sm.output.tsv)
    notes = table1_notes(window, quality_notes(sm.params.quality, sm.params.models))
    write_markdown(sm.output.md, table, notes + selection_markdown(sm.input.selection))
    print(table.to_string())


run(snakemake, main)  # noqa: F821
