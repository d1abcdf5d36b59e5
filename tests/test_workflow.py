"""The workflow as a whole: lint, dry runs of every shipped config, config errors, and a tiny end-to-end run."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def snakemake(*args, cwd=ROOT, timeout=1500):
    return subprocess.run([*SNAKEMAKE, "-s", str(ROOT / "Snakefile"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def job_counts(stdout: str) -> dict[str, int]:
    counts, in_stats = {}, False
    for line in stdout.splitlines():
        if line.startswith("Job stats"):
            in_stats, counts = True, {}
            continue
        parts = line.split()
        if in_stats and len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
        elif in_stats and parts and parts[0] == "total":
            in_stats = False
    return counts


def test_lint_is_clean():
    res = snakemake("--lint")
    assert res.returncode == 0, res.stdout + res.stderr


def test_dry_run_default():
    res = snakemake("-n", "--forceall", "all")
    assert res.returncode == 0, res.stderr
    counts = job_counts(res.stdout)
    assert counts["hyperfit_model"] == 1 and counts["generate_texts"] == 4 and counts["get_pypi_asset"] == 2


def test_dry_run_paper():
    res = snakemake("-n", "--forceall", "all", "--configfile", "config/paper.yaml")
    assert res.returncode == 0, res.stderr
    counts = job_counts(res.stdout)
    # 4 models; 2 variants x 2 decodings x 3 lengths of generation per model
    assert counts["get_model"] == 4 and counts["hyperfit_model"] == 4
    assert counts["generate_texts"] == 4 * 2 * 2 * 3 and counts["score_references"] == 8
    assert "get_pypi_asset" not in counts


def write_config(tmp_path: Path, changes: dict) -> Path:
    cfg = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    for dotted, value in changes.items():
        node = cfg
        *path, last = dotted.split(".")
        for key in path:
            node = node[key]
        if value is None:
            del node[last]
        else:
            node[last] = value
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.parametrize("changes, message", [
    ({"hyperfit.learning_rate": 0.1}, "learning_rate"),
    ({"hyperfit.epochs": 0}, "epochs"),
    ({"models": {"m": {"source": "local", "path": "/nonexistent"}}},
     "models.m: local folder '/nonexistent' has no config.json"),
    ({"data.train_domain": "poetry"}, "domain 'poetry' has no entry under corpora"),
    ({"models": {"m": {"source": "gguf", "asset": "nope", "member": "x.gguf"}}}, "models.m: source gguf needs 'asset'"),
])
def test_bad_config_stops_before_any_job(tmp_path, changes, message):
    res = snakemake("-n", "all", "--configfile", str(write_config(tmp_path, changes)))
    assert res.returncode != 0
    assert message in res.stdout + res.stderr


# ------------------------------------------------------------------------------------------- end to end
def tiny_config(tmp_path: Path, model_dir: Path) -> Path:
    cfg = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    cfg["assets"] = {"brotli": cfg["assets"]["brotli"]}
    cfg["models"] = {"tiny": {"source": "local", "path": str(model_dir)}}
    cfg["data"].update(num_samples=4, seq_len=32, contexts_per_domain=3, context_len=8, reference_len=16)
    cfg["hyperfit"].update(epochs=3, batch_size=2, lr=3e-3, monitor_contexts_per_domain=1, monitor_new_tokens=16,
                           eval_batch_size=4)
    cfg["generation"].update(lengths=[16], batch_size=4)
    cfg["metrics"].update(ttr_window=16, score_batch_size=4)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.slow
def test_tiny_workflow_end_to_end(tmp_path, tiny_model_dir):
    work = tmp_path / "work"
    work.mkdir()
    cfg = tiny_config(tmp_path, tiny_model_dir)
    res = snakemake("--cores", "2", "all", "--configfile", str(cfg), "--directory", str(work))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]

    table = pd.read_csv(work / "results/tables/table1.tsv", sep="\t")
    assert len(table) == 4  # original/hyperfitted x greedy/top_p
    assert set(table["variant"]) == {"original", "hyperfitted"}
    assert table["ttr"].between(0, 1, inclusive="right").all()
    assert (table["ppl"] > 1).all() and (table["entropy"] > 0).all()
    history = pd.read_csv(work / "results/hyperfit/tiny/history.tsv", sep="\t")
    assert list(history["epoch"]) == [0, 1, 2, 3]
    assert history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]
    for fig in ("figure2.pdf", "figure2.png"):
        assert (work / "results/figures" / fig).stat().st_size > 1000
    assert (work / "benchmarks/hyperfit/tiny.tsv").exists()
    assert "hyperfit steps" in (work / "logs/hyperfit/tiny.log").read_text()
    assert not (work / "results/checkpoints/hyperfit/tiny/last.pt").exists()

    # One figure rebuilds alone, by its target name.
    for fig in ("figure2.pdf", "figure2.png"):
        (work / "results/figures" / fig).unlink()
    res = snakemake("--cores", "2", "figure2", "--configfile", str(cfg), "--directory", str(work))
    assert res.returncode == 0, res.stderr[-3000:]
    counts = job_counts(res.stdout)
    assert counts.get("plot_figure2") == 1 and "hyperfit_model" not in counts

    # Deterministic: everything recomputed from the same inputs gives identical tables.
    first = {p: (work / p).read_bytes() for p in ("results/tables/table1.tsv", "results/hyperfit/tiny/history.tsv")}
    shutil.rmtree(work / "results")
    res = snakemake("--cores", "2", "all", "--configfile", str(cfg), "--directory", str(work))
    assert res.returncode == 0, res.stderr[-3000:]
    for p, content in first.items():
        assert (work / p).read_bytes() == content, p
