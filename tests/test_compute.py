"""What jobs ask a scheduler for: per-model compute in the config becomes rule resources; the SLURM profile is
complete and commented; impossible compute settings stop before any job."""
import re

import yaml
from test_workflow import ROOT, snakemake


def dry_run_resources(*args) -> dict[tuple[str, str], dict[str, str]]:
    """(rule, wildcards) -> resources, read from a dry run's job listing."""
    res = snakemake("-n", "--forceall", *args)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    jobs, rule, wildcards = {}, None, ""
    for line in res.stdout.splitlines():
        if m := re.match(r"^(?:local)?rule (\w+):", line):
            rule, wildcards = m.group(1), ""
        elif m := re.match(r"^\s+wildcards: (.*)$", line):
            wildcards = m.group(1)
        elif (m := re.match(r"^\s+resources: (.*)$", line)) and rule:
            jobs[(rule, wildcards)] = dict(kv.split("=", 1) for kv in m.group(1).split(", "))
    return jobs


def test_paper_models_ask_for_their_gpus_and_memory():
    paper = yaml.safe_load((ROOT / "config/paper.yaml").read_text())
    jobs = dry_run_resources("train_all", "results/eval/llama-3.1-70b/hyperfitted/model/greedy-96.jsonl",
                             "--configfile", "config/paper.yaml")
    for name, spec in paper["models"].items():
        got = jobs[("train_setting", f"model={name}, setting=hyperfitted")]
        compute = spec["compute"]
        assert int(got["gpu"]) == compute["gpus"] and int(got["gpu_mem_mb"]) == compute["gpu_mem_mb"], name
        assert int(got["mem_mb"]) == compute["mem_mb"], name
    assert int(jobs[("train_setting", "model=llama-3.1-70b, setting=hyperfitted")]["gpu"]) == 8  # FSDP over 8 GPUs, offloaded
    assert paper["models"]["llama-3.1-70b"]["compute"]["cpu_offload"] is True
    generate = jobs[("generate_texts", "model=llama-3.1-70b, setting=hyperfitted, weights=model, method=greedy, length=96")]
    assert int(generate["gpu"]) == 2  # 70B inference spread over 2 GPUs


def test_default_model_asks_for_one_gpu_which_cpus_ignore():
    jobs = dry_run_resources("train_all")
    got = jobs[("train_setting", "model=smollm2-135m, setting=hyperfitted")]
    assert got["gpu"] == "1" and got["gpu_mem_mb"] == "0" and got["mem_mb"] == "8000"


def test_slurm_profile_is_complete_and_every_entry_commented():
    text = (ROOT / "profiles/slurm/config.yaml").read_text()
    profile = yaml.safe_load(text)
    assert profile["executor"] == "slurm" and profile["jobs"] > 0 and profile["latency-wait"] > 0
    assert profile["slurm-status-command"] in {"sacct", "squeue"}
    assert {"runtime", "mem_mb"} <= set(profile["default-resources"])
    assert profile["set-resources"]["train_setting"]["runtime"] > profile["default-resources"]["runtime"]
    for site_key in ("slurm_partition", "slurm_account", "gpu_model", "gres"):  # documented for sites to set
        assert re.search(rf"^\s*#\s*{site_key}:", text, flags=re.M), site_key
    uncommented = [line for line in text.splitlines() if line.strip() and "#" not in line]
    assert uncommented == []
