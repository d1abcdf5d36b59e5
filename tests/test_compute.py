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
    """Through the SLURM profile (a cluster run: sized for the GPUs the rules ask for, no local memory limit): the
    training job asks for its GPUs, the GPU size compute.gpu_mem_mb names and compute.mem_mb where given, else the
    estimate; generation asks for compute.inference_gpus and the memory hyperfit.sizing computes."""
    from test_sizing import paper_config

    from hyperfit import sizing as Z

    paper = paper_config()
    jobs = dry_run_resources("train_all", "results/eval/llama-3.1-70b/hyperfitted/model/greedy-96.jsonl",
                             "--configfile", "config/paper.yaml", "--profile", "profiles/slurm")
    for name, spec in paper["models"].items():
        got = jobs[("train_setting", f"model={name}, setting=hyperfitted")]
        compute = spec["compute"]
        assert int(got["gpu"]) == compute["gpus"] and int(got["gpu_mem_mb"]) == compute["gpu_mem_mb"], name
        want = Z.job(paper, "train_setting", {"model": name, "setting": "hyperfitted"}, "gpu").mem_mb
        assert int(got["mem_mb"]) == (compute["mem_mb"] or want) == want, name
    assert int(jobs[("train_setting", "model=llama-3.1-70b, setting=hyperfitted")]["gpu"]) == 8  # FSDP over 8 GPUs, offloaded
    assert paper["models"]["llama-3.1-70b"]["compute"]["cpu_offload"] is True
    wildcards = {"model": "llama-3.1-70b", "setting": "hyperfitted", "weights": "model", "method": "greedy",
                 "length": "96"}
    generate = jobs[("generate_texts", ", ".join(f"{k}={v}" for k, v in wildcards.items()))]
    assert int(generate["gpu"]) == paper["models"]["llama-3.1-70b"]["compute"]["inference_gpus"]  # spread over GPUs
    assert int(generate["mem_mb"]) == Z.job(paper, "generate_texts", wildcards, "gpu").mem_mb > 141_000  # the weights


def test_default_model_asks_for_one_gpu_which_cpus_ignore():
    """Locally on a machine without a GPU: one GPU asked for (ignored), no GPU memory, the CPU estimate of the
    memory (no explicit compute.mem_mb in the default)."""
    from test_sizing import default_config

    from hyperfit import sizing as Z

    jobs = dry_run_resources("train_all", "--resources", "mem_mb=1000000")
    got = jobs[("train_setting", "model=smollm2-135m, setting=hyperfitted")]
    want = Z.job(default_config(), "train_setting", {"model": "smollm2-135m", "setting": "hyperfitted"}, "cpu")
    assert got["gpu"] == "1" and got["gpu_mem_mb"] == "0" and int(got["mem_mb"]) == want.mem_mb


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
