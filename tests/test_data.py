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
            "validation": {"fic": 4}, "separate_documents": True, **changes}


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
