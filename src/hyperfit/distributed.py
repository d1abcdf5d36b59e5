"""One hyperfitting job: in this process (one CPU or GPU), or one process per GPU under FSDP.

A job is a small JSON-able spec (paths and settings). run_job() trains in this process when the model is
set to one GPU; with models.<name>.compute.gpus > 1 it starts `accelerate launch` (one node, one process per
GPU, FSDP2: parameters, gradients and Adam state sharded per decoder layer, bf16 compute over fp32 master
weights, weights loaded once on the main process and broadcast), which runs this module in each process:

    python -m accelerate.commands.launch --use_fsdp ... -m hyperfit.distributed SPEC.json

Each process runs train_job(spec), i.e. the same loop as the single-process case (hyperfit.training).
Without CUDA the processes train on CPUs (accelerate then uses gloo and plain data parallelism instead of
FSDP), which is how the tests exercise this path.

Before any training, run_job states the disk the run needs (two resume checkpoints, the saved weights) against
the free space, and stops with one line where it does not fit; it gives each training process its share of the
job's threads (with cpu_offload the Adam step runs on the host: OFFLOAD_MIN_THREADS per process at least); under
SLURM it passes the job's end time on, so that the loop stops before the time limit with a checkpoint written.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from .errors import UserError

# Threads each training process needs where its share of the Adam step runs on the host (cpu_offload): the step
# is bound by memory bandwidth, ~10 GB/s per thread, so 8 processes x 1 thread reach a fifth of a node's ~400 GB/s
# (README, "Llama 3.1 70B"). Fewer is allowed (the rehearsal runs on 2 cores), and said in the log.
OFFLOAD_MIN_THREADS = 4
STOPPED = "stopped-for-time-limit.json"  # written into the checkpoint folder by a run that stopped before its limit


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now (for the processes' rendezvous)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_command(spec_path: str, processes: int, bf16: bool, cpu_offload: bool, port: int) -> list[str]:
    """The `accelerate launch` command line that runs train_job(spec) in `processes` processes."""
    flag = lambda value: "true" if value else "false"  # noqa: E731
    return [sys.executable, "-m", "accelerate.commands.launch",
            "--num_machines", "1", "--num_processes", str(processes), "--main_process_port", str(port),
            "--mixed_precision", "bf16" if bf16 else "no", "--dynamo_backend", "no",
            "--use_fsdp", "--fsdp_version", "2",
            "--fsdp_auto_wrap_policy", "TRANSFORMER_BASED_WRAP",  # one shard group per decoder layer
            "--fsdp_reshard_after_forward", "true",               # ZeRO-3: free gathered weights after use
            "--fsdp_state_dict_type", "SHARDED_STATE_DICT",       # checkpoints: each process its shard
            "--fsdp_cpu_ram_efficient_loading", "true",           # only the main process reads the weights
            "--fsdp_offload_params", flag(cpu_offload),           # keep shards + Adam state in host memory
            "--fsdp_activation_checkpointing", "false",           # hyperfit.gradient_checkpointing does it
            "-m", "hyperfit.distributed", spec_path]


def process_threads(threads: int, processes: int) -> int:
    """Threads of each of `processes` training processes sharing a job's `threads` (at least 1)."""
    return max(1, threads // max(1, processes))


def slurm_duration(text: str) -> float | None:
    """Seconds of a SLURM duration ("[days-]hours:minutes:seconds", "minutes:seconds", "minutes"); None for
    UNLIMITED, NOT_SET or anything else."""
    m = re.fullmatch(r"(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?", text.strip())
    if not m:
        return None
    days, a, b, c = (int(x) if x else None for x in m.groups())
    if c is not None:
        hours, minutes, seconds = a, b, c
    elif b is not None:
        hours, minutes, seconds = (a, b, 0) if days is not None else (0, a, b)
    else:
        hours, minutes, seconds = (a, 0, 0) if days is not None else (0, a, 0)
    return float((days or 0) * 86400 + hours * 3600 + minutes * 60 + seconds)


def job_deadline() -> float | None:
    """The Unix time at which the scheduler ends this job: under SLURM (SLURM_JOB_ID set) from
    SLURM_JOB_END_TIME where the site's SLURM sets it, else the time left that squeue reports; None elsewhere
    (a local run has no time limit) or when the job has none."""
    job = os.environ.get("SLURM_JOB_ID")
    if not job:
        return None
    end = os.environ.get("SLURM_JOB_END_TIME", "")
    if end.isdigit() and int(end) > 0:
        return float(end)
    try:
        left = subprocess.run(["squeue", "-h", "-j", job, "-o", "%L"], capture_output=True, text=True,
                              timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    seconds = slurm_duration(left) if left.strip() else None
    return None if seconds is None else time.time() + seconds


def disk_need(spec: dict) -> list[tuple[str, float, str]] | None:
    """(folder, bytes, what) the run will write at its peak, from the model's config.json (hyperfit.sizing's
    byte counts): two resume checkpoints (the new one is complete before the old one is deleted) and the early-
    stopped copy beside them; the saved weights (and early_stopped/ with its staging copy) in the run folder.
    None when the model's size is not known here."""
    from .sizing import checkpoint_bytes, export_bytes, local_config, size_from_config
    from .training import schedule

    cfg = local_config(spec["model"])
    if cfg is None:
        return None
    size = size_from_config(cfg)
    settings = spec["settings"]
    lora = settings.get("lora") or {}
    trainable = None
    if lora.get("enabled"):
        layers = lora.get("layers")
        trainable = size.lora_params(int(lora["r"]), len(layers) if layers else None)
    ck, ck_text = checkpoint_bytes(size.params, trainable)
    ex, ex_text = export_bytes(size.params, spec.get("save_dtype") or "float32")
    _, epochs, _ = schedule(int(spec["train"]["num_samples"]), settings)
    best = bool(spec.get("early_stopped"))
    out = []
    if epochs > 1:  # the last epoch writes no checkpoint
        out.append((spec["checkpoints"], 2 * ck, f"two resume checkpoints of {ck_text}"))
    if best:
        out.append((spec["checkpoints"], ex, f"the early-stopped weights kept beside them ({ex_text})"))
    out.append((spec["run"], ex * (3 if best else 1),
                f"the saved weights ({ex_text})" + (" x 3 (model/, early_stopped/ and its staging copy)" if best
                                                     else "")))
    return out


def _existing(path: str) -> Path:
    p = Path(path).absolute()
    while not p.exists():
        p = p.parent
    return p


def _bytes_in(path: str) -> float:
    p = Path(path)
    return float(sum(f.stat().st_size for f in p.rglob("*") if f.is_file())) if p.is_dir() else 0.0


def check_disk(spec: dict, log=print) -> None:
    """State the disk the run needs and the free space, one line per filesystem; stop with that line where it
    does not fit. A resumed run's checkpoint already on disk counts as written."""
    from .sizing import gb

    need = disk_need(spec)
    if need is None:
        log("disk: the model's size is unknown here (no config.json); not checked")
        return
    by_fs: dict[int, list] = {}
    for folder, n, what in need:
        by_fs.setdefault(_existing(folder).stat().st_dev, []).append((folder, n, what))
    for parts in by_fs.values():
        total = sum(n for _, n, _ in parts)
        have = _bytes_in(spec["checkpoints"]) if any(f == spec["checkpoints"] for f, _, _ in parts) else 0.0
        free = shutil.disk_usage(_existing(parts[0][0])).free
        what = "; ".join(f"{what} at {folder}" for folder, _, what in parts)
        line = (f"train_setting needs {gb(max(0.0, total - have))} free for {what}"
                + (f" ({gb(have)} of them already written)" if have else "") + f"; {gb(free)} free there")
        if total - have > free:
            raise UserError(line + ": free space there, put results/checkpoints on a larger filesystem (a symlink), "
                                   "or train LoRA adapters (hyperfit.lora.enabled: checkpoints of the adapters alone)")
        log("disk: " + line)


def run_job(spec: dict, log=print) -> None:
    """Hyperfit as `spec` says: here, or in spec['processes'] processes started by accelerate."""
    from .modeling import check_gpus

    processes = int(spec.get("processes", 1))
    check_gpus(processes, int(spec.get("gpu_mem_mb", 0)))
    check_disk(spec, log)
    stopped = Path(spec["checkpoints"]) / STOPPED
    stopped.unlink(missing_ok=True)  # a resubmission after a stop before the time limit
    threads = int(os.environ.get("OMP_NUM_THREADS", "1"))
    per_process = process_threads(threads, processes)
    if spec.get("deadline"):
        log(f"time limit: {(spec['deadline'] - time.time()) / 3600:.2f} h left; training stops before it with a "
            "checkpoint written if the next epoch would not fit")
    if processes <= 1:
        train_job(spec)
        return
    log(f"{processes} training processes x {per_process} thread(s) (this job has {threads} of the "
        f"{spec.get('threads_asked', threads)} models.<name>.compute.cpus asks for)")
    if spec.get("cpu_offload") and per_process < OFFLOAD_MIN_THREADS:
        log(f"WARNING: with cpu_offload each process runs its share of the Adam step on the host with {per_process} "
            f"thread(s), fewer than {OFFLOAD_MIN_THREADS}: memory-bandwidth starved. Give the job more CPUs "
            f"(models.<name>.compute.cpus, at least {OFFLOAD_MIN_THREADS * processes})")
    spec_path = Path(spec["checkpoints"]) / "job.json"
    spec_path.parent.mkdir(parents=True, exist_ok=True)
    spec_path.write_text(json.dumps(spec))
    from .training import use_bf16

    cmd = launch_command(str(spec_path), processes, use_bf16(spec["settings"]), bool(spec.get("cpu_offload")),
                         free_port())
    log("launching: " + " ".join(cmd))
    env = {**os.environ, "OMP_NUM_THREADS": str(per_process)}
    sys.stdout.flush()
    sys.stderr.flush()
    done = subprocess.run(cmd, env=env, stdout=sys.stdout, stderr=sys.stderr)
    if done.returncode != 0 and stopped.is_file():  # the processes stopped before the time limit, checkpointed
        raise UserError(json.loads(stopped.read_text())["message"])
    if done.returncode != 0:
        raise UserError(f"the {processes} training processes failed (exit {done.returncode}); their errors "
                        "are in this job's log above")


def train_job(spec: dict) -> None:
    """What every training process does: load token ids and the base model, hyperfit the setting's windows
    (hyperfit.data.setting_windows), write the run folder: model/, history.tsv, early_stopped/ if asked."""
    import pandas as pd
    import torch

    from .data import setting_windows
    from .modeling import load_model, load_tokenizer, set_threads
    from .runner import read_json, write_json, write_table
    from .training import HISTORY_COLUMNS, hyperfit, make_accelerator

    set_threads()
    settings = spec["settings"]
    accelerator = make_accelerator(settings)  # before loading: under FSDP only the main process reads weights
    torch.manual_seed(settings["seed"])
    tokens = read_json(spec["tokens"])
    items = tokens["validation"][spec["train"]["train_domain"]]  # held-out texts of the training domain
    train = setting_windows(tokens, spec["train"])
    # fp32 master weights; bf16 is used for compute (autocast) where the GPU has it
    model = load_model(spec["model"], "float32", for_training=True, place=accelerator.num_processes == 1)
    tok = load_tokenizer(spec["model"])
    progress_factory = None
    if accelerator.is_main_process:
        from .runner import progress

        progress_factory = lambda **kw: progress(desc="hyperfit steps", **kw)  # noqa: E731
    run = Path(spec["run"])
    facts: dict = {}
    history = hyperfit(model, tok, train, items, settings, str(run / "model"), spec["checkpoints"],
                       progress_factory=progress_factory, save_dtype=spec.get("save_dtype"),
                       best_dir=str(run / "early_stopped") if spec.get("early_stopped") else None,
                       pad_id=tokens["pad_id"], facts=facts, deadline=spec.get("deadline"),
                       cpu_offload=bool(spec.get("cpu_offload")) and accelerator.num_processes > 1)
    if accelerator.is_main_process:
        write_table(pd.DataFrame(history, columns=HISTORY_COLUMNS), run / "history.tsv")
        revisions = {"revisions": spec["revisions"]} if spec.get("revisions") else {}  # hub commits of the inputs
        write_json(run / "run.json", {**facts, "windows": len(train), "setting": spec["train"], **revisions})


if __name__ == "__main__":
    train_job(json.loads(Path(sys.argv[1]).read_text()))
