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
    plan = {"train_domain": "fic", "num_samples": 3, "eval_domains": ["fic", "news"], "contexts_per_domain": 2,
            "eval_words": 10, "needs": {"fic": {0: 5}}, "seed": 0, "pool_words": {"fic": 20}}
    sel = select_all(corpora(), plan)
    tokens = tokenize_selection(sel, CharTok(), {"fic": 50}, context_len=2, reference_len=3)
    windows = setting_windows(tokens, {"train_domain": "fic", "seed": 0, "num_samples": 3, "seq_len": 50})
    assert windows == [[ord(c) for c in s["text"][:50]] for s in sel["train"]]
    assert len(sel["pools"]["fic"]["0"]) == 5


def test_unwrap_paragraphs():
    raw = "One two\r\nthree.\r\n\r\n  Four\r\nfive.\r\n"
    assert unwrap_paragraphs(raw) == "One two three.\n\nFour five."
