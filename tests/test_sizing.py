"""The resource model (hyperfit.sizing): its arithmetic checked by hand for Llama 3.1 8B, every rule that loads a
model asks for what it computes, a local run's jobs share the machine's memory, and the plan lists every job."""
import json
import sys

import pytest
import yaml
from snakemake.utils import validate
from test_compute import dry_run_resources
from test_workflow import ROOT, snakemake

from hyperfit import sizing as Z

sys.path.insert(0, str(ROOT / "bench"))
import job_resources as plan  # noqa: E402  bench/job_resources.py

PAPER = ROOT / "config" / "paper.yaml"
LLAMA_8B = 8_030_261_248  # 32 x (2 x 4096^2 + 2 x 4096 x 1024 + 3 x 4096 x 14336 + 2 x 4096) + 2 x 128256 x 4096 + 4096


def validated(path) -> dict:
    """A config file as the workflow reads it: the schema's defaults filled in."""
    config = yaml.safe_load(path.read_text())
    validate(config, str(ROOT / "config" / "schema.yaml"))
    return config


def paper_config() -> dict:
    return validated(PAPER)


def default_config() -> dict:
    return validated(ROOT / "config" / "config.yaml")


def test_llama_8b_parameters_from_its_config_json_shapes():
    cfg = {"hidden_size": 4096, "num_hidden_layers": 32, "vocab_size": 128256, "num_attention_heads": 32,
           "num_key_value_heads": 8, "intermediate_size": 14336, "tie_word_embeddings": False}
    size = Z.size_from_config(cfg)
    assert size.params == LLAMA_8B and size.kv == 1024 and not size.tied_embeddings
    assert Z.model_size(paper_config(), "llama-3.1-8b").params == LLAMA_8B  # paper.yaml states the same


def test_llama_8b_inference_by_hand():
    """generate_texts of Llama 3.1 8B in bf16 on one GPU, 300 texts of 32 + 256 tokens, batches of 32."""
    config = paper_config()
    config["models"]["llama-3.1-8b"]["dtype"] = "bfloat16"  # whatever paper.yaml evaluates in
    est = Z.job(config, "generate_texts", {"model": "llama-3.1-8b", "setting": "hyperfitted",
                                                   "weights": "model", "method": "greedy", "length": "256"}, "gpu")
    weights = LLAMA_8B * 2                       # 16.06 GB of bf16 weights
    assert weights == 16_060_522_496
    kv = 2 * 32 * 1024 * 32 * (32 + 256) * 2     # K and V x layers x kv width x batch x tokens x 2 B
    logits = 32 * 128256 * 4 * 3                 # the last position's fp32 logits, 3 copies (softmax, top-p)
    prefill = 32 * 32 * 128256 * 2               # the prefill's bf16 logits
    assert est.gpu_mem_mb == -(-(weights + kv + logits + prefill + 1000e6) // 1e6)   # + 1 GB CUDA context
    assert est.mem_mb == -(-(weights + 1000e6) // 1e6)  # the weights pass through host memory once, + runtime
    assert "8.03e9 params x 2 B (bf16) = 16.1 GB weights" in est.why["mem_mb"]
    assert est.gpus == 1 and est.gpu_mem_mb == 18_581


def test_llama_8b_training_by_hand():
    """The main run: FSDP over 4 GPUs, 16 B per parameter sharded, 5,000 updates of 8 x 256 tokens with
    gradient checkpointing (8 FLOPs per parameter and token)."""
    config = paper_config()
    est = Z.job(config, "train_setting", {"model": "llama-3.1-8b", "setting": "hyperfitted"}, "gpu")
    assert "8.03e9 params x 16 B (fp32 weights, grads, Adam) = 128 GB / 4 GPU(s) = 32.1 GB" in est.why["gpu_mem_mb"]
    flops = 8 * LLAMA_8B * 5000 * 8 * 256
    assert f"{Z.num(flops)} FLOPs" in est.why["runtime"]
    seconds = flops / (4 * 989e12 * 0.3)
    assert f"= {seconds / 60:.3g} min" in est.why["runtime"]
    ckpt, text = Z.checkpoint_bytes(LLAMA_8B)
    assert ckpt == LLAMA_8B * 12 and "96.4 GB" in text  # fp32 weights + Adam moments
    assert est.mem_mb == config["models"]["llama-3.1-8b"]["compute"]["mem_mb"] or \
        config["models"]["llama-3.1-8b"]["compute"]["mem_mb"] is None  # an explicit mem_mb wins
    assert est.gpu_mem_mb == config["models"]["llama-3.1-8b"]["compute"]["gpu_mem_mb"]  # the GPUs asked for


def test_lora_checkpoint_holds_only_the_adapters():
    size = Z.model_size(paper_config(), "tinyllama-1.1b")
    r = 16  # per layer q, o (2048 + 2048), k, v (2048 + 256), gate, up, down (2048 + 5632), each x r
    assert size.lora_params(r, 5) == 5 * r * (2 * 4096 + 2 * 2304 + 3 * 7680)
    assert Z.checkpoint_bytes(size.params, size.lora_params(r, 5))[0] == 12 * size.lora_params(r, 5)


def test_a_local_config_json_wins_over_the_stated_size(tmp_path, monkeypatch):
    config = paper_config()
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "resources" / "models" / "llama-3.1-8b"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"hidden_size": 64, "num_hidden_layers": 2, "vocab_size": 1000,
                                                    "num_attention_heads": 4, "intermediate_size": 128,
                                                    "tie_word_embeddings": True}))
    size = Z.model_size(config, "llama-3.1-8b")
    assert size.source.endswith("config.json") and size.params == 2 * (4 * 64 * 64 + 3 * 64 * 128 + 128) + 64000 + 64


def test_the_72b_judge_by_hand():
    """judge_table1 of one model in paper.yaml: Qwen2.5-72B-Instruct in bf16 over 4 GPUs (device_map "auto": a
    quarter of the weights each, the layers one GPU at a time), each of 300 texts x 8 generation files (4 comparisons
    x 2 lengths), then the sanity check's 300 human continuations per length (2), judged in 2 orders, each prompt
    32 context + 2 x 256 continuation + 80 prompt tokens."""
    config = paper_config()
    est = Z.job(config, "judge_table1", {"model": "llama-3.1-8b"}, "gpu")
    params = 72_706_203_648
    weights = params * 2
    acts = 8 * 624 * 8192 * 2 * 8            # batch 8 x 624 tokens x hidden x 2 B x 8 transient tensors
    logits = 8 * 1 * 152064 * 4 * 2          # one position's fp32 logits, 2 copies
    assert est.gpus == 4
    assert est.gpu_mem_mb == -(-(weights / 4 + (acts + logits) / 4 + 1000e6) // 1e6)
    assert est.mem_mb == -(-(weights + 1000e6) // 1e6)   # the weights pass through host memory while loading
    flops = 2 * params * (2 * 300 * (8 + 2)) * 624
    minutes = 1 + flops / (989e12 * 0.3) / 60 + weights / 0.5e9 / 60
    assert est.minutes == pytest.approx(minutes, rel=1e-6)
    assert "one at a time" in est.why["runtime"]


def test_every_rule_that_loads_a_model_takes_its_resources_from_sizing():
    """The paper config's dry run (the memory limit lifted, so no request is capped): every job of a model rule
    asks for exactly what hyperfit.sizing computes, and every rule that asks for a GPU is one of them."""
    config = paper_config()
    seen = set()
    for job in plan.dry_run_jobs("all", [str(PAPER)], ("--resources", "mem_mb=1000000000")):
        rule, res = job["rule"], job["resources"]
        if "gpu" in res:
            assert rule in Z.MODEL_RULES, rule
        if rule not in Z.MODEL_RULES:
            continue
        seen.add(rule)
        want = Z.job(config, rule, job["wildcards"], "cpu", job["threads"]).resources()  # no GPU here: CPU sizes
        assert {k: int(res[k]) for k in want} == want, (rule, job["wildcards"])
    assert seen == set(Z.MODEL_RULES) - {"pretrain_image_model"}  # the digits stand-in only


def test_a_local_run_shares_the_available_memory(tmp_path):
    """Without --resources the jobs' summed mem_mb is limited to MemAvailable - compute.local_mem_margin_mb: with
    a margin larger than the machine, the limit is 1000 MB and every larger request is capped to it (so such jobs
    run one at a time); --resources mem_mb=... replaces the limit."""
    margin = tmp_path / "margin.yaml"
    margin.write_text("compute: {local_mem_margin_mb: 1000000000}\n")
    target = "results/eval/smollm2-135m/original/model/scores.json"
    capped = dry_run_resources(target, "--cores", "8", "--configfile", str(ROOT / "config/config.yaml"), str(margin))
    score = capped[("score_texts", "model=smollm2-135m, setting=original, weights=model")]
    assert int(score["mem_mb"]) == 1000
    free = dry_run_resources(target, "--cores", "8", "--resources", "mem_mb=500000")
    score = free[("score_texts", "model=smollm2-135m, setting=original, weights=model")]
    assert int(score["mem_mb"]) > 1000


def test_the_plan_lists_every_job_and_the_limits_it_breaks(tmp_path):
    config = paper_config()
    jobs = plan.dry_run_jobs("all", [str(PAPER)])
    profile = yaml.safe_load((ROOT / "profiles/slurm/config.yaml").read_text())
    rows = plan.plan(config, jobs, profile, "gpu")
    assert len(rows) == len(jobs) and {r["rule"] for r in rows} >= set(Z.MODEL_RULES) - {"pretrain_image_model"}
    train_70b = next(r for r in rows if r["rule"] == "train_setting" and r["model"] == "llama-3.1-70b")
    threads = next(j["threads"] for j in jobs if j["rule"] == "train_setting"
                   and j["wildcards"]["model"] == "llama-3.1-70b")  # the rule's own (compute.cpus), uncapped
    est = Z.job(config, "train_setting", {"model": "llama-3.1-70b", "setting": "hyperfitted"}, "gpu", threads)
    fixed = profile["set-resources"]["train_setting"]["runtime"]
    assert ("runtime: estimate" in train_70b["breaks"]) == (est.minutes > fixed)
    text = plan.summary(rows, "paper", [*config["models"], config["image"]["name"]])
    assert "| train_setting | llama-3.1-70b | 1 | 8 |" in text


@pytest.mark.parametrize("rss, within", [(500.0, True), (5000.0, False)])
def test_measured_max_rss_is_compared_with_the_estimate(tmp_path, rss, within):
    """A finished run's benchmark file against the estimate of its job (bench/job_resources.py --measured)."""
    config = default_config()
    bench = tmp_path / "benchmarks" / "eval" / "scores.tsv"
    bench.parent.mkdir(parents=True)
    bench.write_text(f"s\th:m:s\tmax_rss\n1.0\t0:00:01\t{rss}\n")
    job = {"rule": "score_texts", "wildcards": {"model": "smollm2-135m", "setting": "original", "weights": "model"},
           "threads": 1, "benchmark": "benchmarks/eval/scores.tsv"}
    [row] = plan.measured(config, [job], tmp_path, "cpu")
    assert row["within"] is within and row["estimate_mb"] == Z.job(config, "score_texts", job["wildcards"], "cpu").mem_mb
