"""Data subsetting: passage grid, disjoint selection, clear errors, tokenisation."""
import pytest
from hyperfit.assets import unwrap_paragraphs
from hyperfit.data import (check_disjoint, passage_slots, select_all, select_passages, setting_windows,
                           tokenize_selection)
from hyperfit.errors import UserError


def words(n, prefix="w"):
    return " ".join(f"{prefix}{i}" for i in range(n))


def test_passage_slots_grid():
    text = "a bb  ccc\nd e"  # 5 words
    slots = passage_slots("doc", text, 2)
    assert [s["text"] for s in slots] == ["a bb", "ccc\nd"]  # the 5th word is left over
    assert (slots[1]["start"], slots[1]["end"]) == (6, 11)
    assert text[slots[1]["start"]:slots[1]["end"]] == "ccc\nd"


def corpora():
    return {"fic": [{"id": "book", "text": words(400, "f")}],
            "news": [{"id": f"n{i}", "text": words(30, f"n{i}_")} for i in range(5)]}


def test_select_is_disjoint_seeded_and_spread():
    a = select_passages(corpora(), "fic", 10, 20, ["fic", "news"], 4, 10, seed=1)
    b = select_passages(corpora(), "fic", 10, 20, ["fic", "news"], 4, 10, seed=1)
    assert a == b
    train_spans = [(s["start"], s["end"]) for s in a["train"]]
    for s in a["eval"]["fic"]:
        assert all(s["end"] <= st or en <= s["start"] for st, en in train_spans)
    assert len({s["doc"] for s in a["eval"]["news"]}) == 4   # one per document first
    c = select_passages(corpora(), "fic", 10, 20, ["fic", "news"], 4, 10, seed=2)
    assert c["train"] != a["train"]


def test_too_little_text_is_a_clear_error():
    with pytest.raises(UserError, match=r"text for 20 training passages of 20 words, the config asks 21"):
        select_passages(corpora(), "fic", 21, 20, ["fic"], 1, 10, seed=0)
    # news: 5 documents x 3 passages of 10 words = 15 free passages
    with pytest.raises(UserError, match=r"'news' has 15 free passages of 10 words in 5 documents, the config asks 16"):
        select_passages(corpora(), "fic", 2, 20, ["news"], 16, 10, seed=0)


def test_overlap_is_detected():
    sel = select_passages(corpora(), "fic", 2, 20, ["fic"], 1, 10, seed=0)
    t = sel["train"][0]
    sel["eval"]["fic"] = [{**t, "start": t["start"] + 3, "end": t["end"] + 3, "text": "x"}]
    with pytest.raises(UserError, match="overlaps a training window"):
        check_disjoint(sel)


class CharTok:
    """Each character is one token (id = ord)."""

    def __call__(self, text):
        return {"input_ids": [ord(c) for c in text]}


def test_tokenize_selection_cuts_pools_and_evaluation_texts():
    sel = {"pools": {"x": {"0": [{"doc": "d", "start": 0, "end": 6, "text": "abcdef"}]}},
           "eval": {"x": [{"doc": "e", "start": 0, "end": 5, "text": "vwxyz"}]}}
    out = tokenize_selection(sel, CharTok(), {"x": 4}, context_len=2, reference_len=3)
    assert out["pools"] == {"x": {"0": [{"doc": "d", "start": 0, "ids": [97, 98, 99, 100]}]}}
    assert out["eval"] == [{"domain": "x", "index": 0, "context": [118, 119], "reference": [120, 121, 122]}]
    assert setting_windows(out, {"train_domain": "x", "seed": 0, "num_samples": 1, "seq_len": 3}) == [[97, 98, 99]]
    with pytest.raises(UserError, match="fewer than context\\+reference=6"):
        tokenize_selection(sel, CharTok(), {"x": 4}, context_len=3, reference_len=3)


def test_the_main_run_takes_the_windows_the_main_selection_chose():
    sel = select_all(corpora(), plan())
    tokens = tokenize_selection(sel, CharTok(), {"fic": 50}, context_len=2, reference_len=3)
    windows = setting_windows(tokens, {"train_domain": "fic", "seed": 0, "num_samples": 3, "seq_len": 50})
    assert windows == [[ord(c) for c in s["text"][:50]] for s in sel["train"]]
    assert len(sel["pools"]["fic"]["0"]) == 5
    assert [it["domain"] for it in tokens["validation"]["fic"]] == ["fic"] * 4


def plan(**changes):
    return {"train_domain": "fic", "num_samples": 3, "eval_domains": ["fic", "news"], "contexts_per_domain": 2,
            "eval_words": 10, "needs": {"fic": {0: 5}}, "seed": 0, "pool_words": {"fic": 20},
            "validation": {"fic": 4}, "separate_documents": "auto", **changes}


def test_validation_texts_are_held_out_of_the_training_domain():
    sel = select_all(corpora(), plan())
    held = [(s["start"], s["end"]) for s in sel["eval"]["fic"] + sel["train"] + sel["pools"]["fic"]["0"]]
    for v in sel["validation"]["fic"]:
        assert v["doc"] == "book" and all(v["end"] <= a or b <= v["start"] for a, b in held)


def many_docs():
    return {"fic": [{"id": f"s{i}", "text": words(60, f"s{i}_")} for i in range(12)],
            "news": [{"id": f"n{i}", "text": words(30, f"n{i}_")} for i in range(5)]}


def test_separate_documents_keeps_evaluation_and_validation_out_of_training_documents():
    sel = select_all(many_docs(), plan(needs={"fic": {0: 5, 1: 3}}, validation={"fic": 2}))
    train_docs = {s["doc"] for s in sel["train"]} | {s["doc"] for p in sel["pools"]["fic"].values() for s in p}
    held_docs = {s["doc"] for s in sel["eval"]["fic"] + sel["validation"]["fic"]}
    assert train_docs and held_docs and not train_docs & held_docs
    mixed = select_all(many_docs(), plan(separate_documents=False, needs={"fic": {0: 3}}, num_samples=3,
                                         contexts_per_domain=5))
    assert {s["doc"] for s in mixed["train"]} & {s["doc"] for s in mixed["eval"]["fic"]}  # span separation only


def test_evaluation_documents_of_their_own_are_used_for_evaluation_only():
    corp = many_docs()
    corp["fic"] = [{**d, "role": "train" if i < 8 else "eval"} for i, d in enumerate(corp["fic"])]
    sel = select_all(corp, plan(separate_documents=False))
    assert {s["doc"] for s in sel["eval"]["fic"]} <= {"s8", "s9", "s10", "s11"}
    assert {s["doc"] for s in sel["train"] + sel["validation"]["fic"]} <= {f"s{i}" for i in range(8)}


def test_preflight_names_every_shortfall_before_selecting():
    with pytest.raises(UserError, match=r"not enough text: fic needs 3640 words \(80 training windows of 20 words, "
                                        r"204 evaluation and validation texts of 10 words\) and has 400; news needs "
                                        r"2000 words \(200 evaluation and validation texts of 10 words\) and has 150"):
        select_all(corpora(), plan(needs={"fic": {0: 80}}, contexts_per_domain=200))


def test_unwrap_paragraphs():
    raw = "One two\r\nthree.\r\n\r\n  Four\r\nfive.\r\n"
    assert unwrap_paragraphs(raw) == "One two three.\n\nFour five."


def test_a_placeholder_dataset_id_names_the_key_and_the_choices():
    from hyperfit.assets import check_hub_dataset

    with pytest.raises(UserError, match=r"corpora.fiction.dataset: 'fiction-stories' is not a hub dataset id: set it "
                                        r"to the owner/name id of your copy .* or set corpora.fiction.reader: text_files"):
        check_hub_dataset({"dataset": "fiction-stories"}, "corpora.fiction")
    check_hub_dataset({"dataset": "RealTimeData/bbc_news_alltime"}, "corpora.news")


def test_wikitext_rows_become_articles():
    from hyperfit.assets import wikitext_articles

    rows = ["", " = Alpha = \n", "", " First paragraph . \n", " = = History = = \n", " Second . \n",
            " = Beta = \n", " Only one . \n", " = Empty = \n"]
    assert wikitext_articles(rows) == ["First paragraph .\n\nSecond .", "Only one ."]


# ------------------------------------------------------------------ corpora shaped like a researcher's own
def held_out_guarantees(corpus: list[dict], sel: dict, plan_: dict, domain: str = "fic") -> None:
    """What the selection promises: every text and window has its configured length in words, no text shares a
    word with a training window, and with separated documents no held-out text shares a document with one."""
    from hyperfit.data import _overlaps

    train = sel["train"] + [s for pool in sel["pools"][domain].values() for s in pool]
    held = sel["eval"].get(domain, []) + sel["validation"][domain]
    assert all(len(s["text"].split()) == plan_["eval_words"] for s in held)
    assert all(len(s["text"].split()) == plan_["pool_words"][domain] for s in train)
    assert len(sel["validation"][domain]) == plan_["validation"][domain]
    if domain in plan_["eval_domains"]:
        assert len(sel["eval"][domain]) == plan_["contexts_per_domain"]
    spans = {}
    for s in train:
        spans.setdefault(s["doc"], []).append((s["start"], s["end"]))
    assert not any(_overlaps(s, spans.get(s["doc"], [])) for s in held)
    assert len({(s["doc"], s["start"]) for s in held}) == len(held)   # no text twice
    texts = {d["id"]: d["text"] for d in corpus}
    assert all(texts[s["doc"]][s["start"]:s["end"]] == s["text"] for s in held + train)
    if sel["separation"][domain] == "documents":
        assert not {s["doc"] for s in held} & {s["doc"] for s in train}


def user_plan(**changes):
    """The default's shape: 16 windows, 10 evaluation and 6 validation texts, sweeps' pools up to 16."""
    return plan(**{"num_samples": 16, "contexts_per_domain": 10, "validation": {"fic": 6}, "eval_words": 40,
                   "eval_domains": ["fic"], "pool_words": {"fic": 40}, "needs": {"fic": {0: 16, 1: 8}}, **changes})


def few_long_documents(n=8, length=3000):
    return {"fic": [{"id": f"book{i}", "text": words(length, f"b{i}_")} for i in range(n)]}


def test_a_few_long_documents_give_their_held_out_texts_from_documents_of_their_own():
    corpora_ = few_long_documents()
    for mode in ("auto", True):
        sel = select_all(corpora_, user_plan(separate_documents=mode))
        held_out_guarantees(corpora_["fic"], sel, user_plan())
        assert sel["separation"] == {"fic": "documents"}
    # each role gets whole documents in proportion to the words it needs: 400 : 240 : 640 words of 8 books
    assert len({s["doc"] for s in sel["eval"]["fic"]}) == 3 and len({s["doc"] for s in sel["validation"]["fic"]}) == 2
    assert select_all(corpora_, user_plan()) == select_all(corpora_, user_plan())   # seeded
    assert select_all(corpora_, user_plan(seed=1))["eval"] != sel["eval"]


def test_many_short_documents_give_one_held_out_text_each():
    corpora_ = {"fic": [{"id": f"story{i:03d}", "text": words(90 + i % 40, f"s{i}_")} for i in range(200)]}
    sel = select_all(corpora_, user_plan())
    held_out_guarantees(corpora_["fic"], sel, user_plan())
    assert len({s["doc"] for s in sel["eval"]["fic"]}) == 10 and len({s["doc"] for s in sel["validation"]["fic"]}) == 6


def test_one_document_keeps_only_the_words_apart_where_the_config_allows_it():
    corpora_ = {"fic": [{"id": "book", "text": words(3000, "f")}]}
    for mode in ("auto", False):
        sel = select_all(corpora_, user_plan(separate_documents=mode))
        held_out_guarantees(corpora_["fic"], sel, user_plan())
        assert sel["separation"] == {"fic": "spans"}
    with pytest.raises(UserError, match=r"^data.separate_documents is true, but domain 'fic' has too few documents to "
                                        r"keep its held-out texts out of the training windows' documents: each side "
                                        r"needs documents of its own \(10 evaluation texts 400 words, 6 validation "
                                        r"texts 240 words, 16 training windows 640 words: 3 documents at least\), and "
                                        r"it has 1 document of 3000 words \(3000\): set data.separate_documents: auto "
                                        r"\(or false\) .*, give held-out files as corpora.fic.eval_paths, or lower "
                                        r"data.contexts_per_domain, data.validation_texts or data.num_samples$"):
        select_all(corpora_, user_plan(separate_documents=True))


def test_two_documents_are_too_few_for_three_roles():
    corpora_ = few_long_documents(n=2)
    assert select_all(corpora_, user_plan())["separation"] == {"fic": "spans"}
    with pytest.raises(UserError, match=r"and it has 2 documents of 6000 words \(3000, 3000\)"):
        select_all(corpora_, user_plan(separate_documents=True))


def test_the_issue_s_ten_books_no_longer_run_out_of_validation_texts():
    """Ten long books, windows drawn first, left no document for the validation texts; reserved first, they fit."""
    corpora_ = few_long_documents(n=10, length=2100)
    sel = select_all(corpora_, user_plan(separate_documents=True))
    held_out_guarantees(corpora_["fic"], sel, user_plan())


def test_own_evaluation_files_leave_validation_texts_to_documents_without_windows():
    corpus = [{**d, "role": "train"} for d in few_long_documents(n=5)["fic"]]
    corpus += [{"id": "held", "text": words(800, "h"), "role": "eval"}]
    sel = select_all({"fic": corpus}, user_plan())
    held_out_guarantees(corpus, sel, user_plan())
    assert {s["doc"] for s in sel["eval"]["fic"]} == {"held"}
    assert "held" not in {s["doc"] for s in sel["validation"]["fic"]}


def test_the_summary_counts_documents_and_words_per_role():
    from hyperfit.data import selection_notes, selection_summary

    corpora_ = few_long_documents()
    sel = select_all(corpora_, user_plan())
    rows = {r["role"]: r for r in selection_summary(corpora_, sel)}
    assert (rows["evaluation"]["texts"], rows["evaluation"]["documents"], rows["evaluation"]["words"]) == (10, 3, 9000)
    pools = {(w["doc"], w["start"]) for pool in sel["pools"]["fic"].values() for w in pool}
    assert rows["validation"]["documents"] == 2 and rows["training"]["texts"] == len(pools) > 16   # seeds 0 and 1
    assert rows["evaluation"]["shared_with_training"] == rows["validation"]["shared_with_training"] == 0
    assert selection_notes(list(rows.values())) == [
        "fic: 10 evaluation texts from 3 documents (9000 words), 6 validation texts from 2 documents (6000 words); "
        f"{len(pools)} training windows of all settings from {rows['training']['documents']} documents ({rows['training']['words']} words); "
        "held-out texts from documents that supply no training window"]


def test_an_unknown_separation_is_refused():
    with pytest.raises(UserError, match="data.separate_documents must be auto, true or false, not 'sometimes'"):
        select_all(corpora(), plan(separate_documents="sometimes"))


def test_the_tables_notes_say_where_the_texts_come_from(tmp_path):
    import pandas as pd
    from hyperfit.data import selection_markdown, selection_summary

    corpora_ = {"fic": [{"id": "book", "text": words(3000, "f")}]}
    summary = tmp_path / "selection.tsv"
    pd.DataFrame(selection_summary(corpora_, select_all(corpora_, user_plan()))).to_csv(summary, sep="\t", index=False)
    note = selection_markdown(str(summary))
    assert note.startswith("\nWhere the texts come from (results/data/selection.tsv; data.separate_documents):\n\n- fic: "
                           "10 evaluation texts from 1 document (3000 words), 6 validation texts from 1 document")
    assert note.endswith("held-out texts from the documents of the training windows, never their words (too few "
                         "documents to separate)\n")
