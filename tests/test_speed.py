"""Training-speed arithmetic against hand-worked values, and the training benchmark end to end (tiny)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hyperfit.speed import count_params, cpu_peak_flops, gpu_peak_flops, mfu, train_flops

ROOT = Path(__file__).resolve().parents[1]


def test_count_params_counts_tied_weights_once():
    emb = torch.nn.Embedding(10, 4)  # 40
    head = torch.nn.Linear(4, 10, bias=False)
    head.weight = emb.weight  # tied: still 40
    model = torch.nn.ModuleDict({"emb": emb, "head": head, "norm": torch.nn.LayerNorm(4)})  # + 4 + 4
    assert count_params(model) == 48


def test_flops_and_mfu():
    assert train_flops(1_000_000, 1000) == 6e9
    # 1.1B parameters, 20,000 tokens/s: 6 x 1.1e9 x 2e4 = 1.32e14 FLOP/s; of a 989.4 TFLOP/s peak: 13.34%
    assert mfu(1_100_000_000, 20_000, 1.0, 989.4e12) == pytest.approx(0.13341, abs=1e-5)
    assert mfu(10, 100, 2.0, 3000.0) == pytest.approx(6 * 10 * 100 / 2 / 3000)


def test_gpu_peak_table():
    assert gpu_peak_flops("NVIDIA H100 80GB HBM3", "bf16") == pytest.approx(989.4e12)
    assert gpu_peak_flops("NVIDIA H100 PCIe", "bf16") == pytest.approx(756e12)
    assert gpu_peak_flops("NVIDIA H200", "fp32") == pytest.approx(66.9e12)
    assert gpu_peak_flops("NVIDIA A100-SXM4-80GB", "bf16") == pytest.approx(312e12)
    assert gpu_peak_flops("Tesla V100-SXM2-16GB", "bf16") is None  # no bf16 tensor cores
    assert gpu_peak_flops("Some Future GPU", "bf16") is None


@pytest.mark.parametrize("flags, per_cycle", [("fpu sse2 avx fma avx2", 32), ("sse2 avx2 fma avx512f", 64),
                                              ("fpu sse2", 8), ("avx2", 8)])
def test_cpu_peak_from_cpuinfo(flags, per_cycle):
    info = f"processor\t: 0\ncpu MHz\t\t: 2000.000\nflags\t\t: {flags}\n"
    assert cpu_peak_flops(info, threads=2) == pytest.approx(2e9 * per_cycle * 2)
    assert cpu_peak_flops("processor: 0\n", threads=2) is None


def test_train_speed_benchmark_runs_both_loops_on_the_same_batches(tmp_path):
    out = tmp_path / "speed.json"
    res = subprocess.run([sys.executable, str(ROOT / "bench/train_speed.py"), "--batch-size", "2", "--seq-len", "16",
                          "--steps", "2", "--warmup", "1", "--repeats", "2", "--threads", "1", "--json", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    summary = json.loads(out.read_text())
    assert summary["loss_max_abs_diff"] == 0  # the same math on the same batches, in fp32 on a CPU
    assert summary["tokens_per_run"] == 2 * 2 * 16 and summary["params"] > 5_000_000
    for loop in ("pipeline", "bare"):
        assert len(summary[loop]["wall_s"]) == 2 and summary[loop]["tokens_per_s"] > 0
    assert summary["ratios"]["wall"]["fastest"] > 0 and "pipeline / bare time" in res.stdout



SCHEDULE_LOG = """
[Wed Dec  2 02:00:00 2026]
localrule make_data:
    input: raw.txt
    output: results/data
    jobid: 1
    wildcards: x=1
Select jobs to execute...

[Wed Dec  2 02:00:00 2026]
localrule image:
    input: raw.txt
    output: results/image.png
    jobid: 3
    threads: 2

[Wed Dec  2 02:00:10 2026]
Finished jobid: 1 (Rule: make_data)

[Wed Dec  2 02:00:10 2026]
localrule train:
    input: results/data/tokens.json
    output: results/train/a
    jobid: 2
    priority: 10

[Wed Dec  2 02:01:40 2026]
Finished jobid: 3 (Rule: image)
[Wed Dec  2 02:01:50 2026]
Finished jobid: 2 (Rule: train)
"""


def test_schedule_replay_on_a_hand_made_log():
    """make_data (10 s) -> train (100 s, priority 10; reads a file inside make_data's directory output);
    image (100 s, 2 threads) apart. Replayed on 3 cores: make_data and image at once, train after make_data:
    110 s, 3 cores busy for 100 s and 1 for 10. On 2 cores: make_data first (started first), image waits for 2
    free cores, but train outranks it when make_data ends: 10 + 100 + 100 = 210 s."""
    sys.path.insert(0, str(ROOT / "bench"))
    import schedule

    jobs = schedule.parse(SCHEDULE_LOG)
    assert {j: (job["rule"], job["threads"], job["priority"]) for j, job in jobs.items()} == {
        1: ("make_data", 1, 0), 3: ("image", 2, 0), 2: ("train", 1, 10)}
    deps = schedule.dependencies(jobs)
    assert deps == {1: set(), 2: {1}, 3: set()}
    wall, busy, most = schedule.replay(jobs, deps, 3)
    assert (wall, most) == (110, 2) and busy == pytest.approx((3 * 100 + 1 * 10) / 110)
    assert schedule.replay(jobs, deps, 2)[0] == 210
    assert schedule.replay(jobs, deps, 1)[0] == 210
