"""The entropy-matched temperature: the temperature at which the original model's mean next-token entropy
on the evaluation texts equals a hyperfitted model's (the 2026 follow-up's baseline)."""
from __future__ import annotations

import math
from typing import Sequence


def entropy_nll_at_temperatures(model, sequences: list[list[int]], temperatures: Sequence[float], pad_id: int,
                                batch_size: int = 8, progress=None) -> list[dict]:
    """Token-pooled mean next-token entropy and NLL (nats) of softmax(logits / T) on the sequences
    (teacher-forced, positions 1..n-1), for each temperature T; one forward pass per batch."""
    import torch

    from .metrics import entropy_from_logp, right_padded

    temps = [float(t) for t in temperatures]
    ent = [0.0] * len(temps)
    nll = [0.0] * len(temps)
    count = 0
    model.eval()
    for b in range(0, len(sequences), batch_size):
        ids, mask = right_padded(sequences[b:b + batch_size], pad_id, model)
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
        valid = mask[:, 1:].bool()
        target = ids[:, 1:][valid]
        z = logits[valid]  # (positions, vocab)
        count += int(valid.sum())
        for k, t in enumerate(temps):  # float32 per position (2x faster than float64), sums in float64
            logp = torch.log_softmax(z / t, dim=-1)
            ent[k] += float(entropy_from_logp(logp).sum(dtype=torch.float64))
            nll[k] += float(-logp.gather(-1, target.unsqueeze(-1)).sum(dtype=torch.float64))
        if progress is not None:
            progress.update(len(ids))
    return [{"temperature": t, "entropy": e / count, "nll": n / count} for t, e, n in zip(temps, ent, nll)]


def geometric_grid(low: float, high: float, points: int) -> list[float]:
    return [low * (high / low) ** (i / (points - 1)) for i in range(points)]


def bracket(curve: list[dict], target: float) -> tuple[dict, dict] | None:
    """The neighbouring grid points whose entropies enclose `target` (entropy rises with T), or None."""
    for lo, hi in zip(curve, curve[1:]):
        if lo["entropy"] <= target <= hi["entropy"]:
            return lo, hi
    return None


def interpolate(lo: dict, hi: dict, target: float) -> dict:
    """Linear interpolation of temperature (and NLL) at the target entropy between two grid points."""
    span = hi["entropy"] - lo["entropy"]
    f = 0.0 if span == 0 else (target - lo["entropy"]) / span
    return {"temperature": lo["temperature"] + f * (hi["temperature"] - lo["temperature"]),
            "entropy": target, "nll": lo["nll"] + f * (hi["nll"] - lo["nll"])}


def pooled_entropy(scores: list[dict]) -> float:
    """Token-pooled mean next-token entropy (nats) of a scores file (score_sequences records)."""
    return sum(r["entropy_sum"] for r in scores) / sum(r["n"] for r in scores)


def match_temperature(model, sequences: list[list[int]], target: float, pad_id: int, low: float, high: float,
                      points: int, batch_size: int = 8, progress=None) -> dict:
    """The temperature T at which the model's mean entropy on `sequences` equals `target`: entropies on a
    geometric grid low..high, then on a linear grid inside the bracketing step, then linear interpolation.
    A target outside the range gives the nearest end, with matched=False."""
    coarse = entropy_nll_at_temperatures(model, sequences, geometric_grid(low, high, points), pad_id, batch_size,
                                         progress)
    found = bracket(coarse, target)
    fine: list[dict] = []
    if found is None:
        best = coarse[0] if target < coarse[0]["entropy"] else coarse[-1]
        result = {**best, "matched": False}
    else:
        lo, hi = found
        step = (hi["temperature"] - lo["temperature"]) / (points - 1)
        fine = entropy_nll_at_temperatures(model, sequences, [lo["temperature"] + i * step for i in range(points)],
                                           pad_id, batch_size, progress)
        result = {**interpolate(*(bracket(fine, target) or found), target), "matched": True}
    return {**result, "ppl": math.exp(result["nll"]), "target_entropy": target, "coarse": coarse, "fine": fine}
