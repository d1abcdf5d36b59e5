"""Sharpness of the next-token distribution: Table 3 (entropy, top-k mass, perplexity per domain) and the
single-position distributions of Figure 4."""
from __future__ import annotations

import pandas as pd

from .errors import UserError
from .tables import pooled_scores

ALL_DOMAINS = "all"


def table3(score_tables: dict[tuple[str, str], pd.DataFrame]) -> pd.DataFrame:
    """Rows: model x variant x domain, then an "all" row per model x variant; token-pooled over the texts
    (sum over texts of the per-token quantity / number of predicted tokens), from score_sequences' sums."""
    rows = []
    for (model, variant), scores in sorted(score_tables.items()):
        parts = [(domain, part) for domain, part in scores.groupby("domain", sort=True)]
        for domain, part in [*parts, (ALL_DOMAINS, scores)]:
            pooled = pooled_scores(part)
            missing = [f"top{k}" for k in (1, 3, 5) if f"top{k}" not in pooled]
            if missing:
                raise UserError(f"scores of {model}/{variant} lack {missing}: rerun score_texts")
            rows.append({"model": model, "variant": variant, "domain": domain, "texts": len(part),
                         "tokens": int(part["n"].sum()), "entropy": pooled["entropy"], "top1": pooled["top1"],
                         "top3": pooled["top3"], "top5": pooled["top5"], "ppl": pooled["ppl"]})
    return pd.DataFrame(rows)


def select_position(items: list[dict], domain: str, text: int, position: int | None) -> tuple[dict, int]:
    """The evaluation text (domain, index within the domain) and how many of its tokens precede the shown
    prediction; position None means the whole context (the prediction of the first reference token)."""
    item = next((it for it in items if it["domain"] == domain and it["index"] == text), None)
    if item is None:
        have = sorted({(it["domain"], it["index"]) for it in items})
        raise UserError(f"no evaluation text {domain}/{text} (have {have[:3]}...): fix figure4.domain/text")
    length = len(item["context"]) + len(item["reference"])
    pos = len(item["context"]) if position is None else int(position)
    if not 1 <= pos < length:
        raise UserError(f"figure4.position {pos} is outside 1..{length - 1} (the text has {length} tokens)")
    return item, pos


def next_token_probs(model, prefix: list[int]):
    """Probabilities (float64, whole vocabulary) of the token that follows `prefix`."""
    import torch

    ids = torch.tensor([prefix], dtype=torch.long, device=getattr(model, "device", "cpu"))
    model.eval()
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits[0, -1]
    return torch.softmax(logits.double(), dim=-1).cpu()


def entropy(probs) -> float:
    """Entropy in nats of one probability vector (0 log 0 = 0)."""
    import torch

    p = probs[probs > 0]
    return float(-(p * torch.log(p)).sum())


def top_k_rows(probs, k: int, target_id: int | None = None) -> list[dict]:
    """The k most probable tokens (rank 1 first; ties by lower id), then one row with the remaining mass
    (token_id -1). is_target marks the token that actually follows in the text."""
    import torch

    k = min(k, probs.shape[0])
    top = torch.sort(-probs, stable=True).indices[:k].tolist()
    rows = [{"rank": r + 1, "token_id": int(i), "prob": float(probs[i]), "is_target": int(i == target_id)}
            for r, i in enumerate(top)]
    rest = float(probs.sum()) - sum(row["prob"] for row in rows)
    rows.append({"rank": k + 1, "token_id": -1, "prob": max(rest, 0.0),
                 "is_target": int(target_id is not None and target_id not in top)})
    return rows


def visible_token(text: str) -> str:
    """A token's text for tables and bar labels: spaces as \u2423, other invisible characters escaped
    (\\n, \\t, \\x12, \\xa0, ...)."""
    return "".join("\u2423" if ch == " " else ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in text)


def token_label(tokenizer, token_id: int) -> str:
    """visible_token of one decoded token; a piece of a multi-byte character (decoded as U+FFFD) also
    gets its id, so that different pieces stay apart."""
    text = tokenizer.decode([token_id])
    if not text:
        return f"(empty, id {token_id})"
    return visible_token(text) + (f" (id {token_id})" if "\ufffd" in text else "")


def position_table(model, tokenizer, item: dict, position: int, k: int) -> pd.DataFrame:
    """Figure 4's input for one model variant: the top-k next-token distribution after `position` tokens
    of the evaluation text, with the decoded tokens, the remaining mass and the true next token."""
    ids = item["context"] + item["reference"]
    probs = next_token_probs(model, ids[:position])
    target = ids[position]
    rows = top_k_rows(probs, k, target)
    for row in rows:
        row["token"] = "(all other tokens)" if row["token_id"] < 0 else token_label(tokenizer, row["token_id"])
    df = pd.DataFrame(rows)
    df.insert(0, "domain", item["domain"])
    df.insert(1, "text", item["index"])
    df.insert(2, "position", position)
    df["entropy"] = entropy(probs)
    df["target_id"] = target
    df["target_token"] = token_label(tokenizer, target)
    df["target_prob"] = float(probs[target])
    df["prefix"] = visible_token(tokenizer.decode(ids[:position]))
    return df[["domain", "text", "position", "rank", "token_id", "token", "prob", "is_target", "entropy",
               "target_id", "target_token", "target_prob", "prefix"]]


def table3_notes() -> str:
    """How every column of Table 3 is defined (written under the table)."""
    return "\n".join([
        "Notes:",
        "",
        "- Teacher-forced on each evaluation text (context + reference continuation): every position from the "
        "second token on is one prediction of the next token.",
        "- entropy: mean over predictions of the next-token distribution's entropy (nats); top1/top3/top5: mean "
        "probability mass of the 1/3/5 most probable tokens; ppl: exp(mean negative log-likelihood of the "
        "true next token).",
        "- Token-pooled: sums over all predictions of the texts in the row divided by their number (tokens); "
        f"domain '{ALL_DOMAINS}' pools every domain.",
        "- entropy, top1, ppl [low, high] (the .tsv's *_ci_low, *_ci_high): 95% percentile bootstrap interval over "
        "the texts of the row (2,000 resamples, whole texts resampled, tokens pooled again; scipy.stats.bootstrap, "
        "seeded).",
        "- entropy_diff: for a hyperfitted row, the mean over the same texts of each text's mean entropy minus the "
        "original model's [paired bootstrap interval; .tsv: entropy_diff_ci_*]; entropy_diff_p: two-sided paired "
        "permutation test of no difference (10,000 permutations).",
        "",
    ])


def table3_statistics(table: pd.DataFrame, score_tables: dict[tuple[str, str], pd.DataFrame],
                      seed: int) -> pd.DataFrame:
    """Table 3 with 95% bootstrap intervals over texts of entropy, top-1 mass and perplexity (whole texts
    resampled, tokens pooled again), and for the hyperfitted rows the paired difference in per-text mean
    entropy from the original model on the same texts (mean, paired bootstrap interval, permutation p)."""
    import numpy as np

    from .stats import bootstrap_ratio_ci, ci_columns, paired_columns, with_columns
    from .tables import per_text_entropy

    def part(model, variant, domain):
        scores = score_tables[(model, variant)]
        return scores if domain == ALL_DOMAINS else scores[scores["domain"] == domain]

    rows = []
    for _, row in table.iterrows():
        scores = part(row["model"], row["variant"], row["domain"])
        new = {}
        for name, num, transform in (("entropy", "entropy_sum", None), ("top1", "top1_sum", None),
                                     ("ppl", "nll_sum", np.exp)):
            new.update(ci_columns(name, bootstrap_ratio_ci(scores[num], scores["n"], seed, transform)))
        other = None
        if row["variant"] != "original" and (row["model"], "original") in score_tables:
            other = per_text_entropy(part(row["model"], "original", row["domain"]))
        new.update(paired_columns("entropy_diff", per_text_entropy(scores), other, seed))
        rows.append(new)
    return with_columns(table, rows)
