"""The plan of a config: every job of its DAG with what it asks a cluster for and which limit it would break.

One row per job (rule, model, setting and the rest of its wildcards): GPUs, host memory, GPU memory per GPU,
disk, the runtime estimate and the runtime it asks for, all from hyperfit.sizing (the same numbers the rules'
resources take), then the limits of the SLURM profile it breaks: a runtime the profile fixes for the rule
(set-resources) below the estimate, a GPU memory estimate above the model's compute.gpu_mem_mb (the GPUs the
model's jobs run on), a host memory estimate above an explicit compute.mem_mb or image.mem_mb. The jobs come from
the workflow itself (`snakemake -n --forceall`, its job listing parsed), so the plan covers exactly the DAG.

    .venv/bin/python bench/job_resources.py --configfile config/paper.yaml [--target all] [--device gpu] \\
        [--profile profiles/slurm/config.yaml] [--out results/sizing/paper]

writes OUT.tsv (every job, with the arithmetic of each number) and OUT.md (grouped per rule x model: jobs, GPUs,
largest memory, disk, runtime; the limits broken; the arithmetic of the largest job of each group). Rules that
load no model are listed with the profile's default resources (their measured peak is a few hundred MB).
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def load_config(configfiles: list[str]) -> dict:
    """The config as the workflow sees it: the embedded default unless config files are given (merged in
    order, as --configfile does), with the schema's defaults filled in."""
    from snakemake.utils import update_config, validate

    config: dict = {}
    for path in configfiles or [str(ROOT / "config" / "config.yaml")]:
        update_config(config, yaml.safe_load(Path(path).read_text()) or {})
    validate(config, str(ROOT / "config" / "schema.yaml"))
    return config


def dry_run_jobs(target: str, configfiles: list[str], extra: tuple[str, ...] = ()) -> list[dict]:
    """Every job of `target` (rule, wildcards, threads, printed resources, benchmark file) from
    `snakemake -n --forceall` (extra: further command-line arguments)."""
    # --cores 1024: the rules' own threads (a local dry run caps them at this machine's cores; a cluster job gets them)
    args = [str(ROOT / ".venv" / "bin" / "snakemake"), "-n", "--forceall", "--cores", "1024", target, *extra]
    if configfiles:
        args += ["--configfile", *configfiles]
    res = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"the dry run failed:\n{res.stdout[-2000:]}{res.stderr[-2000:]}")
    jobs, job = [], None
    for line in res.stdout.splitlines():
        if m := re.match(r"^(?:local)?(?:rule|checkpoint) (\w+):", line):
            job = {"rule": m.group(1), "wildcards": {}, "threads": 1, "resources": {}}
            jobs.append(job)
        elif job and (m := re.match(r"^\s+wildcards: (.*)$", line)):
            job["wildcards"] = dict(kv.split("=", 1) for kv in m.group(1).split(", "))
        elif job and (m := re.match(r"^\s+threads: (\d+)$", line)):
            job["threads"] = int(m.group(1))
        elif job and (m := re.match(r"^\s+benchmark: (.*)$", line)):
            job["benchmark"] = m.group(1)
        elif job and (m := re.match(r"^\s+resources: (.*)$", line)):
            job["resources"] = dict(kv.split("=", 1) for kv in m.group(1).split(", "))
    return [j for j in jobs if j["rule"] != "all"]


def limits(config: dict, profile: dict, est, rule: str, model: str) -> list[str]:
    """The limits of the SLURM profile (and of the config's explicit compute) this job breaks."""
    out = []
    fixed = (profile.get("set-resources") or {}).get(rule, {}).get("runtime")
    if fixed is not None and est.minutes > fixed:
        out.append(f"runtime: estimate {est.minutes:.0f} min > profiles/slurm set-resources.{rule}.runtime {fixed}")
    comp = config["models"][model]["compute"] if model in config["models"] else {}
    gpu_mem = comp.get("gpu_mem_mb") or 0
    gpu_est = est.estimated.get("gpu_mem_mb", est.gpu_mem_mb)
    if gpu_mem and est.gpus and gpu_est > gpu_mem:
        out.append(f"GPU memory: estimate {gpu_est} MB per GPU > models.{model}.compute.gpu_mem_mb {gpu_mem}")
    mem_est = est.estimated.get("mem_mb", est.mem_mb)
    if mem_est > est.mem_mb:
        key = "image.mem_mb" if rule.endswith("image_model") else f"models.{model}.compute.mem_mb"
        out.append(f"host memory: estimate {mem_est} MB > {key} {est.mem_mb}")
    return out


def plan(config: dict, jobs: list[dict], profile: dict, device: str) -> list[dict]:
    from hyperfit import sizing as Z

    default = profile.get("default-resources") or {}
    rows = []
    for job in jobs:
        rule, wc = job["rule"], job["wildcards"]
        model = wc.get("model") or (config["image"]["name"] if "image" in rule else "")
        fixed = (profile.get("set-resources") or {}).get(rule, {})
        row = {"rule": rule, "model": model, "setting": wc.get("setting", ""),
               "job": ", ".join(f"{k}={v}" for k, v in wc.items() if k not in ("model", "setting"))}
        if rule in Z.MODEL_RULES:
            est = Z.job(config, rule, wc, device, job["threads"])
            runtime = fixed.get("runtime", est.runtime_minutes)
            row.update(gpus=est.gpus, mem_mb=est.mem_mb, gpu_mem_mb=est.gpu_mem_mb, disk_mb=est.disk_mb,
                       minutes=round(est.minutes, 1), runtime=runtime,
                       breaks="; ".join(limits(config, profile, est, rule, model)),
                       mem_why=est.why["mem_mb"], gpu_why=est.why["gpu_mem_mb"], disk_why=est.why["disk_mb"],
                       runtime_why=est.why["runtime"])
        else:
            mem = int(job["resources"].get("mem_mb", default.get("mem_mb", 0)))
            row.update(gpus=0, mem_mb=mem, gpu_mem_mb=0, disk_mb="", minutes="",
                       runtime=fixed.get("runtime", default.get("runtime", "")), breaks="",
                       mem_why="loads no model: the rule's mem_mb, else the profile's default-resources",
                       gpu_why="", disk_why="", runtime_why="the profile's default-resources")
        rows.append(row)
    return rows


def measured(config: dict, jobs: list[dict], workdir: Path, device: str) -> list[dict]:
    """Each job of a finished run in `workdir` with a benchmark file: its max_rss (MB) against the estimate
    (sized from the models' config.json there)."""
    import os

    import pandas as pd

    from hyperfit import sizing as Z

    out = []
    here = os.getcwd()
    os.chdir(workdir)  # the models' local config.json files of that run
    try:
        for job in jobs:
            bench = Path(job.get("benchmark") or "-")
            if job["rule"] not in Z.MODEL_RULES or not bench.is_file():
                continue
            rss = float(pd.read_csv(bench, sep="\t")["max_rss"].max())
            est = Z.job(config, job["rule"], job["wildcards"], device, job["threads"])
            mem = est.estimated.get("mem_mb", est.mem_mb)  # the estimate itself, not an explicit override
            out.append({"rule": job["rule"], "benchmark": str(bench), "max_rss_mb": rss, "estimate_mb": mem,
                        "asked_mb": est.mem_mb, "ratio": mem / rss, "within": rss <= mem})
    finally:
        os.chdir(here)
    return out


def measured_summary(rows: list[dict], title: str) -> str:
    by: dict[str, list[dict]] = {}
    for r in rows:
        by.setdefault(r["rule"], []).append(r)
    lines = [f"# Measured max_rss against the estimate: {title}", "",
             "Per rule: jobs with a benchmark file, the largest max_rss, the estimate of that job, the smallest and the "
             "median estimate / max_rss over the jobs, and the jobs whose max_rss exceeds their estimate.", "",
             "| rule | jobs | largest max_rss | its estimate | smallest estimate / max_rss | median | over the estimate |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for rule, rs in by.items():
        big = max(rs, key=lambda r: r["max_rss_mb"])
        ratios = sorted(r["ratio"] for r in rs)
        over = [r["benchmark"] for r in rs if not r["within"]]
        lines.append(f"| {rule} | {len(rs)} | {big['max_rss_mb']:.0f} MB | {big['estimate_mb']} MB | {ratios[0]:.2f} | "
                     f"{ratios[len(ratios) // 2]:.2f} | {len(over)}{': ' + ', '.join(over) if over else ''} |")
    return "\n".join(lines) + "\n"


def fmt_mb(mb) -> str:
    if mb in ("", None):
        return ""
    return f"{mb / 1e6:.2f} TB" if mb >= 1e6 else f"{mb / 1e3:.1f} GB" if mb >= 1e3 else f"{mb} MB"


def fmt_min(minutes) -> str:
    if minutes in ("", None):
        return ""
    return f"{minutes / 60:.1f} h" if minutes >= 90 else f"{minutes:.0f} min"


def summary(rows: list[dict], title: str, models: list[str]) -> str:
    """Markdown: one line per rule x model (model rules first, in hyperfit.sizing.MODEL_RULES' order, models in
    the config's order), then the arithmetic of each group's largest job."""
    from hyperfit.sizing import MODEL_RULES

    rules = list(MODEL_RULES)
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in sorted(rows, key=lambda r: (rules.index(r["rule"]) if r["rule"] in rules else len(rules), r["rule"],
                                         models.index(r["model"]) if r["model"] in models else len(models))):
        groups.setdefault((r["rule"], r["model"]), []).append(r)
    lines = [f"# Plan: {title}", "",
             f"{len(rows)} jobs. Per rule x model: jobs, GPUs per job, the largest host memory and GPU memory per GPU "
             "of its jobs, their summed disk, the largest runtime estimate (and what the job asks for: the "
             "estimate x compute.runtime_margin, or the profile's fixed runtime), and the limits broken.", "",
             "| rule | model | jobs | GPUs | host memory | GPU memory / GPU | disk (sum) | runtime estimate (asked) "
             "| limits it breaks |", "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    detail = []
    for (rule, model), rs in groups.items():
        big = max(rs, key=lambda r: (r["mem_mb"], r["gpu_mem_mb"]))
        sized = [r for r in rs if r["minutes"] != ""]
        longest = max(sized, key=lambda r: r["minutes"]) if sized else None
        broken = sorted({b for r in rs for b in r["breaks"].split("; ") if b})
        n_broken = sum(1 for r in rs if r["breaks"])
        disk = sum(r["disk_mb"] for r in sized) if sized else ""
        gpus = sorted({r["gpus"] for r in rs})
        runtime = (f"{fmt_min(longest['minutes'])} ({fmt_min(longest['runtime'])})" if longest
                   else f"({fmt_min(big['runtime'])})")
        lines.append(f"| {rule} | {model or '-'} | {len(rs)} | {'/'.join(map(str, gpus))} | {fmt_mb(big['mem_mb'])} "
                     f"| {fmt_mb(big['gpu_mem_mb']) if big['gpu_mem_mb'] else '-'} | {fmt_mb(disk)} | {runtime} | "
                     + (f"{n_broken} of {len(rs)}: " + "; ".join(broken) if broken else "none") + " |")
        if sized:
            where = lambda r: " ".join(x for x in (r["setting"], r["job"]) if x)  # noqa: E731
            detail += [f"- **{rule} / {model or '-'}**" + (f" ({where(big)})" if where(big) else "") + ":",
                       f"  host: {big['mem_why']};"]
            if big["gpus"]:
                detail.append(f"  GPU: {big['gpu_why']};")
            detail += [f"  disk: {big['disk_why']};",
                       f"  runtime{f' ({where(longest)})' if where(longest) else ''}: {longest['runtime_why']}"]
    return "\n".join(lines + ["", "## The arithmetic of each group's largest job", ""] + detail) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configfile", nargs="*", default=[], help="config files (default: the embedded default)")
    ap.add_argument("--target", default="all")
    ap.add_argument("--device", choices=["gpu", "cpu"], default="gpu",
                    help="gpu: the jobs get the GPUs their rules ask for (a cluster); cpu: a machine without one")
    ap.add_argument("--profile", default=str(ROOT / "profiles" / "slurm" / "config.yaml"))
    ap.add_argument("--out", default=None, help="output prefix (default: results/sizing/<config name>)")
    ap.add_argument("--measured", default=None, metavar="WORKDIR",
                    help="also compare the max_rss of a finished run's benchmark files (WORKDIR/benchmarks) with the "
                         "estimates (use --device cpu for a run without a GPU): OUT.measured.{tsv,md}")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    config = load_config(args.configfile)
    profile = yaml.safe_load(Path(args.profile).read_text()) or {}
    jobs = dry_run_jobs(args.target, args.configfile)
    rows = plan(config, jobs, profile, args.device)
    name = "+".join(Path(c).stem for c in args.configfile) or "default"
    out = Path(args.out or ROOT / "results" / "sizing" / name)
    out.parent.mkdir(parents=True, exist_ok=True)
    import pandas as pd

    pd.DataFrame(rows).to_csv(f"{out}.tsv", sep="\t", index=False)
    models = [*config["models"], config["image"]["name"]]
    title = f"{name} ({args.target}, {args.device}, {Path(args.profile).parent.name})"
    Path(f"{out}.md").write_text(summary(rows, title, models))
    print(f"{len(rows)} jobs; {sum(1 for r in rows if r['breaks'])} break a limit: {out}.tsv, {out}.md")
    if args.measured:
        found = measured(config, jobs, Path(args.measured), args.device)
        pd.DataFrame(found).to_csv(f"{out}.measured.tsv", sep="\t", index=False)
        Path(f"{out}.measured.md").write_text(measured_summary(found, f"{name}, {args.measured} ({args.device})"))
        over = sum(1 for r in found if not r["within"])
        print(f"{len(found)} benchmark files, {over} over their estimate: {out}.measured.md")


if __name__ == "__main__":
    main()
