"""A training job killed for real (SIGKILL of its process, mid-run) resumes when Snakemake is run again, and ends
bit-identical to a run that was never interrupted (tiny model, CPU)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from test_workflow import ROOT, tiny_config

TARGET = "results/train/tiny/hyperfitted"


def long_config(tmp_path: Path, model_dir: Path) -> Path:
    """The tiny config with a main run long enough to be killed mid-way (a checkpoint after every epoch)."""
    cfg = yaml.safe_load(tiny_config(tmp_path, model_dir).read_text())
    cfg["data"].update(num_samples=16, seq_len=48)
    cfg["hyperfit"].update(epochs=40, checkpoint_minutes=0)
    cfg["sweeps"].update(seeds=[0])
    path = tmp_path / "long.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def run_command(work: Path, config: Path) -> list[str]:
    return [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--cores", "1", TARGET,
            "--configfile", str(config), "--directory", str(work)]


def run(work: Path, config: Path, wait: bool = True):
    cmd = run_command(work, config)
    if wait:
        return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1200)
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def training_processes(work: Path) -> list[int]:
    """Pids of the train_setting job's script processes of the run in `work` (their command line runs Snakemake's
    copy of it, in the run's folder)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                cwd = os.readlink(entry / "cwd")
            except OSError:
                continue
            if "train_setting.py" in cmdline and "snakemake" not in cmdline.split()[0] and cwd == str(work):
                pids.append(int(entry.name))
    return pids


@pytest.mark.slow
def test_a_killed_training_job_resumes_bit_identical(tmp_path, tiny_model_dir):
    from safetensors.torch import load_file

    config = long_config(tmp_path, tiny_model_dir)
    # the uninterrupted run, beside the one to be killed (each on one core and one thread: the same arithmetic)
    (tmp_path / "whole").mkdir()
    with open(tmp_path / "whole.log", "w") as whole_log:
        whole = subprocess.Popen(run_command(tmp_path / "whole", config), cwd=ROOT, stdout=whole_log,
                                 stderr=subprocess.STDOUT)
    work = tmp_path / "killed"
    work.mkdir()
    proc = run(work, config, wait=False)
    checkpoint = work / "results/checkpoints/tiny/hyperfitted/epoch-0003/meta.json"
    deadline = time.time() + 900
    while not checkpoint.exists():
        assert proc.poll() is None and time.time() < deadline, "the run ended before it could be killed"
        time.sleep(0.05)
    pids = training_processes(work)
    assert pids, "no training process found"
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    out = proc.communicate(timeout=300)[0]
    assert proc.returncode != 0 and not (work / TARGET / "model").exists(), out[-2000:]

    again = run(work, config)  # the same command again: the job reruns and resumes from its checkpoint
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    log = (work / "logs/train/tiny/hyperfitted.log").read_text()
    assert "resuming from" in log and "epoch-00" in log
    assert whole.wait(timeout=1200) == 0, (tmp_path / "whole.log").read_text()[-3000:]
    a = load_file(tmp_path / "whole" / TARGET / "model/model.safetensors")
    b = load_file(work / TARGET / "model/model.safetensors")
    assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a)
    assert (tmp_path / "whole" / TARGET / "history.tsv").read_text() == (work / TARGET / "history.tsv").read_text()
