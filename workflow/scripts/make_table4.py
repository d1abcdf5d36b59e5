"""Table 4: the base setting hyperfitted on each training domain, evaluated on every domain (TTR, perplexity,
MAUVE, quality)."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.judge import NOT_JUDGED, table4_judge
    from hyperfit.quality import QualityTables, quality_notes
    from hyperfit.runner import read_json, read_jsonl, write_markdown, write_table
    from hyperfit.settings import ORIGINAL
    from hyperfit.sweeptables import (ORIGINAL_ROW, data_type_table, quality_point_values, quality_text_statistics,
                                      table4_human, table4_notes, table4_statistics)
    from hyperfit.tables import mauve_rows

    texts = {r["texts"]: read_jsonl(r["texts"]) for r in sm.params.runs}
    scores = {r["scores"]: read_json(r["scores"]) for r in sm.params.runs}
    original = {r["model"]: {"texts": read_jsonl(r["texts"]), "scores": read_json(r["scores"]), "texts_path": r["texts"]}
                for r in sm.params.original}
    # quality beside diversity: each run's scorer perplexity, coherence, the human continuations' own, and MAUVE
    mauve = mauve_rows([pd.read_csv(p, sep="\t") for p in sm.input.mauve], ("model", "setting", "weights", "method",
                                                                           "length"))
    extra, quality = {}, {}
    measured = QualityTables(sm.input.quality)
    for r in [*sm.params.original, *sm.params.runs]:
        per_text = measured.texts(r["texts"])
        m = mauve[(r["model"], r["setting"], r["weights"], r["method"], int(r["length"]))]
        extra[r["texts"]] = {"mauve": m["mauve"], **quality_point_values(per_text, measured.human(r["model"],
                                                                                                 r["length"]), m)}
        label = r["label"] if r["setting"] != ORIGINAL else ORIGINAL_ROW
        quality.setdefault((r["model"], label), []).append(per_text)
    window = sm.params.ttr_window
    # no rater files given (human.annotations): the human columns say 'not collected'
    human = table4_human(pd.read_csv(sm.input.human, sep="\t", dtype={"preferred_or_equal": str}),
                         sm.params.human) if sm.input.human else None
    table = data_type_table(list(sm.params.runs), texts, scores, original, window, human, extra)
    table = table4_statistics(table, list(sm.params.runs), texts, original, window, sm.params.seed)
    # the LLM judge on the same pairs as the raters' Table 4 columns
    j = sm.params.judge
    judged = {}
    if sm.input.judge:  # human.table4: the study (and the judge) pair Table 4's models
        judgements = pd.concat([pd.read_csv(f, sep="\t", dtype={"context": str}) for f in sm.input.judge])
        judged = table4_judge(judgements, j["iterations"], sm.params.seed, sm.params.human)
    for col in [c for c in table.columns if c.startswith("human_")]:
        name = "judge_" + col[len("human_"):]
        table[name] = [judged.get((m, t), {}).get(name, NOT_JUDGED) for m, t in zip(table["model"], table["train_data"])]
    table = quality_text_statistics(table, quality, ["model", "train_data"], "all", sm.params.seed)
    write_table(table, sm.output.tsv)
    first = ["model", "train_data", "seeds"]
    hidden = [f"{c}_ci_{e}" for c in ("scorer_ppl_human", "coherence_human", "mauve_pairs") for e in ("low", "high")]
    write_markdown(sm.output.md, table[[*first, *(c for c in table.columns if c not in first and c not in hidden)]],
                   table4_notes(window, quality_notes(sm.params.quality, sm.params.models))
                   + f"- judge_<domain>, judge_all: the same share from the LLM judge ({j['name']}, config judge) on the "
                   "same pairs, each judged in both orders (a side wins only when both orders say so; Table 1's notes "
                   "give the judge's sanity check).\n")
    print(table.to_string())


run(snakemake, main)  # noqa: F821
