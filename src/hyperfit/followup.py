"""The 2026 follow-up's analyses ("Beyond Temperature: Hyperfitting as a Late-Stage Geometric Expansion",
Li, Ding, Garces Arias, Heumann, arXiv 2605.22579; no public code): a fixed logit bias on the original model,
where in the network hyperfitting changes the hidden states, and MAUVE of the continuations.

- Fixed logit bias: b = the mean, over the evaluation texts' positions (teacher-forced), of the hyperfitted
  logits minus the original logits; the original model then decodes greedily with logits + s * b. The follow-up
  also restricts b to the K tokens whose rank rises most (followup.bias_top_k; the follow-up: K = 500): a token's
  rank rise is the mean over the same positions of its rank under the original minus its rank under the
  hyperfitted model (rank 1 = most probable); the restricted bias keeps b on those K tokens and is 0 elsewhere.
- Entropy on the models' own continuations: the mean next-token entropy of the distribution a row decodes from
  (softmax(original logits + s * b), or a model's own logits), teacher-forced on that row's own greedy text
  (context + generated tokens), at the positions that predict the generated tokens.
- Overrides (the follow-up's 39.1% of steps): on the hyperfitted model's greedy path (its own continuations,
  teacher-forced through the original model), the steps whose token is not the original's top-1, and the
  original's rank of the tokens picked instead (the follow-up: 12.9% of overrides from rank > 10).
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
    return logit_bias_and_rank_rise(hyperfitted, original, items, pad_id, batch_size, ranks=False)[0]


def token_ranks(logits):
    """Each token's rank in each row of logits (1 = the largest; equal logits ranked by token id, lowest first,
    as argmax breaks ties): an int64 tensor of the same shape."""
    import torch

    order = torch.argsort(logits, dim=-1, descending=True, stable=True)
    ranks = torch.empty_like(order)
    ranks.scatter_(-1, order, torch.arange(1, logits.shape[-1] + 1, device=logits.device).expand_as(order))
    return ranks


def logit_bias_and_rank_rise(hyperfitted, original, items: list[dict], pad_id: int, batch_size: int = 8,
                             ranks: bool = True):
    """(b, rise): b the mean over all predicted positions of the evaluation texts of (hyperfitted - original)
    logits; rise the mean over the same positions of each token's rank under the original minus its rank under
    the hyperfitted model (token_ranks; positive: the token rises), or None without `ranks`. Both vectors over
    the vocabulary, float64, on the CPU."""
    import torch

    from .metrics import right_padded

    total = rise = None
    count = 0
    for seqs in _batches(items, batch_size):
        ids, mask = right_padded(seqs, pad_id, original)
        with torch.no_grad():
            a = hyperfitted(input_ids=ids, attention_mask=mask).logits[:, :-1].double()
            b = original(input_ids=ids, attention_mask=mask).logits[:, :-1].double()
        valid = mask[:, 1:].bool()
        diff = (a - b)[valid].sum(0).cpu()
        total = diff if total is None else total + diff
        if ranks:
            up = (token_ranks(b[valid]) - token_ranks(a[valid])).sum(0).double().cpu()
            rise = up if rise is None else rise + up
        count += int(valid.sum())
    return total / count, (rise / count if ranks else None)


def top_k_bias(bias, rise, k: int):
    """The bias restricted to the k tokens of largest rank rise (ties: the lower token id first): b on those
    tokens, 0 elsewhere; and their ids, by falling rise. k larger than the vocabulary keeps every token."""
    import torch

    order = torch.argsort(-rise, stable=True)[:min(int(k), rise.shape[-1])]
    out = torch.zeros_like(bias)
    out[order] = bias[order]
    return out, order.tolist()


def biased_entropy(original, items: list[dict], bias, strengths: list[float], pad_id: int,
                   batch_size: int = 8) -> dict[float, float]:
    """Mean next-token entropy (nats) over the evaluation texts' positions of softmax(logits + s * bias),
    for each strength s (one forward pass)."""
    return biased_entropies(original, items, {"bias": bias}, strengths, pad_id, batch_size)["bias"]


def biased_entropies(original, items: list[dict], biases: dict, strengths: list[float], pad_id: int,
                     batch_size: int = 8) -> dict[str, dict[float, float]]:
    """biased_entropy for each named bias of `biases` (one forward pass for all): {name: {s: entropy}}."""
    import torch

    from .metrics import entropy_from_logp, right_padded

    sums = {name: dict.fromkeys(strengths, 0.0) for name in biases}
    count = 0
    for seqs in _batches(items, batch_size):
        ids, mask = right_padded(seqs, pad_id, original)
        with torch.no_grad():
            logits = original(input_ids=ids, attention_mask=mask).logits[:, :-1].double()
        valid = mask[:, 1:].bool()
        z = logits[valid].cpu()
        count += int(valid.sum())
        for name, bias in biases.items():
            for s in strengths:
                sums[name][s] += float(entropy_from_logp(torch.log_softmax(z + s * bias, dim=-1)).sum())
    return {name: {s: v / count for s, v in per.items()} for name, per in sums.items()}


def continuation_batches(records: list[dict], batch_size: int):
    """Batches of (context + generated ids, context length, generated length) of generation records."""
    for b in range(0, len(records), batch_size):
        part = records[b:b + batch_size]
        yield ([list(r["context_ids"]) + list(r["generated_ids"]) for r in part],
               [len(r["context_ids"]) for r in part], [len(r["generated_ids"]) for r in part])


def _generated_positions(mask, contexts: list[int], generated: list[int]):
    """Of the logits[:, :-1] of a right-padded batch, the positions that predict a generated token."""
    import torch

    width = mask.shape[1] - 1
    col = torch.arange(width, device=mask.device).unsqueeze(0)
    c = torch.tensor(contexts, device=mask.device).unsqueeze(1)
    g = torch.tensor(generated, device=mask.device).unsqueeze(1)
    return (col >= c - 1) & (col < c - 1 + g)


def own_entropy(model, records: list[dict], pad_id: int, batch_size: int = 8, bias=None,
                strength: float = 0.0) -> float:
    """Mean next-token entropy (nats) of softmax(logits + strength x bias) (the model's own logits without a
    bias) at the positions that predict the generated tokens of `records` (generation records: context_ids,
    generated_ids), teacher-forced on context + generated text; pooled over the generated tokens. The full
    softmax, EOS included (as the entropy of the evaluation texts)."""
    import torch

    from .metrics import entropy_from_logp, right_padded

    total, count = 0.0, 0
    for seqs, contexts, generated in continuation_batches(records, batch_size):
        ids, mask = right_padded(seqs, pad_id, model)
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].double()
        z = logits[_generated_positions(mask, contexts, generated)].cpu()
        if bias is not None:
            z = z + float(strength) * bias.double()
        total += float(entropy_from_logp(torch.log_softmax(z, dim=-1)).sum())
        count += z.shape[0]
    return total / count


# Buckets of the original's rank of an overriding token: (name, lowest rank, highest rank).
OVERRIDE_BUCKETS = (("rank_2", 2, 2), ("rank_3_5", 3, 5), ("rank_6_10", 6, 10), ("rank_11_100", 11, 100),
                    ("rank_gt100", 101, math.inf))


def override_counts(original, records: list[dict], pad_id: int, batch_size: int = 8,
                    suppressed: list[int] | None = None) -> list[dict]:
    """Per generation record (the hyperfitted model's greedy continuations), teacher-forced through the original
    model: steps (generated tokens), overrides (steps whose token is not the original's top-1) and, per
    OVERRIDE_BUCKETS, the overrides whose token has that rank under the original (token_ranks: 1 = its top-1, ties
    by the lower id, as greedy's argmax). `suppressed`: token ids kept out of the original's ranking, as greedy
    decoding here keeps EOS out until the length is reached (generation.generate_batched)."""
    import torch

    from .metrics import right_padded

    rows = []
    for b, (seqs, contexts, generated) in enumerate(continuation_batches(records, batch_size)):
        ids, mask = right_padded(seqs, pad_id, original)
        with torch.no_grad():
            logits = original(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
        if suppressed:
            logits[..., list(suppressed)] = -math.inf
        where = _generated_positions(mask, contexts, generated)
        chosen = ids[:, 1:]
        for i in range(len(seqs)):
            z = logits[i][where[i]]
            tok = chosen[i][where[i]]
            rank = token_ranks(z).gather(-1, tok.unsqueeze(-1)).squeeze(-1).cpu()
            r = records[b * batch_size + i]
            row = {"domain": r["domain"], "index": r["index"], "steps": int(rank.numel()),
                   "overrides": int((rank > 1).sum())}
            for name, lo, hi in OVERRIDE_BUCKETS:
                row[name] = int(((rank >= lo) & (rank <= hi)).sum()) if hi != math.inf else int((rank >= lo).sum())
            rows.append(row)
    return rows


def overrides_table(per_text: dict[str, "pd.DataFrame"], seed: int) -> "pd.DataFrame":
    """The follow-up's overrides per model (and per evaluation domain) from override_counts' per-text rows:
    steps, overrides, override_rate (overrides / steps, pooled over texts) with a 95% bootstrap interval over
    texts (whole texts resampled), and each OVERRIDE_BUCKETS share of the overrides, share_rank_gt10 their sum
    above rank 10."""
    import pandas as pd

    from .stats import bootstrap_ratio_ci, ci_columns

    rows = []
    for model, df in per_text.items():
        for domain in ["all", *sorted(set(df["domain"]))]:
            part = df if domain == "all" else df[df["domain"] == domain]
            steps, over = int(part["steps"].sum()), int(part["overrides"].sum())
            row = {"model": model, "domain": domain, "texts": len(part), "steps": steps, "overrides": over,
                   "override_rate": over / steps if steps else math.nan,
                   **ci_columns("override_rate", bootstrap_ratio_ci(part["overrides"], part["steps"], seed))}
            for name, _, _ in OVERRIDE_BUCKETS:
                row[f"share_{name}"] = int(part[name].sum()) / over if over else math.nan
            row["share_rank_gt10"] = (int(part["rank_11_100"].sum()) + int(part["rank_gt100"].sum())) / over \
                if over else math.nan
            rows.append(row)
    return pd.DataFrame(rows)


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


EMBEDDINGS, BLOCK_OUTPUT, FINAL_NORM = "embeddings", "block output", "after the final norm"  # layer_rows' stages


def final_norm(model):
    """The module that normalises the last block's output before the output head (Llama, Qwen, Mistral:
    model.norm; GPT-2: transformer.ln_f)."""
    for path in ("model.norm", "transformer.ln_f", "model.final_layernorm", "gpt_neox.final_layer_norm"):
        mod = model
        for part in path.split("."):
            mod = getattr(mod, part, None)
            if mod is None:
                break
        if mod is not None:
            return mod
    raise ValueError(f"no final norm found in {type(model).__name__}")


def hidden_states(model, items: list[dict], pad_id: int, batch_size: int = 8,
                  skip_first_position: bool = False) -> list[tuple[int, str, object]]:
    """The hidden states of all positions of the evaluation texts, per stage, each stacked into one (positions x
    hidden) float64 matrix: (0, embeddings), (l, block output) for every block l = 1..L (the residual stream; the
    last block's output read before the final norm, at the norm's input), then (L, after the final norm) (what
    transformers returns as the last of output_hidden_states: the output head's input). With
    `skip_first_position`, each text's first position is left out (its activations, the attention sink's, can
    dominate the covariance)."""
    import torch

    from .metrics import right_padded

    captured = []
    hook = final_norm(model).register_forward_hook(lambda mod, args, out: captured.append(args[0]))
    layers = None
    try:
        for seqs in _batches(items, batch_size):
            ids, mask = right_padded(seqs, pad_id, model)
            captured.clear()
            with torch.no_grad():
                out = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
            if len(captured) != 1:
                raise RuntimeError(f"the final norm ran {len(captured)} times in one forward pass")
            valid = mask.bool()
            if skip_first_position:
                valid[:, 0] = False
            states = [*out.hidden_states[:-1], captured[0], out.hidden_states[-1]]
            states = [h[valid].double().cpu() for h in states]
            layers = states if layers is None else [torch.cat([a, b]) for a, b in zip(layers, states)]
    finally:
        hook.remove()
    last = len(layers) - 2
    stages = [EMBEDDINGS, *[BLOCK_OUTPUT] * last, FINAL_NORM]
    return [(min(i, last), stage, h) for i, (stage, h) in enumerate(zip(stages, layers))]


def layer_rows(original: list, hyperfitted: list) -> list[dict]:
    """Per stage of hidden_states ((layer, stage, states) of each model): effective dimension of each model's
    hidden states, the mean L2 distance and the mean cosine similarity between the two models' hidden states at
    the same positions, and each model's mean hidden-state norm. Plain matrices count as layers 0, 1, ..."""
    import torch

    rows = []
    for i, (x, y) in enumerate(zip(original, hyperfitted)):
        layer, stage, a = x if isinstance(x, tuple) else (i, BLOCK_OUTPUT if i else EMBEDDINGS, x)
        b = y[2] if isinstance(y, tuple) else y
        a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
        rows.append({"layer": layer, "stage": stage, "effective_dim_original": participation_ratio(a),
                     "effective_dim_hyperfitted": participation_ratio(b),
                     "l2_distance": float((a - b).norm(dim=1).mean()),
                     "cosine_similarity": float(torch.nn.functional.cosine_similarity(a, b, dim=1, eps=1e-12).mean()),
                     "norm_original": float(a.norm(dim=1).mean()), "norm_hyperfitted": float(b.norm(dim=1).mean()),
                     "positions": int(a.shape[0])})
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


def text_token_counts(tokenizer, texts: list[str]) -> list[int]:
    """Each text's length in the featurizer's tokens (special tokens left out): what followup.mauve.min_tokens
    compares with."""
    return [len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts]


def mauve_by_domain(p_features, q_features, domains: list[str], seed: int, p_tokens: list[int] | None = None,
                    q_tokens: list[int] | None = None, min_tokens: int | None = None, scale: float = 1.0) -> dict:
    """MAUVE of paired feature sets (row i of p and of q: the human and the generated continuation of the same
    context, whose domain is domains[i]), pooled over all pairs and per domain, each x `scale`. With
    `min_tokens`, only the pairs whose two texts both reach that many featurizer tokens (p_tokens, q_tokens) enter.
    Returns mauve, pairs (those kept), and mauve_<domain> for every domain (NaN where fewer than 2 pairs)."""
    import numpy as np

    n = len(domains)
    if len(p_features) != n or len(q_features) != n:
        raise ValueError("MAUVE by domain needs one human and one generated text per context")
    keep = list(range(n))
    if min_tokens is not None:
        keep = [i for i in keep if p_tokens[i] >= min_tokens and q_tokens[i] >= min_tokens]

    def score(rows: list[int]) -> float:
        if len(rows) == n:  # every pair: the feature sets as given
            return mauve_score(p_features, q_features, seed) * scale
        idx = np.asarray(rows, dtype=int)
        return mauve_score(np.asarray(p_features)[idx], np.asarray(q_features)[idx], seed) * scale

    out = {"mauve": score(keep), "pairs": len(keep)}
    for d in sorted(set(domains)):
        out[f"mauve_{d}"] = score([i for i in keep if domains[i] == d])
    return out


def bias_notes(top_k: int) -> str:
    """How every column of the follow-up's bias table is defined (written under the table)."""
    from .overlap import REP_NOTE

    return f"""Notes:

- The original model decoded greedily with logits + s x b, b = the mean over the evaluation texts' positions
  (teacher-forced) of the hyperfitted minus the original logits (the 2026 follow-up's fixed-bias test: if
  hyperfitting were a fixed shift of the logits, some s would reproduce it).
- bias: `all`, b over the whole vocabulary; `top{top_k}`, b on the {top_k} tokens whose rank rises most and 0
  elsewhere (followup.bias_top_k; the follow-up: 500). A token's rank rise: the mean over the same positions of
  its rank under the original minus its rank under the hyperfitted model (rank 1 = most probable). At s = 0 both
  are the original model's greedy decoding (one generation, shown in both groups).
- ttr: mean over the evaluation texts (last metrics.ttr_window tokens); rep2/3/4: {REP_NOTE}.
- entropy: mean next-token entropy (nats) of softmax(logits + s x b) on the evaluation texts (human text,
  context + reference); reference rows: original and hyperfitted greedy, each model's own entropy there.
- entropy_own: the same distribution's mean entropy on the row's own greedy continuations (teacher-forced on
  context + generated tokens, at the positions that predict the generated tokens; full softmax, EOS included).
- spearman_rho_strength_ttr: Spearman's rank correlation of s and TTR over the strengths of that bias (the
  follow-up reports -0.94 on TinyLlama)."""


def layers_notes(skip_first_position: bool) -> str:
    """How every column of the follow-up's layer table is defined (written under the table)."""
    positions = ("every position of the evaluation texts (context + reference) but the first of each text "
                 "(followup.layers.skip_first_position: its activations, the attention sink's, are far larger than "
                 "the others' and hold nearly all the variance of the middle layers)" if skip_first_position else
                 "every position of the evaluation texts (context + reference), the first of each text included "
                 "(followup.layers.skip_first_position: false; its activations, the attention sink's, can hold "
                 "nearly all the variance of the middle layers)")
    return f"""Notes:

- Hidden states of {positions}, per stage: layer 0 the embeddings;
  layer l = 1..L each transformer block's output (the residual stream; the last block's read before the final
  norm); then layer L again, after the model's final norm (as transformers returns the last of its hidden
  states: the input of the output head), hence its smaller norm and distance.
- effective_dim_*: participation ratio of the hidden states' covariance spectrum, (sum of eigenvalues)^2 / sum
  of squared eigenvalues (the follow-up's own definition is not stated in our sources); effective_dim_change:
  hyperfitted minus original.
- l2_distance: mean over positions of the L2 distance between the two models' hidden states; cosine_similarity:
  mean over positions of their cosine similarity; norm_*: mean L2 norm of each model's hidden states;
  positions: the positions measured."""


OVERRIDES_NOTES = """Notes:

- The hyperfitted model's own greedy continuations (comparison.decoding, the longest length), teacher-forced
  through the original model: at each generated step, the original's ranking of the vocabulary given the same
  prefix (rank 1 = its top-1, equal logits ranked by the lower token id as greedy's argmax does; EOS left out
  of the ranking, as the decoder keeps it out until the length is reached).
- override_rate: the steps whose hyperfitted token is not the original's top-1, over all steps, pooled over
  the texts [95% bootstrap interval over texts, whole texts resampled] (the follow-up: 39.1% of steps on
  TinyLlama).
- share_rank_*: of those overrides, the share whose token the original ranks 2, 3-5, 6-10, 11-100 and above 100;
  share_rank_gt10: the last two together (the follow-up: 12.9% of overrides from rank > 10).
- domain: all, then each evaluation domain."""
