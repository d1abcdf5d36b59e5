"""Hyperfitting: full fine-tuning to near-zero training loss, with per-epoch monitoring and resume.

Settings follow the paper (Adam, constant learning rate, weight decay 0, all dropout 0, fixed batch size,
fixed epochs). A checkpoint (model, optimizer, history) is written after every epoch outside the rule's
declared output; a killed run resumes from it and, on CPU, ends bit-identical to an uninterrupted run:
the data order of each epoch is derived from (seed, epoch) alone and nothing else draws random numbers.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable

from .generation import generate_batched
from .metrics import score_sequences, ttr

HISTORY_COLUMNS = ["epoch", "step", "train_loss", "val_loss", "val_entropy", "val_ppl", "greedy_ttr",
                   "reference_ttr"]


def epoch_order(n: int, seed: int, epoch: int) -> list[int]:
    import torch

    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=g).tolist()


def fingerprint(settings: dict, train: list[list[int]]) -> str:
    blob = json.dumps({"settings": settings, "train": train}, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def monitor(model, train: list[list[int]], items: list[dict], settings: dict, pad_id: int,
            train_loss: float | None) -> dict:
    """Figure 2's numbers at one point of training."""
    bs = settings["eval_batch_size"]
    if train_loss is None:  # before training: forward-only loss on the training windows
        s = score_sequences(model, train, batch_size=bs, topk=(1,), pad_id=pad_id)
        train_loss = sum(r["nll_sum"] for r in s) / sum(r["n"] for r in s)
    s = score_sequences(model, [it["context"] + it["reference"] for it in items], batch_size=bs, topk=(1,),
                        pad_id=pad_id)
    n = sum(r["n"] for r in s)
    val_loss = sum(r["nll_sum"] for r in s) / n
    gen = generate_batched(model, [it["context"] for it in items], settings["monitor_new_tokens"], pad_id,
                           batch_size=bs)
    window = settings["ttr_window"]
    import math
    return {"train_loss": train_loss, "val_loss": val_loss, "val_entropy": sum(r["entropy_sum"] for r in s) / n,
            "val_ppl": math.exp(val_loss),
            "greedy_ttr": sum(ttr(g, window) for g in gen) / len(gen),
            "reference_ttr": sum(ttr(it["reference"], window) for it in items) / len(items)}


def hyperfit(model, tokenizer, train: list[list[int]], monitor_items: list[dict], settings: dict,
             out_dir: str, ckpt_dir: str, log=print, progress_factory=None,
             on_epoch_end: Callable[[int], None] | None = None) -> list[dict]:
    """Train `model` in place; write the final model to out_dir; return the history rows."""
    import torch

    pad_id = tokenizer.pad_token_id
    ckpt_dir = Path(ckpt_dir)
    ckpt = ckpt_dir / "last.pt"
    fp = fingerprint(settings, train)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=settings["lr"], weight_decay=settings["weight_decay"])
    history: list[dict] = []
    start_epoch = 1
    if ckpt.exists():
        state = torch.load(ckpt, map_location="cpu", weights_only=False)
        if state.get("fingerprint") == fp:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            history = state["history"]
            start_epoch = state["epoch"] + 1
            log(f"resuming from {ckpt} after epoch {state['epoch']}")
        else:
            log(f"ignoring {ckpt}: it was written for other settings or data")
    if not history:
        row = {"epoch": 0, "step": 0, **monitor(model, train, monitor_items, settings, pad_id, None)}
        history.append(row)
        log(json.dumps(row))
    bs, n = settings["batch_size"], len(train)
    steps_per_epoch = (n + bs - 1) // bs
    dev = next(model.parameters()).device
    use_bf16 = settings.get("bf16", False) and dev.type == "cuda" and torch.cuda.is_bf16_supported()
    if settings.get("gradient_checkpointing"):
        model.gradient_checkpointing_enable()
    bar = progress_factory(total=steps_per_epoch * settings["epochs"], initial=steps_per_epoch * (start_epoch - 1)) \
        if progress_factory else None
    for epoch in range(start_epoch, settings["epochs"] + 1):
        model.train()
        order = epoch_order(n, settings["seed"], epoch) if settings.get("shuffle", True) else list(range(n))
        losses = []
        for b in range(0, n, bs):
            batch = torch.tensor([train[i] for i in order[b:b + bs]], device=dev)
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=use_bf16):
                loss = model(input_ids=batch, labels=batch).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(loss.item())
            if bar is not None:
                bar.update(1)
                bar.set_postfix(epoch=epoch, loss=f"{loss.item():.4f}")
        row = {"epoch": epoch, "step": epoch * steps_per_epoch,
               **monitor(model, train, monitor_items, settings, pad_id, sum(losses) / len(losses))}
        history.append(row)
        log(json.dumps(row))
        ckpt_dir.mkdir(parents=True, exist_ok=True)
        tmp = ckpt.with_suffix(".tmp")
        torch.save({"fingerprint": fp, "epoch": epoch, "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(), "history": history}, tmp)
        os.replace(tmp, ckpt)
        if on_epoch_end is not None:
            on_epoch_end(epoch)
    if bar is not None:
        bar.close()
    if settings.get("gradient_checkpointing"):
        model.gradient_checkpointing_disable()
    from .assets import save_plain_model

    save_plain_model(model, tokenizer, out_dir)
    if not settings.get("keep_checkpoint", False):
        ckpt.unlink(missing_ok=True)
    return history


def monitor_subset(items: list[dict], per_domain: int) -> list[dict]:
    """The first `per_domain` evaluation texts of each domain (a fixed, small validation set)."""
    seen: dict[str, int] = {}
    out = []
    for it in items:
        if seen.get(it["domain"], 0) < per_domain:
            seen[it["domain"]] = seen.get(it["domain"], 0) + 1
            out.append(it)
    return out
