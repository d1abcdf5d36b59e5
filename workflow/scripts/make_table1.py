"""Table 1: perplexity, TTR, MAUVE, quality and the human-preference columns per model x length x method."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.data import selection_markdown
    from hyperfit.human import ingest, table1_columns
    from hyperfit.judge import add_table1_judge, judge_notes, sanity_lines, table1_judge_columns
    from hyperfit.runner import read_json, write_markdown, write_table
    from hyperfit.quality import QualityTables, quality_notes
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
    measured = QualityTables(sm.input.quality)
    quality = {(r["model"], r["variant"], r["decoding"], r["length"]): measured.texts(r["texts"])
               for r in sm.params.runs}
    human_quality = {(r["model"], r["length"]): measured.human(r["model"], r["length"]) for r in sm.params.runs}
    table = table1_quality(table, quality, human_quality, rows, sm.params.seed)
    # the LLM judge on the study's pairs, its agreement with the raters where rater files exist, its sanity check
    j = sm.params.judge
    key = ratings = None
    if sm.input.get("annotations"):
        key = pd.read_csv(sm.input.key, sep="\t", dtype={"raters": str})
        ratings = ingest(list(sm.input.annotations), key)
    judgements = pd.concat([pd.read_csv(f, sep="\t", dtype={"context": str}) for f in sm.input.judge])
    table = add_table1_judge(table, table1_judge_columns(judgements, j["iterations"], sm.params.seed, key, ratings))
    sanity = pd.concat([pd.read_csv(f, sep="\t") for f in sm.input.judge_shuffled])
    write_table(table, sm.output.tsv)
    notes = table1_notes(window, quality_notes(sm.params.quality, sm.params.models))
    notes += "\n".join([*judge_notes(j["name"], j["method"], j["iterations"], j["default"], "judge_").splitlines()[2:],
                        *sanity_lines(sanity, j["name"]), ""])
    write_markdown(sm.output.md, table, notes + selection_markdown(sm.input.selection))
    print(table.to_string())


run(snakemake, main)  # noqa: F821
