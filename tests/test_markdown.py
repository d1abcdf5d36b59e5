"""The people's view of the result tables (hyperfit.readable) against hand-worked tables: intervals merged into one
cell, numbers rounded alike down a column, p-values only beside their paired difference, columns with nothing to
show left out and named; the .tsv beside it untouched."""
import math
import re
from pathlib import Path

import pandas as pd
import pytest
from hyperfit.readable import (NOT_COLLECTED, column_format, format_p, interval_cell, readable_markdown,
                               readable_table)
from hyperfit.runner import write_markdown, write_table

ROOT = Path(__file__).resolve().parents[1]
NAN = math.nan


def header(markdown: str) -> list[str]:
    """The column names of the first Markdown table in a text."""
    line = next(line for line in markdown.splitlines() if line.startswith("|"))
    return [c.strip() for c in line.strip("|").split("|")]


def cells(view, column) -> list[str]:
    return view.table[column].tolist()


def body(markdown: str) -> list[list[str]]:
    """The rows of the first Markdown table in a text, each as its stripped cells."""
    lines = [line for line in markdown.splitlines() if line.startswith("|")]
    return [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]


# ------------------------------------------------------------------------------------------ intervals
def test_an_estimate_and_its_interval_share_one_cell():
    df = pd.DataFrame({"method": ["original greedy", "hyperfitted greedy"],
                       "ttr": [0.5, 0.5391], "ttr_ci_low": [0.45, 0.4908], "ttr_ci_high": [0.55, 0.5842],
                       "pref": [40.0, 75.0], "pref_lo": [30.0, 58.3333], "pref_hi": [50.0, 91.6667]})
    view = readable_table(df)
    assert list(view.table.columns) == ["method", "ttr", "pref"]  # the bounds live in the estimate's cell
    assert cells(view, "ttr") == ["0.500 [0.450, 0.550]", "0.539 [0.491, 0.584]"]
    assert cells(view, "pref") == ["40.0 [30.0, 50.0]", "75.0 [58.3, 91.7]"]  # hyperfit.human's _lo/_hi
    assert view.align == ["left", "right", "right"]
    assert view.lines[0].startswith('"value [low, high]": the value and its 95% interval')
    assert view.lines[0].endswith(": ttr, pref.")


def test_a_missing_interval_leaves_the_value_and_a_missing_value_an_empty_cell():
    df = pd.DataFrame({"ttr": [0.5, 0.25, NAN], "ttr_ci_low": [NAN, 0.2, NAN], "ttr_ci_high": [NAN, 0.3, NAN]})
    assert cells(readable_table(df), "ttr") == ["0.500", "0.250 [0.200, 0.300]", ""]  # one seed: no interval


def test_an_interval_without_its_own_estimate_gets_a_column_of_its_own():
    df = pd.DataFrame({"ttr_average": [0.5], "ttr_all_ci_low": [0.4821], "ttr_all_ci_high": [0.5179]})
    view = readable_table(df)
    assert list(view.table.columns) == ["ttr_average", "ttr_all (95% interval)"]
    assert cells(view, "ttr_all (95% interval)") == ["[0.482, 0.518]"]


def test_explicit_interval_columns():
    df = pd.DataFrame({"estimate": [0.1234], "ci_low": [0.1], "ci_high": [0.2]})
    view = readable_table(df, intervals={"estimate": ("ci_low", "ci_high")})
    assert list(view.table.columns) == ["estimate"] and cells(view, "estimate") == ["0.123 [0.100, 0.200]"]


# ------------------------------------------------------------------------------------------ rounding
@pytest.mark.parametrize("values, bounds, written", [
    ([0.5391, 0.2], [], ["0.539", "0.200"]),                       # in [-1, 1]: 3 decimals
    ([23.456, 101.23], [], ["23.5", "101.2"]),                     # 3 significant digits of the smallest
    ([2.3456, 8.0], [], ["2.35", "8.00"]),
    ([1234.56, 2345.67], [], ["1235", "2346"]),
    ([21.2086], [19.3003, 100.049], ["21.2"]),                     # the bounds do not set the decimals
    ([12345.678, 23456.7], [], ["12,346", "23,457"]),              # thousands separated
    ([40.0, 50.0], [], ["40.0", "50.0"]),                          # whole values of a measure keep its decimals
    ([0.00012345, 0.0001], [], ["0.000123", "0.000100"]),          # tiny columns: 3 significant digits
    ([-2.134, -0.0004], [], ["-2.134", "0.000"]),                  # at most 3 decimals; no "-0.000"
])
def test_column_format(values, bounds, written):
    fmt = column_format(values, bounds=bounds)
    assert [fmt(v) for v in values] == written


def test_a_difference_carries_its_sign_and_a_count_stays_whole():
    fmt = column_format([0.039, -0.02, 0.0], sign=True)
    assert [fmt(v) for v in (0.039, -0.02, 0.0, -0.0)] == ["+0.039", "-0.020", "+0.000", "+0.000"]
    df = pd.DataFrame({"early_stop_epoch": [NAN, 1.0], "trainable_parameters": [NAN, 134515008.0],
                       "difference": [-0.0157, 0.2]})
    view = readable_table(df)
    assert cells(view, "early_stop_epoch") == ["", "1"]  # a float column (NaN) of epochs: no "1.000"
    assert cells(view, "trainable_parameters") == ["", "134,515,008"]
    assert cells(view, "difference") == ["-0.016", "+0.200"]


def test_numbers_read_back_as_text_are_rounded_like_numbers():
    """Human columns come back from the study kit's TSV as text ("40.0", "undefined", "not collected")."""
    df = pd.DataFrame({"human_f": [NOT_COLLECTED, "40.0"], "human_kappa": ["0.21345", "undefined"],
                       "model": ["1b", "2b"]})
    view = readable_table(df)
    assert cells(view, "human_f") == [NOT_COLLECTED, "40.0"]  # some rows rated: kept, the rest say so
    assert cells(view, "human_kappa") == ["0.213", "undefined"]
    assert cells(view, "model") == ["1b", "2b"] and view.align == ["right", "right", "left"]


def test_interval_cell_and_format_p():
    assert interval_cell(0.5391, 0.4908, 0.5842) == "0.539 [0.491, 0.584]"
    assert interval_cell(NOT_COLLECTED, NOT_COLLECTED, NOT_COLLECTED) == NOT_COLLECTED
    assert interval_cell(NAN) == ""
    assert [format_p(p) for p in (0.0123, 0.25, 1.0, 0.0005, 0.001, NAN)] == ["0.012", "0.25", "1", "<0.001",
                                                                            "0.001", ""]


# ------------------------------------------------------------------------------------------ p-values
def test_a_p_value_stays_beside_its_paired_difference_only():
    df = pd.DataFrame({"method": ["original greedy", "hyperfitted greedy", "hyperfitted Top-P"],
                       "ttr_vs": ["", "original greedy", "original Top-P"],
                       "ttr_diff": [NAN, 0.1667, -0.0312], "ttr_diff_ci_low": [NAN, 0.0, -0.08],
                       "ttr_diff_ci_high": [NAN, 0.3333, 0.01], "ttr_diff_p": [NAN, 0.0005, 0.2512],
                       "ttr": [0.5, 0.6667, 0.8], "ttr_p_value": [0.01, 0.02, 0.03]})
    view = readable_table(df)
    assert list(view.table.columns) == ["method", "ttr_vs", "ttr_diff", "ttr_diff_p", "ttr"]
    assert cells(view, "ttr_diff") == ["", "+0.167 [+0.000, +0.333]", "-0.031 [-0.080, +0.010]"]
    assert cells(view, "ttr_diff_p") == ["", "<0.001", "0.25"]  # empty where the row has no baseline
    said = "\n".join(view.lines)
    assert ("ttr_diff_p: p-value of the paired test of ttr_diff, the row against its baseline (the row named in "
            "ttr_vs) on the same texts") in said
    assert "Left out: ttr_p_value, p-values of no paired comparison with a baseline (in the .tsv)." in said


def test_no_p_value_without_a_difference_in_the_row():
    df = pd.DataFrame({"entropy_diff": [NAN, -0.5], "entropy_diff_p": [0.5, 0.04]})
    assert cells(readable_table(df), "entropy_diff_p") == ["", "0.04"]


# ------------------------------------------------------------------------------------------ left out
def test_columns_not_collected_or_empty_in_every_row_are_left_out_with_a_note():
    df = pd.DataFrame({"method": ["a", "b"], "ttr": [0.5, 0.6],
                       "human_pref_or_equal": [NOT_COLLECTED] * 2, "human_pref_or_equal_lo": [NOT_COLLECTED] * 2,
                       "human_pref_or_equal_hi": [NOT_COLLECTED] * 2, "human_kappa": [NOT_COLLECTED] * 2,
                       "spearman_rho": [NAN, NAN], "ttr_vs": ["", ""]})
    view = readable_table(df)
    assert list(view.table.columns) == ["method", "ttr"]
    assert view.lines == [
        "Left out, 'not collected' in every row (no rater files in human.annotations): human_pref_or_equal, "
        "human_kappa.",
        "Left out, empty in every row: spearman_rho, ttr_vs."]
    other = readable_table(df, not_collected_reason="no ratings yet")
    assert other.lines[0].startswith("Left out, 'not collected' in every row (no ratings yet): ")


def test_the_human_study_table_before_and_after_ratings():
    from hyperfit.human import preference_table

    key = pd.DataFrame({"item_id": ["i1", "i2", "i3", "i4"], "model": "m", "variant": "hyperfitted",
                        "decoding": "greedy", "length": 96, "domain": ["f", "f", "w", "w"], "index": [0, 1, 0, 1],
                        "model_side": "A", "raters": "1 2"})
    before = readable_table(preference_table(key, None, 100, 0))
    assert list(before.table.columns) == ["model", "variant", "decoding", "length", "domain", "pairs", "ratings"]
    assert before.lines == ["Left out, 'not collected' in every row (no rater files in human.annotations): "
                            "preferred, equal, preferred_or_equal, kappa."]
    ratings = pd.DataFrame({"item_id": ["i1", "i1", "i2", "i2", "i3", "i3", "i4", "i4"],
                            "outcome": ["model", "model", "reference", "equal", "model", "equal", "reference",
                                        "reference"]})
    after = readable_table(preference_table(key, ratings, 100, 0))
    assert list(after.table.columns)[-4:] == ["preferred", "equal", "preferred_or_equal", "kappa"]
    everything = after.table.set_index("domain").loc["all"]
    assert re.fullmatch(r"62\.5 \[\d+\.\d, \d+\.\d\]", everything["preferred_or_equal"])  # 5 of 8 ratings


# ------------------------------------------------------------------------------------------ the Markdown
def test_markdown_keeps_cells_as_written_and_notes_below():
    df = pd.DataFrame({"model": ["m"], "ttr": [0.5], "ttr_ci_low": [0.45], "ttr_ci_high": [0.55], "ppl": [20.0]})
    text = readable_markdown(df, "Notes:\n\n- ttr: type-token ratio.\n")
    assert header(text) == ["model", "ttr", "ppl"]
    assert body(text) == [["m", "0.500 [0.450, 0.550]", "20.0"]]  # never re-parsed by tabulate (0.5, 20)
    assert "|:--------|---------------------:|------:|" in text                            # numbers right-aligned
    table, lines, notes = text.split("\n\n", 2)
    assert lines.startswith('- "value [low, high]"') and notes == "Notes:\n\n- ttr: type-token ratio.\n"


def test_write_markdown_leaves_the_table_and_its_tsv_untouched(tmp_path):
    df = pd.DataFrame({"model": ["m", "m"], "ttr": [0.5, 0.6667], "ttr_ci_low": [0.45, 0.6],
                       "ttr_ci_high": [0.55, 0.7], "ttr_diff": [NAN, 0.1667], "ttr_diff_ci_low": [NAN, 0.1],
                       "ttr_diff_ci_high": [NAN, 0.2], "ttr_diff_p": [NAN, 0.03],
                       "human_pref_or_equal": [NOT_COLLECTED] * 2})
    kept = df.copy()
    write_table(df, tmp_path / "before.tsv")
    write_markdown(tmp_path / "t.md", df, "Notes:\n\n- x\n")
    write_table(df, tmp_path / "after.tsv")
    pd.testing.assert_frame_equal(df, kept)
    tsv = (tmp_path / "after.tsv").read_bytes()
    assert tsv == (tmp_path / "before.tsv").read_bytes()
    assert tsv == df.to_csv(sep="\t", index=False, float_format="%.6g").encode()   # every column, as before
    assert tsv.splitlines()[0].decode().split("\t") == list(df.columns)
    md = (tmp_path / "t.md").read_text()
    assert header(md) == ["model", "ttr", "ttr_diff", "ttr_diff_p"] and md.endswith("- x\n")


def test_table1_view_from_the_fixture():
    """Table 1 from test_table1's hand-worked inputs: 30 columns in the .tsv, 16 in the Markdown."""
    from test_table1 import DECODINGS, inputs

    from hyperfit.tables import table1, table1_notes, table1_statistics

    text_tables, score_tables = inputs()
    for df in score_tables.values():
        df["domain"], df["index"] = "a", range(len(df))
    table = table1_statistics(table1(text_tables, score_tables, decodings=DECODINGS), text_tables, score_tables, 0)
    md = readable_markdown(table, table1_notes(96))
    shown = header(md)
    assert len(table.columns) == 30 and len(shown) == 16
    assert not [c for c in shown if c.endswith(("_ci_low", "_ci_high", "_lo", "_hi")) or c.startswith("human_")]
    assert shown[-3:] == ["ttr_vs", "ttr_diff", "ttr_diff_p"]
    rows = {row[2]: dict(zip(shown, row)) for row in body(md)}
    assert rows["original greedy"]["ttr"] == "0.500 [0.500, 0.500]"         # texts that do not vary
    assert rows["original greedy"]["ppl"].startswith("2.00 [")              # hand-worked: 2 and 4
    assert rows["hyperfitted greedy"]["ttr_diff"].startswith("+0.167 [")   # (0, 0, 0.5) / 3
    assert rows["original greedy"]["ttr_diff"] == rows["original greedy"]["ttr_diff_p"] == ""
    assert ("Left out, 'not collected' in every row (no rater files in human.annotations): human_pref_or_equal, "
            "human_preferred, human_equal, human_kappa." in md)


def test_comparison_and_shuffle_markdown_use_the_view():
    from hyperfit.sweeptables import COMPARISON_VALUES, comparison_markdown, shuffle_markdown

    row = {"model": "m", "method": "hyperfitted greedy", "seeds": 2}
    for col in COMPARISON_VALUES:
        row.update({col: 0.5, f"{col}_ci_low": 0.4, f"{col}_ci_high": 0.6})
    row.update(trainable_parameters=1000.0, trainable_parameters_ci_low=1000.0, trainable_parameters_ci_high=1000.0,
               ttr_text_ci_low=0.45, ttr_text_ci_high=0.55, ttr_vs="original greedy", ttr_diff=0.1,
               ttr_diff_ci_low=0.05, ttr_diff_ci_high=0.15, ttr_diff_p=0.002)
    md = comparison_markdown(pd.DataFrame([row]), threshold=8)
    shown = header(md)
    assert shown[:4] == ["model", "method", "seeds", "ttr"] and "rep3" not in shown
    assert shown[-3:] == ["ttr_text (95% interval)", "ttr_diff", "ttr_diff_p"] and "ttr_vs" not in shown
    row = dict(zip(shown, body(md)[0]))
    assert row["trainable_parameters"] == "1000" and row["ttr_diff_p"] == "0.002"
    assert row["ttr_diff"] == "+0.100 [+0.050, +0.150]" and row["ttr_text (95% interval)"] == "[0.450, 0.550]"
    summary = pd.DataFrame({"model": "m", "a": ["x", "x", "y", "y"], "b": ["x", "y", "x", "y"],
                            "agreement": [1.0, 0.75, 0.75, 1.0], "agreement_ci_low": [1.0, 0.6, 0.6, 1.0],
                            "agreement_ci_high": [1.0, 0.9, 0.9, 1.0], "seeds": 2})
    matrix = shuffle_markdown(summary)
    assert matrix.startswith("### m (seeds: 2)") and "| 0.750 [0.600, 0.900] |" in matrix


def test_every_table_script_writes_its_markdown_through_the_view():
    """No table script renders Markdown itself (to_markdown, or write_table on the .md output)."""
    offenders = []
    for path in sorted((ROOT / "workflow/scripts").glob("*.py")):
        text = path.read_text()
        if ".to_markdown(" in text or re.search(r"write_table\([^\n]*output\.md", text):
            offenders.append(path.name)
    assert offenders == []
    for module in ("tables.py", "sweeptables.py", "human.py", "sharpness.py", "followup.py", "downstream.py"):
        assert ".to_markdown(" not in (ROOT / "src/hyperfit" / module).read_text(), module
