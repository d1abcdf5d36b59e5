"""Table 1 against hand-worked values: rows in the paper's order, perplexity, TTR, human columns."""
import math

import pandas as pd
import pytest
from hyperfit.tables import NOT_COLLECTED, decoding_kind, table1, table1_notes

DECODINGS = {"greedy": {"do_sample": False},
             "top_p": {"do_sample": True, "top_p": 0.9, "temperature": 0.7, "top_k": 50},
             "greedy_blocked": {"do_sample": False, "blocker": {"ngram": 5, "word_boundary": True}}}


def texts(ttrs, domains=("a", "a", "b")):
    return pd.DataFrame({"domain": list(domains), "index": range(len(ttrs)), "ttr": ttrs,
                         "ttr_full": [t / 2 for t in ttrs]})


def scores(nll_sums, entropy_sums, ns):
    return pd.DataFrame({"n": ns, "nll_sum": nll_sums, "entropy_sum": entropy_sums})


def inputs():
    text_tables = {  # deliberately out of order
        ("m", "hyperfitted", "top_p", 4): texts([1.0, 1.0, 1.0]),
        ("m", "hyperfitted", "greedy_blocked", 4): texts([1.0, 0.5, 1.0]),
        ("m", "original", "top_p", 4): texts([0.5, 1.0, 1.0]),
        ("m", "hyperfitted", "greedy", 4): texts([0.5, 0.5, 1.0]),
        ("m", "original", "greedy", 4): texts([0.5, 0.5, 0.5]),
    }
    score_tables = {
        ("m", "original"): scores([math.log(2), 3 * math.log(2)], [1.0, 3.0], [2, 2]),  # ppl 2, entropy 1
        ("m", "hyperfitted"): scores([8 * math.log(2)], [2.0], [4]),                    # ppl 4, entropy 0.5
    }
    return text_tables, score_tables


def test_decoding_kind():
    assert [decoding_kind(d) for d in DECODINGS.values()] == ["greedy", "Top-P", "greedy + citation blocker"]
    assert decoding_kind({"do_sample": True, "top_p": 1.0}) == "sampling"
    # a blocker without an n-gram order is no blocker (the schema's default)
    assert decoding_kind({"do_sample": False, "blocker": {"ngram": None, "word_boundary": True}}) == "greedy"


def test_table1_rows_and_values():
    table = table1(*inputs(), decodings=DECODINGS)
    assert list(table["method"]) == ["original greedy", "original Top-P", "hyperfitted greedy",
                                     "hyperfitted greedy + citation blocker", "hyperfitted Top-P"]
    assert list(table["in_paper"]) == [True, True, True, True, False]
    assert table["ppl"].tolist() == pytest.approx([2, 2, 4, 4, 4])
    assert table["entropy"].tolist() == pytest.approx([1, 1, 0.5, 0.5, 0.5])
    assert table["ttr"].tolist() == pytest.approx([0.5, 2.5 / 3, 2 / 3, 2.5 / 3, 1.0])
    assert table["ttr_a"].tolist() == pytest.approx([0.5, 0.75, 0.5, 0.75, 1.0])
    assert table["ttr_b"].tolist() == pytest.approx([0.5, 1.0, 1.0, 1.0, 1.0])
    assert table["ttr_full"].tolist() == pytest.approx([0.25, 2.5 / 6, 1 / 3, 2.5 / 6, 0.5])
    assert (table["texts"] == 3).all() and (table["length"] == 4).all()
    # the human columns are text, never a number, until ratings exist
    assert table["human_pref_or_equal"].tolist() == [NOT_COLLECTED] * 5
    # every column the raters' results fill (hyperfit.human.TABLE1_COLUMNS) is there before they exist, as after
    from hyperfit.human import TABLE1_COLUMNS

    assert all((table[c] == NOT_COLLECTED).all() for c in TABLE1_COLUMNS.values())


def test_table1_takes_human_columns_where_rated():
    human = pd.DataFrame([{"model": "m", "variant": "hyperfitted", "decoding": "greedy", "length": 4,
                           "human_pref_or_equal": 40.0, "human_kappa": 0.2}])
    table = table1(*inputs(), decodings=DECODINGS, human=human)
    row = table[table["method"] == "hyperfitted greedy"].iloc[0]
    assert row["human_pref_or_equal"] == 40.0 and row["human_kappa"] == 0.2
    others = table[table["method"] != "hyperfitted greedy"]
    assert (others["human_pref_or_equal"] == NOT_COLLECTED).all() and (others["human_kappa"] == NOT_COLLECTED).all()


def test_table1_notes_name_every_column_group():
    notes = table1_notes(96)
    for word in ("in_paper", "ppl", "ttr", "last 96", "human_pref_or_equal", NOT_COLLECTED):
        assert word in notes


def test_table1_statistics_pair_each_trained_row_with_its_original_row():
    from hyperfit.tables import table1_statistics

    text_tables, score_tables = inputs()
    for df in text_tables.values():
        df["index"] = range(len(df))
    for df in score_tables.values():
        df["domain"], df["index"] = "a", range(len(df))
    table = table1_statistics(table1(text_tables, score_tables, decodings=DECODINGS), text_tables, score_tables,
                              seed=0)
    row = table.set_index("method")
    assert row.loc["hyperfitted greedy", "ttr_vs"] == "original greedy"
    assert row.loc["hyperfitted greedy", "ttr_diff"] == pytest.approx(2 / 3 - 0.5)  # (0, 0, 0.5) / 3
    assert row.loc["hyperfitted greedy + citation blocker", "ttr_vs"] == "original greedy"
    assert row.loc["hyperfitted Top-P", "ttr_vs"] == "original Top-P"
    assert row.loc["hyperfitted Top-P", "ttr_diff"] == pytest.approx(1.0 - 2.5 / 3)
    assert row.loc["original greedy", "ttr_vs"] == "" and math.isnan(row.loc["original greedy", "ttr_diff"])
    assert row.loc["original greedy", "ttr_ci_low"] == row.loc["original greedy", "ttr_ci_high"] == 0.5
    low, high = row.loc["hyperfitted greedy", ["ttr_ci_low", "ttr_ci_high"]]
    assert 0.5 <= low <= 2 / 3 <= high <= 1.0
    assert row.loc["original greedy", "ppl_ci_low"] <= 2 <= row.loc["original greedy", "ppl_ci_high"]
