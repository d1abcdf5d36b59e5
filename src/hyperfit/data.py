"""Data subsetting: text-level passage selection (shared by all models), then per-model tokenisation.

Passages are disjoint spans of consecutive words cut from each document on a fixed grid, so the
training windows and the evaluation texts of every domain never overlap; `check_disjoint` verifies it.
Selection happens on text, once, so every model sees the same source texts through its own tokenizer.
"""
from __future__ import annotations

import random
import re
from collections import defaultdict

from .errors import UserError

_WORD = re.compile(r"\S+")


def passage_slots(doc_id: str, text: str, words: int) -> list[dict]:
    """Cut a document into consecutive, non-overlapping spans of `words` whitespace-separated words."""
    spans = [m.span() for m in _WORD.finditer(text)]
    slots = []
    for i in range(0, len(spans) - words + 1, words):
        start, end = spans[i][0], spans[i + words - 1][1]
        slots.append({"doc": doc_id, "start": start, "end": end, "text": text[start:end]})
    return slots


def _spread_sample(slots: list[dict], k: int, rng: random.Random) -> list[dict]:
    """k slots spread over documents: documents in random order, one random slot each, round-robin."""
    by_doc: dict[str, list[dict]] = defaultdict(list)
    for s in slots:
        by_doc[s["doc"]].append(s)
    docs = sorted(by_doc)
    rng.shuffle(docs)
    for d in docs:
        rng.shuffle(by_doc[d])
    picked: list[dict] = []
    while len(picked) < k:
        for d in docs:
            if by_doc[d] and len(picked) < k:
                picked.append(by_doc[d].pop())
    return picked


def select_passages(corpora: dict[str, list[dict]], train_domain: str, num_train: int, train_words: int,
                    eval_domains: list[str], eval_per_domain: int, eval_words: int, seed: int) -> dict:
    """Choose training passages and held-out evaluation passages (per domain), disjoint by construction."""
    rng = random.Random(seed)
    if train_domain not in corpora:
        raise UserError(f"train domain {train_domain!r} has no corpus; corpora are: {sorted(corpora)}")
    train_slots = [s for d in corpora[train_domain] for s in passage_slots(d["id"], d["text"], train_words)]
    if len(train_slots) < num_train:
        raise UserError(
            f"domain {train_domain!r} has text for {len(train_slots)} training passages of {train_words} words, "
            f"the config asks {num_train}: lower hyperfit.num_samples / seq_len or add text to the corpus")
    train = sorted(rng.sample(train_slots, num_train), key=lambda s: (s["doc"], s["start"]))
    taken = defaultdict(list)
    for s in train:
        taken[s["doc"]].append((s["start"], s["end"]))
    evaluation = {}
    for domain in eval_domains:
        if domain not in corpora:
            raise UserError(f"evaluation domain {domain!r} has no corpus; corpora are: {sorted(corpora)}")
        free = [s for d in corpora[domain] for s in passage_slots(d["id"], d["text"], eval_words)
                if domain != train_domain or not _overlaps(s, taken[s["doc"]])]
        if len(free) < eval_per_domain:
            ndocs = len(corpora[domain])
            raise UserError(
                f"domain {domain!r} has {len(free)} free passages of {eval_words} words in {ndocs} documents, "
                f"the config asks {eval_per_domain}: lower evaluation.contexts_per_domain or add text")
        evaluation[domain] = _spread_sample(free, eval_per_domain, rng)
    result = {"train_domain": train_domain, "train": train, "eval": evaluation}
    check_disjoint(result)
    return result


def _overlaps(slot: dict, spans: list[tuple[int, int]]) -> bool:
    return any(slot["start"] < e and s < slot["end"] for s, e in spans)


def check_disjoint(selection: dict) -> None:
    """Raise if any evaluation passage shares characters with a training passage (same document)."""
    train_domain = selection["train_domain"]
    spans = defaultdict(list)
    for s in selection["train"]:
        spans[s["doc"]].append((s["start"], s["end"]))
    for s in selection["eval"].get(train_domain, []):
        if _overlaps(s, spans[s["doc"]]):
            raise UserError(f"evaluation passage {s['doc']}[{s['start']}:{s['end']}] overlaps a training window")
    train_texts = [s["text"] for s in selection["train"]]
    for domain, items in selection["eval"].items():
        for s in items:
            if any(s["text"] in t or t in s["text"] for t in train_texts):
                raise UserError(f"evaluation passage from {domain}/{s['doc']} repeats a training window's text")


def tokenize_selection(selection: dict, tokenizer, seq_len: int, context_len: int, reference_len: int) -> dict:
    """Per-model token ids: training windows of seq_len, evaluation context + reference continuation."""
    def ids(text: str) -> list[int]:
        return tokenizer(text)["input_ids"]

    train = []
    for s in selection["train"]:
        toks = ids(s["text"])
        if len(toks) < seq_len:
            raise UserError(f"training passage {s['doc']}[{s['start']}:{s['end']}] has {len(toks)} tokens, "
                            f"fewer than seq_len={seq_len}: raise data.words_per_token_margin")
        train.append(toks[:seq_len])
    evaluation = []
    for domain, items in selection["eval"].items():
        for i, s in enumerate(items):
            toks = ids(s["text"])
            need = context_len + reference_len
            if len(toks) < need:
                raise UserError(f"evaluation passage {domain}/{s['doc']} has {len(toks)} tokens, fewer than "
                                f"context+reference={need}: raise data.words_per_token_margin")
            evaluation.append({"domain": domain, "index": i, "context": toks[:context_len],
                               "reference": toks[context_len:need]})
    return {"train": train, "eval": evaluation}
