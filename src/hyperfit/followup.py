"""The 2026 follow-up's analyses ("Beyond Temperature: Hyperfitting as a Late-Stage Geometric Expansion",
Li, Ding, Garces Arias, Heumann, arXiv 2605.22579; no public code): a fixed logit bias on the original model,
where in the network hyperfitting changes the hidden states, and MAUVE of the continuations.

- Fixed logit bias: b = the mean, over the evaluation texts' positions (teacher-forced), of the hyperfitted
  logits minus the original logits; the original model then decodes greedily with logits + s * b.
- Effective dimension of a layer's hidden states: the participation ratio of their covariance spectrum,
  (sum of eigenvalues)^2 / sum of squared eigenvalues (1 when one direction holds all the variance, the
  hidden size when all directions hold the same). The follow-up does not state its definition here; this
  is the usual one.
- MAUVE (Pillutla et al. 2021) through the mauve-text package, on features computed here by a model of the
  config's (the final hidden state of each text's last token, as mauve-text's own featurizer does with GPT-2).
"""
from __future__ import annotations

import math


def _batches(items: list[dict], batch_size: int):
    for b in range(0, len(items), batch_size):
        yield [it["context"] + it["reference"] for it in items[b:b + batch_size]]


def logit_bias(hyperfitted, original, items: list[dict], pad_id: int, batch_size: int = 8):
    """The mean over all predicted positions of the evaluation texts of (hyperfitted - original) logits:
    one vector over the vocabulary (float64, on the CPU)."""
    import torch

    from .metrics import right_padded

    total, count = None, 0
    for seqs in _batches(items, batch_size):
        ids, mask = right_padded(seqs, pad_id, original)
        with torch.no_grad():
            a = hyperfitted(input_ids=ids, attention_mask=mask).logits[:, :-1].double()
            b = original(input_ids=ids, attention_mask=mask).logits[:, :-1].double()
        valid = mask[:, 1:].bool()
        diff = (a - b)[valid].sum(0).cpu()
        total = diff if total is None else total + diff
        count += int(valid.sum())
    return total / count


def biased_entropy(original, items: list[dict], bias, strengths: list[float], pad_id: int,
                   batch_size: int = 8) -> dict[float, float]:
    """Mean next-token entropy (nats) over the evaluation texts' positions of softmax(logits + s * bias),
    for each strength s (one forward pass)."""
    import torch

    from .metrics import entropy_from_logp, right_padded

    sums = dict.fromkeys(strengths, 0.0)
    count = 0
    for seqs in _batches(items, batch_size):
        ids, mask = right_padded(seqs, pad_id, original)
        with torch.no_grad():
            logits = original(input_ids=ids, attention_mask=mask).logits[:, :-1].double()
        valid = mask[:, 1:].bool()
        z = logits[valid].cpu()
        count += int(valid.sum())
        for s in strengths:
            sums[s] += float(entropy_from_logp(torch.log_softmax(z + s * bias, dim=-1)).sum())
    return {s: v / count for s, v in sums.items()}


class BiasProcessor:
    """A transformers LogitsProcessor that adds `strength` x `bias` to every step's scores."""

    def __init__(self, bias, strength: float):
        self.bias, self.strength = bias, float(strength)

    def __call__(self, input_ids, scores):
        return scores + self.strength * self.bias.to(scores.device, scores.dtype)


def participation_ratio(hidden) -> float:
    """Effective dimension of a set of vectors (rows): (sum of covariance eigenvalues)^2 / sum of their
    squares, from the singular values of the centred matrix."""
    import torch

    x = torch.as_tensor(hidden, dtype=torch.float64)
    x = x - x.mean(0, keepdim=True)
    eig = torch.linalg.svdvals(x) ** 2  # proportional to the covariance eigenvalues
    if float(eig.sum()) == 0.0:
        return 0.0
    return float(eig.sum() ** 2 / (eig ** 2).sum())


def hidden_states(model, items: list[dict], pad_id: int, batch_size: int = 8) -> list:
    """Per layer (the embeddings, then every block's output), the hidden states of all positions of the
    evaluation texts stacked into one (positions x hidden) float64 matrix."""
    import torch

    from .metrics import right_padded

    layers = None
    for seqs in _batches(items, batch_size):
        ids, mask = right_padded(seqs, pad_id, model)
        with torch.no_grad():
            out = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        valid = mask.bool()
        states = [h[valid].double().cpu() for h in out.hidden_states]
        layers = states if layers is None else [torch.cat([a, b]) for a, b in zip(layers, states)]
    return layers


def layer_rows(original: list, hyperfitted: list) -> list[dict]:
    """Per layer: effective dimension of each model's hidden states, the mean L2 distance between the two
    models' hidden states at the same positions, and each model's mean hidden-state norm."""
    rows = []
    for layer, (a, b) in enumerate(zip(original, hyperfitted)):
        rows.append({"layer": layer, "effective_dim_original": participation_ratio(a),
                     "effective_dim_hyperfitted": participation_ratio(b),
                     "l2_distance": float((a - b).norm(dim=1).mean()), "norm_original": float(a.norm(dim=1).mean()),
                     "norm_hyperfitted": float(b.norm(dim=1).mean())})
    for r in rows:
        r["effective_dim_change"] = r["effective_dim_hyperfitted"] - r["effective_dim_original"]
    return rows


def text_features(model, tokenizer, texts: list[str], max_tokens: int, batch_size: int = 8):
    """MAUVE features of texts: the final hidden state at each text's last token (texts cut to `max_tokens`
    tokens of the featurizer's tokenizer), as an (n x hidden) float32 numpy array."""
    import numpy as np
    import torch

    from .metrics import right_padded

    ids = [tokenizer(t)["input_ids"][:max_tokens] or [tokenizer.eos_token_id] for t in texts]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    out = []
    for b in range(0, len(ids), batch_size):
        batch = ids[b:b + batch_size]
        x, mask = right_padded(batch, pad, model)
        with torch.no_grad():
            h = model(input_ids=x, attention_mask=mask, output_hidden_states=True).hidden_states[-1]
        last = mask.sum(1) - 1
        out.append(h[torch.arange(len(batch)), last].float().cpu().numpy())
    return np.concatenate(out)


def mauve_score(p_features, q_features, seed: int) -> float:
    """MAUVE of two feature sets (mauve-text's compute_mauve, its default buckets: a tenth of the texts)."""
    import mauve

    if len(p_features) < 2 or len(q_features) < 2:
        return math.nan
    return float(mauve.compute_mauve(p_features=p_features, q_features=q_features, seed=seed, verbose=False).mauve)


BIAS_NOTES = """Notes:

- The original model decoded greedily with logits + s x b, b = the mean over the evaluation texts' positions
  (teacher-forced) of the hyperfitted minus the original logits (the 2026 follow-up's fixed-bias test: if
  hyperfitting were a fixed shift of the logits, some s would reproduce it).
- ttr, rep2/3/4: means over the evaluation texts (last metrics.ttr_window tokens; word n-grams); entropy: mean
  next-token entropy (nats) of softmax(logits + s x b) on the evaluation texts; reference rows: original and
  hyperfitted greedy with their own entropy.
- spearman_rho_strength_ttr: Spearman's rank correlation of s and TTR over the strengths (the follow-up reports
  -0.94 on TinyLlama)."""

LAYERS_NOTES = """Notes:

- Hidden states of every position of the evaluation texts (context + reference), per layer: 0 is the
  embeddings, then each transformer block's output; the last layer's is taken after the model's final norm
  (as transformers returns it, the input of the output head), hence its smaller norm and distance.
- effective_dim_*: participation ratio of the hidden states' covariance spectrum, (sum of eigenvalues)^2 / sum
  of squared eigenvalues (the follow-up's own definition is not stated in our sources); effective_dim_change:
  hyperfitted minus original.
- l2_distance: mean over positions of the L2 distance between the two models' hidden states; norm_*: mean L2
  norm of each model's hidden states."""
