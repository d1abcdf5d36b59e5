"""profiles/slurm on a real SLURM: tests/slurm/start_cluster.sh installs and starts a single-node cluster on
this machine (loopback only), the tiny config runs through `--profile profiles/slurm`, every job must be a
SLURM job that SLURM recorded as COMPLETED, and the results must be identical to a local run's (the session's tiny
run).

Skipped, with the reason, where the machine cannot run SLURM (not root, no apt-get, a SLURM of its own).
Bounded: the harness, Snakemake and the stop script all run under timeouts; the daemons are stopped by PID.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import require
from test_workflow import job_counts

ROOT = Path(__file__).resolve().parents[1]
HARNESS = ROOT / "tests" / "slurm"
# Resources, data, hyperfitting, generation and scoring of the hyperfitted model (the rules with a gpu
# resource), a plot: 10 jobs, every kind of rule of the trunk, within a few minutes on 2 cores.
TARGETS = ["figure2", "results/eval/tiny/hyperfitted/model/greedy-16.jsonl", "results/eval/tiny/hyperfitted/model/scores.json"]
TARGET_RULES = ["figure2"]       # a target rule only collects files: it runs in the Snakemake process itself
SNAKEMAKE_TIMEOUT = 900          # seconds for one workflow run; `timeout -k` also kills a Snakemake that hangs


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("slurm-cluster")
    try:
        res = subprocess.run(["bash", str(HARNESS / "start_cluster.sh"), str(run_dir)], capture_output=True,
                             text=True, timeout=900)
    except subprocess.TimeoutExpired:
        subprocess.run(["bash", str(HARNESS / "stop_cluster.sh"), str(run_dir)], timeout=120)
        pytest.fail("tests/slurm/start_cluster.sh did not finish within 900 s")
    if res.returncode == 3:
        require(False, res.stderr.strip().splitlines()[-1])
    try:
        assert res.returncode == 0, res.stdout + res.stderr
        yield run_dir
    finally:
        subprocess.run(["bash", str(HARNESS / "stop_cluster.sh"), str(run_dir)], timeout=120)


def run_workflow(work: Path, config: Path, *args: str) -> subprocess.CompletedProcess:
    """One run of the targets in `work`; 2 cores either way (the thread count of the model rules, which
    decides floating-point summation order); PDFs dated by SOURCE_DATE_EPOCH so that they compare too."""
    work.mkdir(parents=True, exist_ok=True)
    cmd = ["timeout", "-k", "20", str(SNAKEMAKE_TIMEOUT), sys.executable, "-m", "snakemake", "-s",
           str(ROOT / "Snakefile"), *TARGETS, "--configfile", str(config), "--directory", str(work), "--cores", "2",
           *args]
    env = {**os.environ, "SOURCE_DATE_EPOCH": "0"}
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=SNAKEMAKE_TIMEOUT + 60)


@pytest.mark.slow
def test_tiny_workflow_on_slurm_matches_a_local_run(slurm_cluster, tmp_path, tiny_run):
    # the local run: the session's tiny run (the same config and model, `all` on 2 cores, PDFs dated alike)
    local_dir, config, local = tiny_run
    assert local.returncode == 0, local.stdout[-3000:] + local.stderr[-3000:]

    # Only what this test cluster differs in from a real site: no accounting (status by squeue, which
    # MinJobAge=600 makes reliable), a quick first status check, small memory requests for a small node.
    override = tmp_path / "slurm-test-profile"
    override.mkdir()
    (override / "config.yaml").write_text(yaml.safe_dump({
        "slurm-status-command": "squeue",
        "slurm-init-seconds-before-status-checks": 2,
        "latency-wait": 5,
        "retries": 0,
        "default-resources": {"slurm_partition": "debug", "runtime": 30, "mem_mb": 1000},
    }))
    slurm = run_workflow(tmp_path / "slurm", config, "--profile", str(ROOT / "profiles/slurm"),
                         "--profile", str(override))
    log = slurm.stdout + slurm.stderr
    assert slurm.returncode == 0, log[-6000:]

    # Every job but the target rule was submitted to SLURM ...
    counts = job_counts(log)
    assert counts["train_setting"] == counts["generate_texts"] == counts["score_texts"] == 1
    assert sorted(re.findall(r"^localrule (\w+):", log, flags=re.M)) == TARGET_RULES
    submitted = dict(re.findall(r"Job (\d+) has been submitted with SLURM jobid (\d+)", log))
    assert len(submitted) == sum(counts.values()) - len(TARGET_RULES) >= 9
    # ... and SLURM ran each one to completion (its job completion records) and kept its log.
    records = dict(re.findall(r"JobId=(\d+) .*?JobState=(\w+)", (slurm_cluster / "jobcomp.log").read_text()))
    assert {records.get(job) for job in submitted.values()} == {"COMPLETED"}
    slurm_logs = {p.stem for p in (tmp_path / "slurm/.snakemake/slurm_logs").rglob("*.log")}
    assert set(submitted.values()) <= slurm_logs
    assert list((tmp_path / "slurm/.snakemake/slurm_logs").glob("rule_train_setting/*/*.log"))

    # Identical results: every file the SLURM run wrote under results/ (tokens, model weights, history, texts,
    # scores, plots) is byte-identical to the local run's file of that name.
    slurm_files = {str(p.relative_to(tmp_path / "slurm")): p.read_bytes()
                   for p in sorted((tmp_path / "slurm/results").rglob("*")) if p.is_file()}
    assert {"results/train/tiny/hyperfitted/model/model.safetensors", "results/figures/figure2.pdf",
            "results/eval/tiny/hyperfitted/model/greedy-16.jsonl", "results/data/tiny/tokens.json"} <= set(slurm_files)
    assert [name for name in slurm_files if not (local_dir / name).is_file()] == []
    assert [name for name, data in slurm_files.items() if (local_dir / name).read_bytes() != data] == []
