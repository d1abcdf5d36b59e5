"""One hyperfitting job: in this process (one CPU or GPU), or one process per GPU under FSDP.

A job is a small JSON-able spec (paths and settings). run_job() trains in this process when the model is
set to one GPU; with models.<name>.compute.gpus > 1 it starts `accelerate launch` (one node, one process per
GPU, FSDP2: parameters, gradients and Adam state sharded per decoder layer, bf16 compute over fp32 master
weights, weights loaded once on the main process and broadcast), which runs this module in each process:

    python -m accelerate.commands.launch --use_fsdp ... -m hyperfit.distributed SPEC.json

Each process runs train_job(spec), i.e. the same loop as the single-process case (hyperfit.training).
Without CUDA the processes train on CPUs (accelerate then uses gloo and plain data parallelism instead of
FSDP), which is how the tests exercise this path.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from .errors import UserError


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


def run_job(spec: dict, log=print) -> None:
    """Hyperfit as `spec` says: here, or in spec['processes'] processes started by accelerate."""
    from .modeling import check_gpus

    processes = int(spec.get("processes", 1))
    check_gpus(processes, int(spec.get("gpu_mem_mb", 0)))
    if processes <= 1:
        train_job(spec)
        return
    spec_path = Path(spec["checkpoints"]) / "job.json"
    spec_path.parent.mkdir(parents=True, exist_ok=True)
    spec_path.write_text(json.dumps(spec))
    from .training import use_bf16

    cmd = launch_command(str(spec_path), processes, use_bf16(spec["settings"]), bool(spec.get("cpu_offload")),
                         free_port())
    log("launching: " + " ".join(cmd))
    env = {**os.environ, "OMP_NUM_THREADS": str(max(1, int(os.environ.get("OMP_NUM_THREADS", "1")) // processes))}
    sys.stdout.flush()
    sys.stderr.flush()
    done = subprocess.run(cmd, env=env, stdout=sys.stdout, stderr=sys.stderr)
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
                       pad_id=tokens["pad_id"], facts=facts)
    if accelerator.is_main_process:
        write_table(pd.DataFrame(history, columns=HISTORY_COLUMNS), run / "history.tsv")
        revisions = {"revisions": spec["revisions"]} if spec.get("revisions") else {}  # hub commits of the inputs
        write_json(run / "run.json", {**facts, "windows": len(train), "setting": spec["train"], **revisions})


if __name__ == "__main__":
    train_job(json.loads(Path(sys.argv[1]).read_text()))
