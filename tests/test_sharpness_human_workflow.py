"""Table 3, Figure 4 and the human study through the workflow: config errors, and a tiny end-to-end run that
ingests synthetic rater files with a known answer."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import assert_figure, copy_tiny_run
from test_workflow import snakemake


def with_annotations(cfg: Path, tmp_path: Path, entries: list[str]) -> Path:
    data = yaml.safe_load(cfg.read_text())
    data["human"]["annotations"] = entries
    path = tmp_path / "annotated.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


OUTCOME_OF_RATER = {1: "model", 2: "reference", 3: "equal"}


def fill_rater_files(work: Path, folder: Path) -> None:
    """Rater 1 always prefers the model, rater 2 the human text, rater 3 calls every pair equal."""
    key = pd.read_csv(work / "results/human/key.tsv", sep="\t", dtype={"raters": str})
    side = dict(zip(key["item_id"], key["model_side"]))
    folder.mkdir()
    for r, outcome in OUTCOME_OF_RATER.items():
        template = (work / f"results/human/packets/rater{r}.csv").read_text().splitlines()
        assert template[0] == "item_id,choice"
        rows = [line.rstrip(",") for line in template[1:]]
        choice = {"model": lambda i: side[i], "reference": lambda i: "B" if side[i] == "A" else "A",
                  "equal": lambda i: "equal"}[outcome]
        (folder / f"rater{r}.csv").write_text("item_id,choice\n" + "".join(f"{i},{choice(i)}\n" for i in rows))


@pytest.mark.slow
def test_tiny_sharpness_and_human_study(tmp_path, tiny_run):
    """On a copy of the session's tiny run (which built Table 3, Figure 4 and the study kit with everything else)."""
    work = copy_tiny_run(tiny_run, tmp_path / "work")
    cfg = tiny_run[1]

    # Table 3: 2 variants x (3 domains + all), probabilities ordered top1 <= top3 <= top5 <= 1
    t3 = pd.read_csv(work / "results/tables/table3.tsv", sep="\t")
    assert len(t3) == 8 and set(t3["domain"]) == {"fiction", "wiki", "news", "all"}
    assert (t3["top1"] <= t3["top3"]).all() and (t3["top3"] <= t3["top5"]).all() and (t3["top5"] <= 1).all()
    assert (t3["entropy"] > 0).all() and (t3["ppl"] > 1).all()
    scores = pd.read_json(work / "results/eval/tiny/original/model/scores.json")
    row = t3[(t3["variant"] == "original") & (t3["domain"] == "all")].iloc[0]
    assert row["tokens"] == scores["n"].sum() == 9 * (8 + 16 - 1)
    assert row["entropy"] == pytest.approx(scores["entropy_sum"].sum() / scores["n"].sum(), rel=1e-5)
    print("\n" + t3.to_string())

    # Figure 4: same position and true next token in both variants, top-k + rest sums to 1
    tables = {v: pd.read_csv(work / f"results/eval/tiny/{v}/model/figure4_position.tsv", sep="\t",
                             keep_default_na=False) for v in ("original", "hyperfitted")}
    for df in tables.values():
        assert len(df) == 11 and df["prob"].sum() == pytest.approx(1.0, abs=1e-4)
        assert (df["position"] == 8).all() and (df["domain"] == "fiction").all()
    assert tables["original"]["target_id"].iloc[0] == tables["hyperfitted"]["target_id"].iloc[0]
    for ext in ("pdf", "png"):
        assert_figure(work / f"results/figures/figure4.{ext}")

    # Packets: (comparisons + Table 4's 3 models) x 9 contexts, each rater sees all pairs; the key stays out
    comparisons = len(yaml.safe_load(cfg.read_text())["human"]["comparisons"]) + 3
    key = pd.read_csv(work / "results/human/key.tsv", sep="\t", dtype={"raters": str})
    assert len(key) == comparisons * 9 and (key["raters"] == "1 2 3").all()
    for r in (1, 2, 3):
        page = (work / f"results/human/packets/rater{r}.html").read_text()
        assert page.count('type="radio"') == 3 * len(key)
        assert not re.search(r"https?:|src=|hyperfitted|top_p", page)
    pref = pd.read_csv(work / "results/human/preference.tsv", sep="\t")
    assert len(pref) == comparisons * 4 and (pref["preferred_or_equal"] == "not collected").all()

    # Ingestion of synthetic rater files: every pair gets one of each outcome
    fill_rater_files(work, tmp_path / "ratings")
    first_key = (work / "results/human/key.tsv").read_bytes()
    annotated = with_annotations(cfg, tmp_path, [str(tmp_path / "ratings")])
    res = snakemake("--cores", "2", "human_results", "--configfile", str(annotated), "--directory", str(work))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    ran = set(re.findall(r"^(?:local)?rule (\w+):", res.stdout + res.stderr, re.M))
    assert "summarize_human_ratings" in ran and "make_human_packets" not in ran
    assert (work / "results/human/key.tsv").read_bytes() == first_key
    pref = pd.read_csv(work / "results/human/preference.tsv", sep="\t")
    assert (pref["ratings"] == 3 * pref["pairs"]).all()
    # every pair split 1/1/1 by its 3 raters (the TSV keeps 6 significant digits)
    assert pref["preferred"].to_numpy() == pytest.approx([100 / 3] * len(pref), rel=1e-5)
    assert pref["preferred_or_equal"].to_numpy() == pytest.approx([200 / 3] * len(pref), rel=1e-5)
    assert pref["kappa"].to_numpy() == pytest.approx([-0.5] * len(pref))
    assert (pref["preferred_or_equal_lo"] == pref["preferred_or_equal_hi"]).all()
    # with rater files Table 1 reads the study's results (without them it needs nothing from the study)
    res = snakemake("--cores", "2", "table1", "--configfile", str(annotated), "--directory", str(work))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    table1 = pd.read_csv(work / "results/tables/table1.tsv", sep="\t").set_index("method")
    assert table1["human_pref_or_equal"].astype(float).to_numpy() == pytest.approx([200 / 3] * len(table1), rel=1e-5)

    # A malformed file stops the job with one line naming file and row; no stale numbers are left behind
    bad = tmp_path / "ratings" / "rater3.csv"
    lines = bad.read_text().splitlines()
    lines[5] = lines[5].split(",")[0] + ",?"
    bad.write_text("\n".join(lines) + "\n")
    res = snakemake("--cores", "2", "human_results", "--configfile", str(annotated), "--directory", str(work),
                    "--forcerun", "summarize_human_ratings")
    assert res.returncode != 0
    assert f"{bad}, row 6: item" in res.stdout + res.stderr and "choice '?'" in res.stdout + res.stderr
    assert not (work / "results/human/preference.tsv").exists()
