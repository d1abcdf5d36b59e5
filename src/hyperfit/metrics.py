"""Text metrics: type-token ratio, next-token entropy, top-k probability mass, perplexity."""
from __future__ import annotations

import math
from typing import Sequence


def ttr(ids: Sequence[int], last: int | None = None) -> float:
    """Type-token ratio (unique / total) of token ids; with `last`, over the trailing `last` ids only."""
    window = list(ids)[-last:] if last else list(ids)
    if not window:
        raise ValueError("TTR of an empty sequence is undefined")
    return len(set(window)) / len(window)


def entropy_from_logits(logits):
    """Entropy in nats of softmax(logits) along the last axis (torch tensor in, tensor out)."""
    import torch

    return entropy_from_logp(torch.log_softmax(logits.double(), dim=-1))


def entropy_from_logp(logp):
    """Entropy in nats from log-probabilities along the last axis."""
    return -(logp.exp() * logp).sum(-1)


def perplexity(nll_sum: float, n_tokens: int) -> float:
    """exp(mean negative log-likelihood in nats)."""
    return math.exp(nll_sum / n_tokens)


def right_padded(batch: list[list[int]], pad_id: int, model):
    """(ids, attention mask) of a batch of token lists, right-padded, on the model's device (GPU or CPU)."""
    import torch

    width = max(len(s) for s in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for i, s in enumerate(batch):
        ids[i, :len(s)] = torch.tensor(s)
        mask[i, :len(s)] = 1
    dev = next((p.device for p in model.parameters()), torch.device("cpu"))
    return ids.to(dev), mask.to(dev)


def score_items(model, items: list[dict], pad_id: int, batch_size: int = 8, progress=None,
                argmax: bool = False) -> list[dict]:
    """score_sequences of evaluation items (context + reference), each record with its domain and index."""
    scores = score_sequences(model, [it["context"] + it["reference"] for it in items], batch_size=batch_size,
                             pad_id=pad_id, progress=progress, argmax=argmax)
    return [{"domain": it["domain"], "index": it["index"], **s} for it, s in zip(items, scores)]


def score_sequences(model, sequences: list[list[int]], batch_size: int = 8, topk=(1, 3, 5),
                    pad_id: int = 0, progress=None, argmax: bool = False, exact: bool = True) -> list[dict]:
    """Teacher-forced scores of each full sequence (positions 1..n-1 are predicted).

    Returns per sequence: n (predicted tokens), nll_sum, entropy_sum (nats) and topK_sum (probability
    mass of the K most probable tokens), so callers can average per text or pool over texts; with
    argmax, also the most probable token id at each predicted position (lowest id on ties).
    Right padding with an attention mask; padded positions are excluded. exact=False computes the log-softmax
    in float32 instead of float64 (twice as fast over a large vocabulary; differences of ~1e-7 relative),
    which training's per-epoch monitoring uses; the result tables keep float64.
    """
    import torch

    out = []
    model.eval()
    for b in range(0, len(sequences), batch_size):
        batch = sequences[b:b + batch_size]
        ids, mask = right_padded(batch, pad_id, model)
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1]
        logits = logits.double() if exact else logits.float()
        logp = torch.log_softmax(logits, dim=-1)
        target = ids[:, 1:]
        valid = mask[:, 1:].bool()
        nll = -logp.gather(-1, target.unsqueeze(-1)).squeeze(-1)
        ent = entropy_from_logp(logp)
        kmax = min(max(topk), logp.shape[-1])
        top = torch.topk(logp, kmax, dim=-1).values.exp().cumsum(-1)
        for i in range(len(batch)):
            v = valid[i]
            rec = {"n": int(v.sum()), "nll_sum": float(nll[i][v].sum()), "entropy_sum": float(ent[i][v].sum())}
            for k in topk:
                rec[f"top{k}_sum"] = float(top[i, :, min(k, kmax) - 1][v].sum())
            if argmax:
                rec["argmax"] = logp[i][v].argmax(-1).tolist()
            out.append(rec)
        if progress is not None:
            progress.update(len(batch))
    return out
