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


TRAIN_ROLES = ("train", "both")   # documents that may supply training windows
EVAL_ROLES = ("eval", "both")     # documents that may supply evaluation texts


def _docs(corpus: list[dict], roles: tuple[str, ...]) -> list[dict]:
    """The documents of a corpus that may serve `roles` (a document without a role serves both)."""
    return [d for d in corpus if d.get("role", "both") in roles]


def _spans(passages: list[dict]) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for s in passages:
        out[s["doc"]].append((s["start"], s["end"]))
    return out


def _free(corpus: list[dict], roles: tuple[str, ...], words: int, avoid_spans: dict, avoid_docs: set) -> list[dict]:
    """Slots of `words` words in the documents for `roles`, outside the spans and documents to avoid."""
    return [s for d in _docs(corpus, roles) if d["id"] not in avoid_docs
            for s in passage_slots(d["id"], d["text"], words) if not _overlaps(s, avoid_spans.get(d["id"], []))]


def separates_documents(corpus: list[dict], separate: bool) -> bool:
    """Whether evaluation and validation texts come from documents that supply no training window: asked for
    (data.separate_documents) and possible (the corpus has several documents serving both roles; a corpus
    with its own evaluation documents is separated by construction)."""
    return separate and len(_docs(corpus, ("both",))) > 1


def select_passages(corpora: dict[str, list[dict]], train_domain: str, num_train: int, train_words: int,
                    eval_domains: list[str], eval_per_domain: int, eval_words: int, seed: int,
                    separate_documents: bool = False) -> dict:
    """Choose the main run's training passages and held-out evaluation passages (per domain), disjoint by
    construction: never the same words, and with `separate_documents` (where the corpus has several
    documents) never the same document."""
    rng = random.Random(seed)
    if train_domain not in corpora:
        raise UserError(f"train domain {train_domain!r} has no corpus; corpora are: {sorted(corpora)}")
    train_slots = _free(corpora[train_domain], TRAIN_ROLES, train_words, {}, set())
    if len(train_slots) < num_train:
        raise UserError(
            f"domain {train_domain!r} has text for {len(train_slots)} training passages of {train_words} words, "
            f"the config asks {num_train}: lower data.num_samples / data.seq_len or add text to the corpus")
    train = sorted(rng.sample(train_slots, num_train), key=lambda s: (s["doc"], s["start"]))
    taken = _spans(train)
    evaluation = {}
    for domain in eval_domains:
        if domain not in corpora:
            raise UserError(f"evaluation domain {domain!r} has no corpus; corpora are: {sorted(corpora)}")
        own = domain == train_domain
        docs = set(taken) if own and separates_documents(corpora[domain], separate_documents) else set()
        free = _free(corpora[domain], EVAL_ROLES, eval_words, taken if own else {}, docs)
        if len(free) < eval_per_domain:
            ndocs = len(_docs(corpora[domain], EVAL_ROLES)) - len(docs)
            raise UserError(
                f"domain {domain!r} has {len(free)} free passages of {eval_words} words in {ndocs} documents, "
                f"the config asks {eval_per_domain}: lower data.contexts_per_domain or add text")
        evaluation[domain] = _spread_sample(free, eval_per_domain, rng)
    result = {"train_domain": train_domain, "train": train, "eval": evaluation}
    check_disjoint(result)
    return result


def select_validation(corpora: dict[str, list[dict]], selection: dict, counts: dict[str, int], words: int,
                      seed: int, separate_documents: bool = False) -> dict[str, list[dict]]:
    """Held-out texts of each training domain (Figure 2's validation loss, early stopping): passages of the
    training documents that are neither a main training window nor an evaluation text (with separated
    documents: from documents that hold neither)."""
    out = {}
    for domain, count in counts.items():
        corpus = corpora[domain]
        avoid = _spans(selection["eval"].get(domain, []) + (selection["train"] if domain == selection["train_domain"]
                                                            else []))
        docs = set(avoid) if separates_documents(corpus, separate_documents) else set()
        free = _free(corpus, TRAIN_ROLES, words, avoid, docs)
        if len(free) < count:
            raise UserError(f"domain {domain!r} has {len(free)} free passages of {words} words for validation "
                            f"texts, the config asks {count}: lower data.validation_texts or add text")
        out[domain] = _spread_sample(free, count, random.Random(f"validation/{domain}/{seed}"))
    return out


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


def select_pools(corpora: dict[str, list[dict]], selection: dict, needs: dict[str, dict[int, int]],
                 words: dict[str, int], main_seed: int, separate_documents: bool = False) -> dict:
    """Training passages of every trained setting: per domain and seed, `needs[domain][seed]` passages in a
    random order (a setting with N windows takes the first N, so smaller sets nest inside larger ones).

    No passage overlaps an evaluation or validation text (with separated documents, none comes from their
    documents). The pool of the main training domain under the main seed starts with the main run's own
    windows (in a random order), so the main run takes exactly those, and a setting that differs from it only
    in order, swap or quantity trains on the same windows."""
    main_domain = selection["train_domain"]
    out: dict[str, dict[str, list[dict]]] = {}
    for domain, per_seed in needs.items():
        if domain not in corpora:
            raise UserError(f"training domain {domain!r} has no corpus; corpora are: {sorted(corpora)}")
        held_out = selection["eval"].get(domain, []) + selection.get("validation", {}).get(domain, [])
        taken = _spans(held_out)
        docs = set(taken) if separates_documents(corpora[domain], separate_documents) else set()
        out[domain] = {}
        for seed, count in per_seed.items():
            rng = random.Random(f"sweep-pool/{domain}/{seed}")
            first: list[dict] = []
            avoid = {k: list(v) for k, v in taken.items()}
            if domain == main_domain and seed == main_seed:
                first = list(selection["train"])
                rng.shuffle(first)
                for s in first:
                    avoid.setdefault(s["doc"], []).append((s["start"], s["end"]))
            free = _free(corpora[domain], TRAIN_ROLES, words[domain], avoid, docs)
            rng.shuffle(free)
            pool = (first + free)[:count]
            if len(pool) < count:
                raise UserError(
                    f"domain {domain!r} has text for {len(first) + len(free)} training windows of {words[domain]} "
                    f"words outside the evaluation and validation texts; the settings need {count} (seed {seed}): "
                    "lower sweeps.quantity.num_samples / sweeps.base.seq_len or add text to the corpus")
            out[domain][str(seed)] = pool
    return out


def preflight(corpora: dict[str, list[dict]], plan: dict) -> None:
    """Before selecting anything: does every domain hold the words its training windows, evaluation texts and
    validation texts need (a necessary condition; the selection then checks the exact counts)? One line with
    every shortfall, what is needed and what there is."""
    short = []
    for domain, corpus in sorted(corpora.items()):
        windows = max([*plan["needs"].get(domain, {}).values(), 0])
        texts = (plan["contexts_per_domain"] if domain in plan["eval_domains"] else 0) \
            + plan["validation"].get(domain, 0)
        need = windows * plan["pool_words"].get(domain, 0) + texts * plan["eval_words"]
        have = sum(len(_WORD.findall(d["text"])) for d in corpus)
        if need > have:
            parts = [f"{windows} training windows of {plan['pool_words'][domain]} words"] if windows else []
            parts += [f"{texts} evaluation and validation texts of {plan['eval_words']} words"] if texts else []
            short.append(f"{domain} needs {need} words ({', '.join(parts)}) and has {have}")
    if short:
        raise UserError("not enough text: " + "; ".join(short) + " (add text to corpora.<domain>, or lower "
                        "data.num_samples, data.contexts_per_domain, data.validation_texts or the sweeps' sizes)")


def select_all(corpora: dict[str, list[dict]], plan: dict) -> dict:
    """The data step: the main run's training windows, the evaluation texts, the validation texts of every
    training domain, and every setting's pool of training passages (hyperfit.settings.data_plan says how
    many of what)."""
    preflight(corpora, plan)
    words, main, separate = plan["pool_words"], plan["train_domain"], plan["separate_documents"]
    selection = select_passages(corpora, main, plan["num_samples"], words[main], plan["eval_domains"],
                                plan["contexts_per_domain"], plan["eval_words"], plan["seed"], separate)
    selection["validation"] = select_validation(corpora, selection, plan["validation"], plan["eval_words"],
                                                plan["seed"], separate)
    selection["pools"] = select_pools(corpora, selection, plan["needs"], words, plan["seed"], separate)
    return selection


def tokenize_selection(selection: dict, tokenizer, pool_seq_len: dict[str, int], context_len: int,
                       reference_len: int) -> dict:
    """Per-model token ids: every pool's training passages cut to its domain's longest window, and the
    evaluation and validation texts as context + reference continuation."""
    def ids(text: str) -> list[int]:
        return tokenizer(text)["input_ids"]

    def texts(passages: dict[str, list[dict]], kind: str) -> list[dict]:
        out = []
        for domain, items in passages.items():
            for i, s in enumerate(items):
                toks = ids(s["text"])
                need = context_len + reference_len
                if len(toks) < need:
                    raise UserError(f"{kind} passage {domain}/{s['doc']} has {len(toks)} tokens, fewer than "
                                    f"context+reference={need}: raise data.words_per_token")
                out.append({"domain": domain, "index": i, "context": toks[:context_len],
                            "reference": toks[context_len:need]})
        return out

    pools = {domain: {seed: [{"doc": p["doc"], "start": p["start"], "ids": ids(p["text"])[:pool_seq_len[domain]]}
                             for p in passages]
                      for seed, passages in per_seed.items()}
             for domain, per_seed in selection["pools"].items()}
    validation = {domain: texts({domain: items}, "validation")
                  for domain, items in selection.get("validation", {}).items()}
    return {"pools": pools, "eval": texts(selection["eval"], "evaluation"), "validation": validation}


def setting_windows(tokens: dict, train: dict) -> list[list[int]]:
    """The training windows of a setting: the first num_samples of its (domain, seed) pool, in text order
    (document, position), cut to seq_len tokens."""
    try:
        pool = tokens["pools"][train["train_domain"]][str(train["seed"])]
    except KeyError:
        raise UserError(f"no training passages for domain {train['train_domain']!r}, seed {train['seed']}: "
                        "rerun the workflow so that the data is selected again") from None
    if len(pool) < train["num_samples"]:
        raise UserError(f"the training passages of {train['train_domain']!r} (seed {train['seed']}) are "
                        f"{len(pool)}, the setting needs {train['num_samples']}")
    chosen = sorted(pool[:train["num_samples"]], key=lambda p: (p["doc"], p["start"]))
    short = [p for p in chosen if len(p["ids"]) < train["seq_len"]]
    if short:
        raise UserError(f"a {train['train_domain']} training passage has {len(short[0]['ids'])} tokens, fewer "
                        f"than its setting's window of {train['seq_len']}: raise data.words_per_token")
    return [p["ids"][:train["seq_len"]] for p in chosen]
