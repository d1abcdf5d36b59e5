"""The human preference study kit: packets, ingestion of synthetic rater files with known answers,
Fleiss' kappa and bootstrap intervals by hand."""
import json
import math
import re
import shutil
import subprocess
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from conftest import require
from hyperfit.errors import UserError
from hyperfit.human import (NOT_COLLECTED, UNDEFINED, annotation_files, fleiss_kappa, generation_pairs,
                            group_summary, ingest, item_raters, make_study, packet_csv, packet_html,
                            preference_table, rater_of, read_rater_file, reference_texts, table1_columns)


# ------------------------------------------------------------------------------------------ Fleiss' kappa
def test_fleiss_kappa_hand_worked():
    # rows: pairs; columns: model, reference, equal; 3 ratings each.
    # P_i = 1, 1, 0 -> P = 2/3; p_j = 4/9, 4/9, 1/9 -> Pe = 33/81; kappa = (2/3 - 33/81) / (1 - 33/81) = 7/16
    assert fleiss_kappa([[3, 0, 0], [0, 3, 0], [1, 1, 1]]) == pytest.approx(7 / 16)
    # every pair split evenly: P = 0, Pe = 1/3 -> kappa = -1/(n - 1) = -0.5
    assert fleiss_kappa([[1, 1, 1], [1, 1, 1]]) == pytest.approx(-0.5)
    # perfect agreement over two categories: P = 1 -> kappa = 1
    assert fleiss_kappa([[3, 0, 0], [0, 0, 3]]) == pytest.approx(1.0)
    # all ratings in one category: chance agreement 1, kappa undefined
    assert math.isnan(fleiss_kappa([[3, 0, 0], [3, 0, 0]]))


def test_fleiss_kappa_textbook_example():
    # Fleiss (1971)-style worked example: 10 subjects, 14 raters, 5 categories; P = 0.378, Pe = 0.213
    counts = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
              [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    assert fleiss_kappa(counts) == pytest.approx(0.210, abs=5e-4)


def test_fleiss_kappa_needs_equal_ratings_per_item():
    with pytest.raises(ValueError):
        fleiss_kappa([[3, 0, 0], [1, 1, 0]])
    with pytest.raises(ValueError):
        fleiss_kappa([[1, 0, 0]])


# -------------------------------------------------------------------------------------------- bootstrap
def test_bootstrap_interval_of_two_opposite_pairs():
    # resampling 2 pairs: share 0, 50 or 100 with chance 1/4, 1/2, 1/4 -> 2.5/97.5 percentiles 0 and 100
    s = group_summary(np.array([[3, 0, 0], [0, 3, 0]]), 4000, np.random.default_rng(0))
    assert s["pairs"] == 2 and s["ratings"] == 6
    assert s["preferred"] == pytest.approx(50.0) and s["equal"] == 0.0
    assert (s["preferred_lo"], s["preferred_hi"]) == (0.0, 100.0)
    assert (s["equal_lo"], s["equal_hi"]) == (0.0, 0.0)
    assert s["kappa"] == pytest.approx(1.0)


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    rng = np.random.default_rng(5)
    counts = rng.multinomial(3, [0.4, 0.4, 0.2], size=40)
    a = group_summary(counts, 500, np.random.default_rng([0, 1]))
    b = group_summary(counts, 500, np.random.default_rng([0, 1]))
    c = group_summary(counts, 500, np.random.default_rng([1, 1]))
    assert a == b and a != c
    for name in ("preferred", "equal", "preferred_or_equal", "kappa"):
        assert a[f"{name}_lo"] <= a[name] <= a[f"{name}_hi"]
    assert a["preferred_or_equal"] == pytest.approx(100 * (counts[:, 0].sum() + counts[:, 2].sum()) / 120)


def test_identical_pairs_give_a_degenerate_interval():
    s = group_summary(np.array([[2, 1, 0]] * 5), 200, np.random.default_rng(0))
    assert s["preferred_lo"] == s["preferred_hi"] == pytest.approx(200 / 3)


# ---------------------------------------------------------------------------------------------- packets
def model_text(variant, domain, index):
    return f"GEN{len(variant)}-{domain}-{index}"  # no variant name in the text


def synthetic_pairs(n_per_domain=2, variants=("hyperfitted",)):
    pairs = []
    for variant in variants:
        for domain in ("fiction", "news"):
            for i in range(n_per_domain):
                pairs.append({"model": "m", "variant": variant, "decoding": "greedy", "length": 16, "domain": domain,
                              "index": i, "context": f"Context {domain} {i} <b>&",
                              "model_text": model_text(variant, domain, i), "reference_text": f"HUMAN-{domain}-{i}"})
    return pairs


def test_reference_texts_cut_to_the_generated_length():
    items = [{"domain": "news", "index": 0, "context": [1], "reference": [5, 6, 7, 8]}]
    refs = reference_texts(items, 3, lambda ids: "-".join(map(str, ids)))
    assert refs == {("news", 0): "5-6-7"}
    with pytest.raises(UserError, match="raise data.reference_len"):
        reference_texts(items, 5, str)
    rows = [{"domain": "news", "index": 0, "context": "c", "text": "t"}]
    (pair,) = generation_pairs(rows, refs, "m", "original", "greedy", 3)
    assert pair["reference_text"] == "5-6-7" and pair["model_text"] == "t" and pair["length"] == 3


def test_item_raters_round_robin():
    assert item_raters(0, 5, 3) == [1, 2, 3]
    assert item_raters(1, 5, 3) == [1, 4, 5]   # positions 3, 4, 5 -> raters 4, 5, 1
    assert item_raters(7, 3, 3) == [1, 2, 3]


def test_make_study_is_blind_balanced_and_deterministic():
    pairs = synthetic_pairs(n_per_domain=5, variants=("original", "hyperfitted"))  # 20 pairs
    key, packets = make_study(pairs, raters=4, ratings_per_pair=3, seed=0)
    assert len(key) == 20 and key["item_id"].is_unique
    assert Counter(key["model_side"]) == {"A": 10, "B": 10}
    assert sorted(len(items) for items in packets.values()) == [15, 15, 15, 15]  # 20 x 3 / 4
    for _, row in key.iterrows():
        raters = list(map(int, row["raters"].split()))
        assert len(set(raters)) == 3
        for r in raters:
            (item,) = [it for it in packets[r] if it["item_id"] == row["item_id"]]
            assert item[row["model_side"]] == model_text(row["variant"], row["domain"], row["index"])
            assert item["B" if row["model_side"] == "A" else "A"] == f"HUMAN-{row['domain']}-{row['index']}"
            assert set(item) == {"item_id", "context", "A", "B"}  # nothing that names the model or side
    key2, packets2 = make_study(list(reversed(pairs)), raters=4, ratings_per_pair=3, seed=0)
    assert key.equals(key2) and packets == packets2          # input order does not matter
    key3, _ = make_study(pairs, raters=4, ratings_per_pair=3, seed=1)
    assert not key.equals(key3)
    orders = [[it["item_id"] for it in packets[r]] for r in (1, 2)]
    assert orders[0] != sorted(orders[0]) or orders[1] != sorted(orders[1])  # shuffled per rater


def test_make_study_rejects_bad_settings():
    with pytest.raises(UserError, match="ratings_per_pair"):
        make_study(synthetic_pairs(), raters=2, ratings_per_pair=3, seed=0)
    with pytest.raises(UserError, match="occurs twice"):
        make_study(synthetic_pairs() * 2, raters=3, ratings_per_pair=3, seed=0)
    with pytest.raises(UserError, match="without items"):
        make_study(synthetic_pairs(n_per_domain=1), raters=7, ratings_per_pair=3, seed=0)  # 2 x 3 < 7


def test_packet_html_is_self_contained_and_blind():
    key, packets = make_study(synthetic_pairs(), raters=3, ratings_per_pair=3, seed=0)
    page = packet_html(2, packets[2], "Which is better?")
    assert page.count('type="radio"') == 3 * len(packets[2])
    for it in packets[2]:
        assert f'id="{it["item_id"]}"' in page
        for choice in ("A", "B", "equal"):
            assert f'name="{it["item_id"]}" value="{choice}"' in page
    assert "Context fiction 0 &lt;b&gt;&amp;" in page and "<b>&" not in page  # escaped
    assert not re.search(r"https?:|src=|<link|@import", page)                  # no external resources
    assert "hyperfitted" not in page and "greedy" not in page                  # the key stays apart
    assert "rater2.csv" in page and "Which is better?" in page
    assert packet_csv(packets[2]).splitlines() == ["item_id,choice"] + [f"{it['item_id']}," for it in packets[2]]


def test_packet_page_script_exports_the_csv(tmp_path):
    require(shutil.which("node") is not None, "needs node to run the page's script")
    _, packets = make_study(synthetic_pairs(), raters=3, ratings_per_pair=3, seed=0)
    page = packet_html(1, packets[1], "q")
    script = page.split("<script>")[1].split("</script>")[0]
    ids = [it["item_id"] for it in packets[1]]
    answers = {ids[0]: "A", ids[2]: "equal"}
    js = tmp_path / "page.js"
    js.write_text(script + f"\nprocess.stdout.write(csvText(ITEMS, {json.dumps(answers)}));\n")
    out = subprocess.run(["node", str(js)], capture_output=True, text=True, check=True).stdout
    expected = ["item_id,choice"] + [f"{i},{answers.get(i, '')}" for i in ids]
    assert out.splitlines() == expected


# -------------------------------------------------------------------------------------------- ingestion
OUTCOMES_BY_PAIR = {  # rater 1, 2, 3 -> counts (model, reference, equal)
    ("fiction", 0): ["model", "model", "model"],            # 3 0 0
    ("fiction", 1): ["model", "equal", "reference"],        # 1 1 1
    ("news", 0): ["equal", "equal", "model"],               # 1 0 2
    ("news", 1): ["reference", "reference", "model"],       # 1 2 0
}


def write_rater_files(folder, key, outcomes=OUTCOMES_BY_PAIR, raters=3):
    folder.mkdir(exist_ok=True)
    for r in range(1, raters + 1):
        lines = ["item_id,choice"]
        for _, row in key.iterrows():
            if str(r) not in row["raters"].split():
                continue
            outcome = outcomes[(row["domain"], row["index"])][r - 1]
            other = "B" if row["model_side"] == "A" else "A"
            lines.append(f"{row['item_id']},{ {'model': row['model_side'], 'reference': other}.get(outcome, 'equal')}")
        (folder / f"rater{r}.csv").write_text("\n".join(lines) + "\n")
    return sorted(str(p) for p in folder.glob("*.csv"))


def test_known_preference_share_and_kappa(tmp_path):
    key, _ = make_study(synthetic_pairs(), raters=3, ratings_per_pair=3, seed=3)
    ratings = ingest(write_rater_files(tmp_path / "done", key), key)
    assert len(ratings) == 12 and Counter(ratings["outcome"]) == {"model": 6, "reference": 3, "equal": 3}
    table = preference_table(key, ratings, iterations=200, seed=0)
    assert list(table["domain"]) == ["fiction", "news", "all"]
    all_ = table[table["domain"] == "all"].iloc[0]
    assert all_["pairs"] == 4 and all_["ratings"] == 12
    assert all_["preferred"] == pytest.approx(50.0) and all_["equal"] == pytest.approx(25.0)
    assert all_["preferred_or_equal"] == pytest.approx(75.0)
    # P_i = 1, 0, 1/3, 1/3 -> P = 5/12; p_j = 1/2, 1/4, 1/4 -> Pe = 3/8; kappa = (5/12 - 3/8) / (5/8) = 1/15
    assert all_["kappa"] == pytest.approx(1 / 15)
    fiction = table[table["domain"] == "fiction"].iloc[0]
    assert fiction["preferred_or_equal"] == pytest.approx(500 / 6) and fiction["kappa"] == pytest.approx(0.0)
    news = table[table["domain"] == "news"].iloc[0]
    assert news["preferred"] == pytest.approx(100 / 3) and news["equal"] == pytest.approx(100 / 3)
    assert table.equals(preference_table(key, ratings, iterations=200, seed=0))


def test_without_annotations_everything_says_not_collected():
    key, _ = make_study(synthetic_pairs(variants=("original", "hyperfitted")), raters=3, ratings_per_pair=3, seed=0)
    assert ingest([], key) is None
    table = preference_table(key, None, iterations=100, seed=0)
    assert len(table) == 2 * 3 and (table["ratings"] == 0).all() and (table["pairs"] > 0).all()
    for col in ("preferred", "equal", "preferred_or_equal", "preferred_or_equal_lo", "kappa", "kappa_hi"):
        assert (table[col] == NOT_COLLECTED).all()


def test_table1_columns_without_and_with_ratings(tmp_path):
    key, _ = make_study(synthetic_pairs(variants=("original", "hyperfitted")), raters=3, ratings_per_pair=3, seed=0)
    cols = table1_columns(preference_table(key, None, iterations=10, seed=0))
    assert list(cols.columns) == ["model", "variant", "decoding", "length", "human_pref_or_equal",
                                  "human_pref_or_equal_lo", "human_pref_or_equal_hi", "human_preferred",
                                  "human_equal", "human_kappa"]
    assert list(cols["variant"]) == ["hyperfitted", "original"] and (cols["human_kappa"] == NOT_COLLECTED).all()
    key, _ = make_study(synthetic_pairs(), raters=3, ratings_per_pair=3, seed=0)
    table = preference_table(key, ingest(write_rater_files(tmp_path / "r", key), key), iterations=10, seed=0)
    table.to_csv(tmp_path / "p.tsv", sep="\t", index=False)
    cols = table1_columns(pd.read_csv(tmp_path / "p.tsv", sep="\t"))
    assert len(cols) == 1 and cols["human_pref_or_equal"].iloc[0] == pytest.approx(75.0)
    assert cols["human_kappa"].iloc[0] == pytest.approx(1 / 15)


def test_kappa_of_unanimous_ratings_says_undefined(tmp_path):
    key, _ = make_study(synthetic_pairs(), raters=3, ratings_per_pair=3, seed=0)
    everyone_prefers_the_model = {pair: ["model"] * 3 for pair in OUTCOMES_BY_PAIR}
    ratings = ingest(write_rater_files(tmp_path / "r", key, everyone_prefers_the_model), key)
    table = preference_table(key, ratings, iterations=50, seed=0)
    assert (table["preferred"] == 100.0).all() and (table["kappa"] == UNDEFINED).all()


def test_rater_of_file_names():
    assert rater_of("x/rater2.csv") == 2
    assert rater_of("Rater12 (1).csv") == 12
    assert rater_of("rater03_final.csv") == 3
    with pytest.raises(UserError, match="cannot tell which rater"):
        rater_of("answers.csv")


@pytest.mark.parametrize("content, message", [
    ("id,answer\nitem-0001,A\n", "row 1: the header must name the columns item_id and choice"),
    ("", "row 1: the header"),
    ("item_id,choice\nitem-0001,A\nitem-0009,B\n", "row 3: item_id 'item-0009' is not in this rater's packet"),
    ("item_id,choice\nitem-0001,A\nitem-0001,B\n", "row 3: item item-0001 is answered again (first at row 2)"),
    ("item_id,choice\nitem-0001,A\nitem-0002,\n", "row 3: item item-0002 has no choice (the file is partial"),
    ("item_id,choice\nitem-0001,C\n", "row 2: item item-0001 has choice 'C'; allowed: A, B, equal"),
    ("item_id,choice\nitem-0001\n", "row 2: 1 fields, the header has 2"),
    ("item_id,choice\nitem-0002,A\n", "partial file, 1 of 2 items have no row (first: item-0001)"),
])
def test_malformed_rater_files_name_file_and_row(tmp_path, content, message):
    path = tmp_path / "rater1.csv"
    path.write_text(content)
    with pytest.raises(UserError) as exc:
        read_rater_file(path, ["item-0001", "item-0002"])
    assert str(path) in str(exc.value) and message in str(exc.value)


def test_rater_file_tolerates_bom_case_blank_lines_and_extra_columns(tmp_path):
    path = tmp_path / "rater1.csv"
    path.write_bytes("\ufeffChoice , item_id,note\n a ,item-0002,x\n\nEQUAL,item-0001,\n".encode("utf-8"))
    assert read_rater_file(path, ["item-0001", "item-0002"]) == {"item-0002": "A", "item-0001": "equal"}


def test_one_bad_file_stops_the_ingestion(tmp_path):
    key, _ = make_study(synthetic_pairs(), raters=3, ratings_per_pair=3, seed=3)
    files = write_rater_files(tmp_path / "done", key)
    bad = tmp_path / "done" / "rater2.csv"
    lines = bad.read_text().splitlines()
    lines[3] = lines[3].split(",")[0] + ",maybe"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(UserError, match=rf"{re.escape(str(bad))}, row 4: .* choice 'maybe'"):
        ingest(files, key)
    with pytest.raises(UserError, match=r"lack the files of rater\(s\) \[2\]"):
        ingest([f for f in files if not f.endswith("rater2.csv")], key)
    copy = tmp_path / "rater1 (1).csv"
    shutil.copy(files[0], copy)
    with pytest.raises(UserError, match="two files for rater 1"):
        ingest([*files, str(copy)], key)
    (tmp_path / "rater7.csv").write_text("item_id,choice\n")
    with pytest.raises(UserError, match="rater 7 is not in the study"):
        ingest([*files, str(tmp_path / "rater7.csv")], key)


def test_annotation_files_expand_folders(tmp_path):
    (tmp_path / "a").mkdir()
    for name in ("rater2.csv", "rater1.csv", "notes.txt"):
        (tmp_path / "a" / name).write_text("")
    (tmp_path / "rater3.csv").write_text("")
    assert annotation_files([str(tmp_path / "a"), str(tmp_path / "rater3.csv")]) == [
        str(tmp_path / "a" / "rater1.csv"), str(tmp_path / "a" / "rater2.csv"), str(tmp_path / "rater3.csv")]
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="has no .csv files"):
        annotation_files([str(tmp_path / "empty")])
    with pytest.raises(UserError, match="does not exist"):
        annotation_files([str(tmp_path / "missing.csv")])


def test_table1_takes_the_human_columns(tmp_path):
    from hyperfit.tables import table1

    key, _ = make_study(synthetic_pairs(), raters=3, ratings_per_pair=3, seed=0)  # hyperfitted greedy only
    table = preference_table(key, ingest(write_rater_files(tmp_path / "r", key), key), iterations=10, seed=0)
    texts = {("m", v, "greedy", 16): pd.DataFrame({"domain": ["news"], "ttr": [0.5], "ttr_full": [0.5]})
             for v in ("original", "hyperfitted")}
    scores = {("m", v): pd.DataFrame({"n": [2], "nll_sum": [2.0], "entropy_sum": [1.0]})
              for v in ("original", "hyperfitted")}
    t1 = table1(texts, scores, {"greedy": {"do_sample": False}}, human=table1_columns(table))
    by_variant = t1.set_index("variant")
    assert by_variant.loc["hyperfitted", "human_pref_or_equal"] == pytest.approx(75.0)
    assert by_variant.loc["hyperfitted", "human_kappa"] == pytest.approx(1 / 15)
    assert by_variant.loc["original", "human_pref_or_equal"] == NOT_COLLECTED   # not in the study
