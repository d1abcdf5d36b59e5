"""Hyperfitting: fine-tuning to near-zero training loss, with per-epoch monitoring and resume.

Settings follow the paper (Adam, constant learning rate, weight decay 0, all dropout 0, fixed batch size,
fixed epochs). One loop serves every set-up: one process on the CPU or one GPU, or one process per GPU
started by `accelerate launch` (FSDP shards parameters, gradients and optimizer state; see
hyperfit.distributed). Every process sees the same epoch order and takes its share of each batch.

bf16: autocast over fp32 master weights where the GPU supports it (a constant lr of 1e-6 is below half a
bf16 ulp of typical weights, so updates applied to bf16 weights would be rounded away). LoRA (peft) is an
option; the saved model always has the adapter merged, so it is a plain model folder.

A checkpoint (trainable weights, optimizer state, history) is written after every epoch outside the rule's
declared output, with torch.distributed.checkpoint (each process writes its own shard). A killed run
resumes from it and, on CPU, ends bit-identical to an uninterrupted run: the data order of each epoch is
derived from (seed, epoch) alone and nothing else draws random numbers. With a deadline (a scheduler's time
limit), the loop stops after the last epoch that leaves time for one more epoch, a checkpoint and the export,
writes the checkpoint and raises TimeLimitStop, so that a resubmission resumes instead of losing the work done
since the last checkpoint to the scheduler's kill.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .errors import UserError
from .generation import generate_batched
from .metrics import score_sequences, ttr

HISTORY_COLUMNS = ["epoch", "step", "train_loss", "val_loss", "val_entropy", "val_ppl", "greedy_ttr",
                   "reference_ttr"]
DISK_BYTES_PER_SECOND = 0.5e9   # a checkpoint's write time before one is measured (hyperfit.sizing's disk_gbs)
DEADLINE_MARGIN_SECONDS = 120   # beyond the next epoch, a checkpoint and the export: process exit, slow file systems


class TimeLimitStop(UserError):
    """Training stopped before the job's time limit with a checkpoint written: a resubmission resumes it."""


def must_stop(deadline: float | None, epoch_seconds: float, checkpoint_seconds: float, export_seconds: float,
              now: float | None = None) -> bool:
    """Whether the time left before `deadline` (Unix time) is too short for one more epoch (as long as the
    last one, + 20%), a checkpoint and the final export, with DEADLINE_MARGIN_SECONDS to spare."""
    if deadline is None:
        return False
    left = deadline - (time.time() if now is None else now)
    return left < 1.2 * epoch_seconds + checkpoint_seconds + export_seconds + DEADLINE_MARGIN_SECONDS


def epoch_order(n: int, seed: int, epoch: int, order: int = 0, swap: bool = False) -> list[int]:
    """The windows' order in one epoch: a permutation drawn from (seed, order, epoch) alone. `order` picks
    another sequence of permutations of the same windows (0: the seed's own); with `swap`, windows 0 and
    n-1 exchange places in every epoch, so the run differs from its unswapped twin by that one exchange
    (two windows of different batches whenever there is more than one batch)."""
    import torch

    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch + order * 7_919_993)
    perm = torch.randperm(n, generator=g).tolist()
    return swap_ends(perm) if swap else perm


def swap_ends(perm: list[int]) -> list[int]:
    """`perm` with windows 0 and n-1 exchanged wherever they stand."""
    last = len(perm) - 1
    return [last if i == 0 else 0 if i == last else i for i in perm]


def data_order(n: int, settings: dict, epoch: int) -> list[int]:
    """The order of the training windows in `epoch` under `settings` (shuffle, seed, order, swap)."""
    if not settings.get("shuffle", True):
        return swap_ends(list(range(n))) if settings.get("swap") else list(range(n))
    return epoch_order(n, settings["seed"], epoch, settings.get("order", 0), bool(settings.get("swap")))


def schedule(n: int, settings: dict) -> tuple[int, int, int]:
    """(updates per epoch, epochs, total updates): `updates`, where set, fixes the number of optimizer
    updates (the data-quantity sweep; the last epoch may stop part-way), else `epochs` full epochs."""
    per_epoch = (n + settings["batch_size"] - 1) // settings["batch_size"]
    if settings.get("updates"):
        total = int(settings["updates"])
        return per_epoch, (total + per_epoch - 1) // per_epoch, total
    return per_epoch, int(settings["epochs"]), per_epoch * int(settings["epochs"])


def make_optimizer(params, settings: dict, processes: int = 1):
    """Adam with a constant learning rate. A single process uses the fused kernel (one pass over all
    parameters: on CPU the update of a 135M-parameter model takes 0.11 s instead of 0.71 s); several processes
    switch to it after sharding where the step runs on the host (fuse_host_adam)."""
    import torch

    return torch.optim.Adam(params, lr=settings["lr"], weight_decay=settings["weight_decay"],
                            fused=True if processes == 1 else None)


def fuse_host_adam(optimizer) -> bool:
    """Let an optimizer whose parameters all live in host memory (FSDP's cpu_offload: the weight shards and
    Adam state on the host, the step on the CPU) step with the fused kernel. torch's default on the CPU is a
    loop of 7 tensor operations per parameter, ~72 bytes of memory traffic per element against the fused
    kernel's 28 (measured on one thread here: 29M against 131M elements per second). Switched after sharding,
    as the processes that do not read the weights hold them on the meta device until then (which the fused
    kernel's constructor refuses); the kernel takes FSDP2's DTensor shards. Returns whether it switched."""
    params = [p for group in optimizer.param_groups for p in group["params"]]
    if not params or any(p.device.type != "cpu" for p in params):
        return False
    for group in optimizer.param_groups:
        group.update(fused=True, foreach=False)
    return True


def fingerprint(settings: dict, train: list[list[int]]) -> str:
    blob = json.dumps({"settings": settings, "train": train}, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def shard(batch: list[int], rank: int, world: int) -> list[int]:
    """This process's windows of one batch: every world-th one, starting at its rank."""
    return batch[rank::world]


def check_split(n: int, batch_size: int, world: int) -> None:
    """Every batch must split evenly over the processes, so that averaging the processes' mean losses
    equals the single-process mean (and no process idles in a collective)."""
    if world > 1 and (batch_size % world or (n % batch_size) % world):
        raise UserError(f"hyperfit.batch_size {batch_size} (and the last batch of {n} windows) must split "
                        f"evenly over {world} processes: choose a batch size divisible by the GPU count")


def monitor(model, train: list[list[int]], items: list[dict], settings: dict, pad_id: int,
            train_loss: float | None) -> dict:
    """Figure 2's numbers at one point of training."""
    bs = settings["eval_batch_size"]
    if train_loss is None:  # before training: forward-only loss on the training windows
        s = score_sequences(model, train, batch_size=bs, topk=(1,), pad_id=pad_id, exact=False)
        train_loss = sum(r["nll_sum"] for r in s) / sum(r["n"] for r in s)
    s = score_sequences(model, [it["context"] + it["reference"] for it in items], batch_size=bs, topk=(1,),
                        pad_id=pad_id, exact=False)
    n = sum(r["n"] for r in s)
    val_loss = sum(r["nll_sum"] for r in s) / n
    window = settings["ttr_window"]
    greedy_ttr = math.nan  # monitor_new_tokens: 0 (the sweeps) skips the per-epoch generation
    if settings["monitor_new_tokens"] > 0:
        gen = generate_batched(model, [it["context"] for it in items], settings["monitor_new_tokens"], pad_id,
                               batch_size=bs)
        greedy_ttr = sum(ttr(g, window) for g in gen) / len(gen)
    return {"train_loss": train_loss, "val_loss": val_loss, "val_entropy": sum(r["entropy_sum"] for r in s) / n,
            "val_ppl": math.exp(val_loss), "greedy_ttr": greedy_ttr,
            "reference_ttr": sum(ttr(it["reference"], window) for it in items) / len(items)}


# ------------------------------------------------------------------------------------------ set-up
def use_bf16(settings: dict) -> bool:
    import torch

    return bool(settings.get("bf16", False)) and torch.cuda.is_available() and torch.cuda.is_bf16_supported()


def make_accelerator(settings: dict):
    """The process's Accelerator: a plain single process, or the one `accelerate launch` set up (its
    environment says how many processes and whether FSDP shards the model). The device comes from the
    environment too (CUDA_VISIBLE_DEVICES, LOCAL_RANK); without CUDA it is the CPU."""
    import torch
    from accelerate import Accelerator

    return Accelerator(cpu=not torch.cuda.is_available(), mixed_precision="bf16" if use_bf16(settings) else "no")


def lora_layers(spec, num_layers: int) -> list[int] | None:
    """Layer indices for LoRA; negative ones count from the end ([-1] = the last layer); None = all."""
    if spec is None:
        return None
    out = sorted({i % num_layers if -num_layers <= i < num_layers else _bad_layer(i, num_layers) for i in spec})
    return out


def _bad_layer(i: int, num_layers: int):
    raise UserError(f"hyperfit.lora.layers: layer {i} does not exist (the model has {num_layers} layers)")


def lora_targets(model, spec) -> list[str]:
    """Module names that get adapters: a list as given, or for "all-linear" the name of every linear layer
    but the output head (spelled out, so that it combines with a choice of layers)."""
    import torch

    if not isinstance(spec, str):
        return list(spec)
    if spec != "all-linear":
        raise UserError(f"hyperfit.lora.target_modules: {spec!r} is neither all-linear nor a list of module names")
    head = model.get_output_embeddings()
    return sorted({name.rsplit(".", 1)[-1] for name, module in model.named_modules()
                   if isinstance(module, torch.nn.Linear) and module is not head})


def add_lora(model, lora: dict, seed: int):
    """Wrap `model` with LoRA adapters (peft); the base weights are frozen. Adapter initialisation is
    seeded, so a rerun starts from the same adapters."""
    import torch
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=lora["r"], lora_alpha=lora["alpha"], lora_dropout=lora.get("dropout", 0.0),
                        target_modules=lora_targets(model, lora["target_modules"]),
                        layers_to_transform=lora_layers(lora.get("layers"), model.config.num_hidden_layers),
                        bias="none", task_type="CAUSAL_LM")
    torch.manual_seed(seed)
    return get_peft_model(model, config)


# ------------------------------------------------------------------------------------------ the loop
def train_epoch(accelerator, model, optimizer, train: list[list[int]], order: list[int], batch_size: int,
                on_step: Callable[[], None] | None = None, max_updates: int | None = None,
                seen: list[int] | None = None) -> list[float]:
    """One pass over `order` in batches of `batch_size` windows (this process takes its share of each);
    one Adam update per batch, at most `max_updates`. Returns each update's loss, averaged over the
    processes; the indices of the windows this process fed to its model are appended to `seen`."""
    import torch

    rank, world = accelerator.process_index, accelerator.num_processes
    losses = []
    model.train()
    starts = list(range(0, len(order), batch_size))
    for b in starts[:max_updates]:
        mine = shard(order[b:b + batch_size], rank, world)
        batch = torch.tensor([train[i] for i in mine], device=accelerator.device)
        if seen is not None:
            seen.extend(mine)
        with accelerator.autocast():
            loss = model(input_ids=batch, labels=batch).loss
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.detach())
        if on_step is not None:
            on_step()
    return accelerator.reduce(torch.stack(losses), "mean").tolist() if world > 1 else torch.stack(losses).tolist()


def hyperfit(model, tokenizer, train: list[list[int]], monitor_items: list[dict], settings: dict,
             out_dir: str, ckpt_dir: str, log=print, progress_factory=None,
             on_epoch_end: Callable[[int], None] | None = None, save_dtype: str | None = None,
             pad_id: int | None = None, best_dir: str | None = None, facts: dict | None = None,
             deadline: float | None = None, cpu_offload: bool = False) -> list[dict]:
    """Train `model`; write the final model (LoRA merged, in `save_dtype` if given) to out_dir from the
    main process; return the history rows (on every process). `tokenizer` is saved with the model (an
    image processor serves too); pad_id defaults to its pad token.

    With best_dir, the model at the epoch of lowest validation loss is written there too: the early-stopped
    baseline of the same run (BestWeights).

    A checkpoint is written after an epoch when settings['checkpoint_minutes'] (default 0: every epoch)
    have passed since the last one; the final epoch writes none (the model is saved instead).
    settings['monitor_epochs'] is "all" (Figure 2's numbers after every epoch) or "ends" (before training and
    after the last epoch only; the rows between hold the training loss alone).

    deadline (Unix time, e.g. a SLURM job's end): after an epoch that leaves too little time for another one, a
    checkpoint and the export (must_stop), the checkpoint is written and TimeLimitStop raised (on every
    process; the main process also writes its message to ckpt_dir/stopped-for-time-limit.json)."""
    if best_dir is not None and settings.get("monitor_epochs", "all") != "all":
        raise ValueError("early-stopped weights need the validation loss of every epoch (monitor_epochs: all)")
    run = prepare_run(model, tokenizer, train, monitor_items, settings, ckpt_dir, log, save_dtype, pad_id, facts,
                      cpu_offload)
    best = BestWeights(run, best_dir)
    history, start_epoch = resume(run, needs_best=best_dir is not None)
    if not history:
        record(run, history, measure(run, 0, 0, None), best)
    per_epoch, epochs, total = schedule(len(train), settings)
    bar = progress_factory(total=total, initial=min(total, per_epoch * (start_epoch - 1))) \
        if progress_factory and run.accelerator.is_main_process else None
    timing = CheckpointTiming.of(run, deadline)
    try:
        for epoch in range(start_epoch, epochs + 1):
            run_epoch(run, epoch, history, best, timing, on_step=(lambda: bar.update(1)) if bar is not None else None)
            if on_epoch_end is not None:
                on_epoch_end(epoch)
    finally:
        if bar is not None:
            bar.close()
    # every process says what it trained on (the job log shows each process's share)
    seen = sorted(set(run.seen))
    print(f"training process {run.accelerator.process_index} of {run.accelerator.num_processes}: {len(run.seen)} "
          f"windows (indices {seen[:8]}{'...' if len(seen) > 8 else ''}) since start epoch {start_epoch}", flush=True)
    finish(run, out_dir, best)
    return history


SPENT = ("training", "monitoring", "best weights", "checkpoints", "saving")


@dataclass
class Run:
    """What the parts of one hyperfit() call share: the model and optimizer as accelerate prepared them (sharded
    under FSDP), the data and settings, where checkpoints go, and the seconds spent on each part."""
    accelerator: Any
    model: Any
    optimizer: Any
    tokenizer: Any
    train: list[list[int]]
    monitor_items: list[dict]
    settings: dict
    ckpt_dir: str
    pad_id: int
    save_dtype: str | None = None
    log: Callable[[str], None] = print
    trained: int = 0  # trainable parameters (with LoRA: the adapters')
    spent: dict = field(default_factory=lambda: dict.fromkeys(SPENT, 0.0))
    seen: list[int] = field(default_factory=list)  # the windows this process fed to its model
    plain: Any = field(init=False)  # the module itself (FSDP shards it in place)
    fingerprint: str = field(init=False)  # of settings and data: a checkpoint resumes only the run it was written for
    snapshot_dir: Path = field(init=False)  # the best weights beside the checkpoint

    def __post_init__(self):
        self.plain = self.accelerator.unwrap_model(self.model)
        self.fingerprint = fingerprint(self.settings, self.train)
        self.snapshot_dir = Path(self.ckpt_dir) / "best-model"

    @contextmanager
    def timed(self, part: str):
        """Add the seconds the block takes to spent[part]."""
        started = time.monotonic()
        yield
        self.spent[part] += time.monotonic() - started


def prepare_run(model, tokenizer, train: list[list[int]], monitor_items: list[dict], settings: dict, ckpt_dir: str,
                log=print, save_dtype: str | None = None, pad_id: int | None = None, facts: dict | None = None,
                cpu_offload: bool = False) -> Run:
    """Set `model` up for training: LoRA adapters and gradient checkpointing where the settings ask, Adam, both
    prepared by the process's Accelerator. `facts` gets the parameter counts; only the main process logs."""
    accelerator = make_accelerator(settings)
    check_split(len(train), settings["batch_size"], accelerator.num_processes)
    log = log if accelerator.is_main_process else (lambda *_: None)
    lora = settings.get("lora") or {}
    if lora.get("enabled"):
        model = add_lora(model, lora, settings["seed"])
    if settings.get("gradient_checkpointing"):
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    params = [p for p in model.parameters() if p.requires_grad]
    if facts is not None:  # what the caller records about the run (with LoRA: the adapters alone train)
        facts.update(trainable_parameters=sum(p.numel() for p in params),
                     parameters=sum(p.numel() for p in model.parameters()))
        log(f"{facts['trainable_parameters']:,} trainable parameters of {facts['parameters']:,}")
    optimizer = make_optimizer(params, settings, accelerator.num_processes)
    model, optimizer = accelerator.prepare(model, optimizer)
    if cpu_offload and accelerator.num_processes > 1 and fuse_host_adam(optimizer):
        log("Adam steps on the host with the fused kernel (cpu_offload)")
    return Run(accelerator, model, optimizer, tokenizer, train, monitor_items, settings, ckpt_dir,
               tokenizer.pad_token_id if pad_id is None else pad_id, save_dtype, log, sum(p.numel() for p in params))


def resume(run: Run, needs_best: bool = False) -> tuple[list[dict], int]:
    """(history so far, first epoch to train) from the newest checkpoint written for the run's settings and data
    (with `needs_best`: only one with the best weights beside it), its weights and Adam state loaded into the run's
    model and optimizer; else a fresh start, ([], 1), which drops an earlier run's best weights."""
    found = latest_checkpoint(run.ckpt_dir)
    if found is not None:
        meta = json.loads((found / "meta.json").read_text())
        if meta["fingerprint"] == run.fingerprint and (not needs_best or run.snapshot_dir.is_dir()):
            load_checkpoint(found, run.model, run.optimizer)
            run.log(f"resuming from {found} after epoch {meta['epoch']}")
            return meta["history"], meta["epoch"] + 1
        run.log(f"ignoring {found}: it was written for other settings or data")
    if run.accelerator.is_main_process:
        shutil.rmtree(run.snapshot_dir, ignore_errors=True)
    return [], 1


def measure(run: Run, epoch: int, step: int, train_loss: float | None, full: bool = True) -> dict:
    """The history row of `epoch` (0: before training, its training loss measured here): Figure 2's numbers, or
    with full=False the training loss alone (monitor_epochs: ends, between the first and the last epoch)."""
    with run.timed("monitoring"):
        if full:
            measured = monitor(run.plain, run.train, run.monitor_items, run.settings, run.pad_id, train_loss)
        else:
            measured = {**dict.fromkeys(HISTORY_COLUMNS[3:], math.nan), "train_loss": train_loss}
    return {"epoch": epoch, "step": step, **measured}


def record(run: Run, history: list[dict], row: dict, best: BestWeights) -> None:
    """Append `row` to history and log it; keep the weights if they are the best so far."""
    history.append(row)
    run.log(json.dumps(row))
    best.keep_if_best(history)


def run_epoch(run: Run, epoch: int, history: list[dict], best: BestWeights, timing: CheckpointTiming,
              on_step: Callable[[], None] | None = None) -> None:
    """Epoch `epoch`'s updates and history row; then, unless it is the last epoch, a checkpoint if one is due, and
    TimeLimitStop (after the checkpoint) if the deadline leaves no room for another epoch."""
    n = len(run.train)
    per_epoch, epochs, total = schedule(n, run.settings)
    done = per_epoch * (epoch - 1)
    started = time.monotonic()
    with run.timed("training"):
        losses = train_epoch(run.accelerator, run.model, run.optimizer, run.train, data_order(n, run.settings, epoch),
                             run.settings["batch_size"], on_step=on_step, max_updates=total - done, seen=run.seen)
    full = epoch == epochs or run.settings.get("monitor_epochs", "all") == "all"
    record(run, history, measure(run, epoch, done + len(losses), sum(losses) / len(losses), full), best)
    if epoch == epochs:
        return
    stop = timing.stop_now(run.accelerator, time.monotonic() - started)
    if stop or timing.due():
        started = time.monotonic()
        with run.timed("checkpoints"):
            best.keep_beside_checkpoint()
            save_checkpoint(run.accelerator, run.model, run.optimizer, run.ckpt_dir, epoch,
                            {"fingerprint": run.fingerprint, "history": history})
        timing.last_saved = time.monotonic()
        timing.checkpoint_seconds = timing.last_saved - started
    if stop:
        message = (f"stopped after epoch {epoch} of {epochs}, {(timing.deadline - time.time()) / 60:.0f} min before "
                   f"this job's time limit (another epoch, a checkpoint and the export would not fit); the checkpoint "
                   f"in {run.ckpt_dir} resumes it when the job runs again (profiles/slurm: retries resubmits it)")
        if run.accelerator.is_main_process:
            (Path(run.ckpt_dir) / "stopped-for-time-limit.json").write_text(json.dumps({"message": message}))
        run.log(message)
        raise TimeLimitStop(message)


@dataclass
class CheckpointTiming:
    """When an epoch ends with a checkpoint: `every` seconds after the last one (0: after every epoch), and when
    the deadline (Unix time) leaves no room for another epoch, a checkpoint and the export (must_stop)."""
    every: float
    deadline: float | None
    checkpoint_seconds: float  # the last checkpoint's write time; estimated from its size until one is written
    export_seconds: float
    last_saved: float = field(default_factory=time.monotonic)

    @classmethod
    def of(cls, run: Run, deadline: float | None) -> CheckpointTiming:
        """settings['checkpoint_minutes'], and the write times of a checkpoint (fp32 weights and 2 Adam moments of
        the trained parameters) and of the export (fp32 weights) at DISK_BYTES_PER_SECOND."""
        return cls(60.0 * float(run.settings.get("checkpoint_minutes", 0) or 0), deadline,
                   run.trained * 12 / DISK_BYTES_PER_SECOND,
                   sum(p.numel() for p in run.plain.parameters()) * 4 / DISK_BYTES_PER_SECOND)

    def stop_now(self, accelerator, epoch_seconds: float) -> bool:
        """Whether to stop after an epoch that took `epoch_seconds`; every process follows the main one's clock."""
        stop = must_stop(self.deadline, epoch_seconds, self.checkpoint_seconds, self.export_seconds)
        if accelerator.num_processes > 1 and self.deadline is not None:
            from accelerate.utils import broadcast_object_list

            stop = broadcast_object_list([stop])[0]
        return stop

    def due(self) -> bool:
        """Whether `every` seconds have passed since the last checkpoint."""
        return time.monotonic() - self.last_saved >= self.every


def is_best(history: list[dict]) -> bool:
    """Whether the newest row has the lowest validation loss so far (the first such row on ties)."""
    return all(history[-1]["val_loss"] < r["val_loss"] for r in history[:-1])


class BestWeights:
    """The early-stopped weights (best_dir; None keeps none): the model at the epoch of lowest validation loss,
    epoch 0 (before training) included, the first such epoch on ties. A single process keeps them as a copy in
    memory, written beside each checkpoint (so a resumed run still has them) and to best_dir at the end; several
    processes write them beside the checkpoint whenever they improve, and copy them to best_dir at the end."""

    def __init__(self, run: Run, best_dir: str | None):
        self.run, self.best_dir = run, best_dir
        self.state: dict | None = None  # single process: the best weights' CPU copy
        self.on_disk = True  # whether run.snapshot_dir holds them

    def keep_if_best(self, history: list[dict]) -> bool:
        """Snapshot the model when the newest row of `history` is the best so far; whether it was."""
        if self.best_dir is None or not is_best(history):
            return False
        run = self.run
        with run.timed("best weights"):
            if run.accelerator.num_processes == 1:
                self.state = {k: v.detach().to("cpu", copy=True)
                              for k, v in run.accelerator.get_state_dict(run.model).items()}
                self.on_disk = False
            else:
                export_model(run.accelerator, run.model, run.tokenizer, str(run.snapshot_dir), run.save_dtype,
                             snapshot=True)
        return True

    def keep_beside_checkpoint(self) -> None:
        """The in-memory copy to run.snapshot_dir, unless it is there already: a resumed run needs it."""
        if not self.on_disk and self.run.accelerator.is_main_process:
            self._write(str(self.run.snapshot_dir))
            self.on_disk = True

    def finish(self) -> None:
        """The best weights to best_dir: written whole into a temporary sibling (the in-memory copy) or copied whole
        (the snapshot beside the checkpoint), then renamed into place."""
        if self.best_dir is None:
            return
        if self.state is not None:
            self._write(self.best_dir)
        elif self.run.accelerator.is_main_process:
            staging = Path(str(self.best_dir) + ".tmp")
            shutil.rmtree(staging, ignore_errors=True)
            shutil.copytree(self.run.snapshot_dir, staging)
            shutil.rmtree(self.best_dir, ignore_errors=True)
            os.replace(staging, self.best_dir)

    def _write(self, target: str) -> None:
        """The in-memory copy to `target` (a plain model folder)."""
        run = self.run
        with run.timed("best weights"):
            export_model(run.accelerator, run.model, run.tokenizer, target, run.save_dtype, state=self.state)


def finish(run: Run, out_dir: str, best: BestWeights) -> None:
    """The final weights to out_dir and the best ones to best_dir, from the main process; the checkpoints removed
    unless settings['keep_checkpoint']."""
    if run.settings.get("gradient_checkpointing"):
        run.plain.gradient_checkpointing_disable()
    with run.timed("saving"):
        export_model(run.accelerator, run.model, run.tokenizer, out_dir, run.save_dtype)
    best.finish()
    run.log("seconds spent: " + ", ".join(f"{k} {v:.1f}" for k, v in run.spent.items()))
    if not run.settings.get("keep_checkpoint", False) and run.accelerator.is_main_process:
        shutil.rmtree(run.ckpt_dir, ignore_errors=True)
    run.accelerator.wait_for_everyone()


# ------------------------------------------------------------------------------------------ checkpoints
def latest_checkpoint(ckpt_dir: str | os.PathLike) -> Path | None:
    """The newest complete checkpoint (its meta.json is written last), or None."""
    done = sorted(p.parent for p in Path(ckpt_dir).glob("epoch-*/meta.json"))
    return done[-1] if done else None


def _state(model, optimizer):
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_state_dict

    # Trainable weights only (with LoRA: the adapters), plus the optimizer state; sharded under FSDP.
    msd, osd = get_state_dict(model, optimizer, options=StateDictOptions(ignore_frozen_params=True))
    return {"model": msd, "optimizer": osd}


def save_checkpoint(accelerator, model, optimizer, ckpt_dir, epoch: int, meta: dict) -> None:
    import torch.distributed.checkpoint as dcp

    ckpt_dir = Path(ckpt_dir)
    path = ckpt_dir / f"epoch-{epoch:04d}"
    if accelerator.is_main_process:
        shutil.rmtree(path, ignore_errors=True)
    accelerator.wait_for_everyone()
    with _single_process_ok():
        dcp.save(_state(model, optimizer), checkpoint_id=path, no_dist=accelerator.num_processes == 1)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        tmp = path / "meta.json.part"
        tmp.write_text(json.dumps({**meta, "epoch": epoch}))
        os.replace(tmp, path / "meta.json")
        for old in ckpt_dir.glob("epoch-*"):
            if old != path:
                shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()


@contextmanager
def _single_process_ok():
    """torch.distributed.checkpoint warns each time it runs without a process group; that is intended here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="torch.distributed is disabled")
        yield


def load_checkpoint(path: Path, model, optimizer) -> None:
    import torch.distributed as dist
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_state_dict

    state = _state(model, optimizer)
    with _single_process_ok():
        dcp.load(state, checkpoint_id=path, no_dist=not (dist.is_available() and dist.is_initialized()))
    set_state_dict(model, optimizer, model_state_dict=state["model"], optim_state_dict=state["optimizer"],
                   options=StateDictOptions(ignore_frozen_params=True))


# ------------------------------------------------------------------------------------------ final model
def export_model(accelerator, model, tokenizer, out_dir: str, save_dtype: str | None = None,
                 snapshot: bool = False, state: dict | None = None) -> None:
    """save_pretrained of the trained model, from the main process: under FSDP the full weights are
    gathered first (to the main process's CPU) and loaded into a plain copy; a LoRA adapter is merged.
    snapshot=True (mid-training) always saves a CPU copy, so that merging and casting leave the model
    in training untouched; `state` (CPU tensors kept earlier, single process) saves those weights instead."""
    from accelerate.utils import DistributedType

    from .assets import save_plain_model

    if state is None:
        state = accelerator.get_state_dict(model)  # a collective under FSDP: every process takes part
    else:
        snapshot = True
    if accelerator.is_main_process:
        plain = accelerator.unwrap_model(model)
        if snapshot:
            plain = plain_copy(plain, {k: v.detach().to("cpu", copy=True) for k, v in state.items()})
        elif accelerator.distributed_type == DistributedType.FSDP:
            plain = plain_copy(plain, state)
        if hasattr(plain, "merge_and_unload"):
            plain = plain.merge_and_unload()
        if save_dtype is not None:
            import torch

            plain = plain.to(getattr(torch, save_dtype))
        save_plain_model(plain, tokenizer, out_dir)
    accelerator.wait_for_everyone()


def plain_copy(model, state: dict):
    """An unsharded copy of `model` (a transformers model, or a peft model around one) that holds the full
    `state` (CPU tensors): built on the meta device, so no memory goes to a second set of weights, then
    given the tensors. Only for saving: non-persistent buffers (rotary tables) stay on the meta device."""
    import torch
    from transformers import AutoModelForCausalLM

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    with torch.device("meta"):
        copy = AutoModelForCausalLM.from_config(base.config)
    if hasattr(model, "peft_config"):
        from peft import get_peft_model

        copy = get_peft_model(copy, model.peft_config["default"])
    copy.load_state_dict(state, assign=True)
    copy.tie_weights()
    return copy
