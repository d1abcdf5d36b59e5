"""How the same DAG would run on more cores: a simulation from a finished run's own Snakemake log.

The log of a run (`.snakemake/log/*.snakemake.log`, or Snakemake's stderr saved) holds every job with its
inputs, outputs, threads and priority, and when it started and finished. From that this script rebuilds the
DAG (a job waits for the jobs whose outputs it reads), takes each job's measured duration, and replays the
run with a greedy scheduler of N cores (ready jobs by priority, then by the order Snakemake started them;
a job takes its threads). It prints the replayed wall time and the mean number of busy cores for each N. The
replay with the run's own core count checks the simulation against the real wall time.

What it does not model: jobs slowing each other down (memory bandwidth, cache) when more run at once, so
wall times for many cores are a lower bound.

    .venv/bin/python bench/schedule.py LOG [--cores 2 4 8 16]
"""
from __future__ import annotations

import argparse
import heapq
import re
from datetime import datetime
from pathlib import Path

STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")


def parse(text: str) -> dict[int, dict]:
    jobs: dict[int, dict] = {}
    lines = text.splitlines()
    stamp = None
    current = None
    for line in lines:
        if m := STAMP.match(line.strip()):
            stamp = datetime.strptime(m.group(1), "%a %b %d %H:%M:%S %Y")
            continue
        if m := re.match(r"^(?:local)?rule (\w+):$", line):
            current = {"rule": m.group(1), "start": stamp, "input": [], "output": [], "threads": 1, "priority": 0}
            continue
        if m := re.match(r"^Finished jobid: (\d+)", line):
            if int(m.group(1)) in jobs:
                jobs[int(m.group(1))]["end"] = stamp
            continue
        if current is not None and (m := re.match(r"^    (\w+): (.*)$", line)):
            key, value = m.groups()
            if key in ("input", "output"):
                current[key] = [v.strip() for v in value.split(", ")]
            elif key == "jobid":
                current["jobid"] = int(value)
                jobs[int(value)] = current
            elif key in ("threads", "priority"):
                current[key] = int(value)
    return {j: job for j, job in jobs.items() if job.get("end") and job.get("start")}


def dependencies(jobs: dict[int, dict]) -> dict[int, set[int]]:
    producer = {out: j for j, job in jobs.items() for out in job["output"]}
    deps = {}
    for j, job in jobs.items():
        found = set()
        for path in job["input"]:
            parts = Path(path).parts
            for k in range(len(parts), 0, -1):  # the file itself, or a directory output above it
                src = producer.get(str(Path(*parts[:k])))
                if src is not None and src != j:
                    found.add(src)
                    break
        deps[j] = found
    return deps


def replay(jobs: dict[int, dict], deps: dict[int, set[int]], cores: int) -> tuple[float, float, int]:
    """Greedy list scheduling; returns (wall seconds, mean busy cores, most jobs at once)."""
    dur = {j: (job["end"] - job["start"]).total_seconds() for j, job in jobs.items()}
    order = {j: i for i, j in enumerate(sorted(jobs, key=lambda j: jobs[j]["start"]))}
    waiting = {j: set(d) for j, d in deps.items()}
    ready = [j for j, d in waiting.items() if not d]
    running: list[tuple[float, int]] = []
    free, now, busy, most = cores, 0.0, 0.0, 0
    while ready or running:
        ready.sort(key=lambda j: (-jobs[j]["priority"], order[j]))
        for j in list(ready):  # free cores only shrink in this pass: one pass starts all that fit
            need = min(jobs[j]["threads"], cores)
            if need <= free:
                free -= need
                heapq.heappush(running, (now + dur[j], j))
                ready.remove(j)
        most = max(most, len(running))
        end, j = heapq.heappop(running)
        busy += (cores - free) * (end - now)
        now = end
        free += min(jobs[j]["threads"], cores)
        for k, d in waiting.items():
            if j in d:
                d.discard(j)
                if not d:  # its last dependency just finished: ready once
                    ready.append(k)
    return now, busy / now if now else 0.0, most


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log", type=Path)
    ap.add_argument("--cores", type=int, nargs="+", default=[2, 4, 8, 16])
    args = ap.parse_args()
    jobs = parse(args.log.read_text())
    deps = dependencies(jobs)
    starts = [job["start"] for job in jobs.values()]
    ends = [job["end"] for job in jobs.values()]
    real = (max(ends) - min(starts)).total_seconds()
    work = sum((job["end"] - job["start"]).total_seconds() * job["threads"] for job in jobs.values())
    print(f"{len(jobs)} jobs, {sum(len(d) for d in deps.values())} dependencies; real wall time {real:.0f} s; "
          f"job-seconds x threads {work:.0f}")
    for cores in args.cores:
        wall, mean_busy, most = replay(jobs, deps, cores)
        print(f"--cores {cores:>2}: replayed wall {wall:7.0f} s ({wall / real:.2f} of the real run), mean busy cores "
              f"{mean_busy:.2f} of {cores}, up to {most} jobs at once")


if __name__ == "__main__":
    main()
