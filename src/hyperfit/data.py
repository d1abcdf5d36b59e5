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


def _order(slots: list[dict], rng: random.Random) -> tuple[list[str], dict[str, list[dict]]]:
    """The documents of `slots` in a random order, and each document's slots in a random order."""
    by_doc: dict[str, list[dict]] = defaultdict(list)
    for s in slots:
        by_doc[s["doc"]].append(s)
    docs = sorted(by_doc)
    rng.shuffle(docs)
    for d in docs:
        rng.shuffle(by_doc[d])
    return docs, by_doc


def _round_robin(docs: list[str], by_doc: dict[str, list[dict]], k: int) -> list[dict]:
    """k slots spread over `docs`: one from each in turn (the caller checks that they hold k)."""
    picked: list[dict] = []
    while len(picked) < k:
        for d in docs:
            if by_doc[d] and len(picked) < k:
                picked.append(by_doc[d].pop())
    return picked


def _spread_sample(slots: list[dict], k: int, rng: random.Random, max_docs: int | None = None) -> list[dict]:
    """k slots spread over documents: documents in random order, one random slot each, round-robin (over the
    first `max_docs` documents of that order only, where given)."""
    docs, by_doc = _order(slots, rng)
    return _round_robin(docs[:max_docs], by_doc, k)


TRAIN_ROLES = ("train", "both")   # documents that may supply training windows
EVAL_ROLES = ("eval", "both")     # documents that may supply evaluation texts
SEPARATIONS = ("auto", True, False)   # data.separate_documents


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


def _word_counts(corpus: list[dict]) -> dict[str, int]:
    return {d["id"]: len(_WORD.findall(d["text"])) for d in corpus}


def _validation_order(candidates: list[str], domain: str, seed: int, reserved: set) -> list[str]:
    """The order in which the validation draw (select_validation) takes the documents outside `reserved`:
    `candidates` are the training documents long enough for a text, as _order lists them."""
    docs = sorted(d for d in candidates if d not in reserved)
    random.Random(f"validation/{domain}/{seed}").shuffle(docs)
    return docs


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class Roles:
    """What one domain must supply: evaluation texts, validation texts (both `text_words` words) and training
    windows (`train_words` words; the largest pool of a seed, at least the main run's windows)."""

    def __init__(self, domain: str, plan: dict):
        main = domain == plan["train_domain"]
        needs = plan["needs"].get(domain, {})
        self.domain = domain
        self.eval = plan["contexts_per_domain"] if domain in plan["eval_domains"] else 0
        self.validation = plan["validation"].get(domain, 0)
        self.train = max([*needs.values(), plan["num_samples"] if main else 0, 0])
        self.text_words = plan["eval_words"]
        self.train_words = plan["pool_words"].get(domain, 0)


def reserve_documents(corpus: list[dict], roles: Roles, eval_order: list[str], seed: int) -> dict | None:
    """Which documents give the evaluation texts (the first k_E of `eval_order`, the order the evaluation draw
    takes them in) and the validation texts (the first k_V of the validation draw's order of the documents
    left), so that the documents left hold the training windows; None where no split holds all three.

    Each held-out role gets documents in proportion to the words it needs, at most one per text: with many
    documents every held-out text comes from a document of its own (the selection without reservation gives
    the same texts), with a few long ones each role gets a few whole documents."""
    words = _word_counts(corpus)
    slots_e = {d: n // roles.text_words for d, n in words.items()}
    slots_t = {d: n // roles.train_words if roles.train_words else 0 for d, n in words.items()}
    train_docs = [d["id"] for d in _docs(corpus, TRAIN_ROLES)]
    train_set = set(train_docs)
    usable = {d for d in words if slots_e[d] or (slots_t[d] and d in train_set)}
    own_eval = not {d["id"] for d in _docs(corpus, ("both",))} & set(eval_order)
    need = {"eval": roles.eval * roles.text_words, "validation": roles.validation * roles.text_words,
            "train": roles.train * roles.train_words}
    total = sum(need.values()) or 1

    def target(role: str, texts: int) -> float:
        return min(max(len(usable) * need[role] / total, 1.0), texts) if texts else 0.0

    t_e, t_v = target("eval", roles.eval), target("validation", roles.validation)
    k_es = [min(roles.eval, len(eval_order))] if own_eval or not roles.eval else \
        range(1, min(roles.eval, len(eval_order)) + 1)
    candidates = [d for d in train_docs if slots_e[d]]
    pairs = []
    for k_e in k_es:
        left = len(set(candidates) - set(eval_order[:k_e]))
        k_vs = range(1, min(roles.validation, left) + 1) if roles.validation else [0]
        pairs += [(abs(k_e - t_e) + abs(k_v - t_v), -k_e, -k_v, k_e, k_v) for k_v in k_vs]
    total_t = sum(slots_t[d] for d in train_docs)
    orders: dict[int, list[str]] = {}
    for *_, k_e, k_v in sorted(pairs):
        if k_e not in orders:
            orders[k_e] = _validation_order(candidates, roles.domain, seed, set(eval_order[:k_e]))
        eval_docs, val_docs = eval_order[:k_e], orders[k_e][:k_v]
        held = set(eval_docs) | set(val_docs)
        train_left = total_t - sum(slots_t[d] for d in held if d in train_set)
        if sum(slots_e[d] for d in eval_docs) >= roles.eval and \
                sum(slots_e[d] for d in val_docs) >= roles.validation and train_left >= roles.train:
            return {"eval": eval_docs, "validation": val_docs,
                    "train": [d for d in train_docs if d not in held and slots_t[d]]}
    return None


def _unseparable(corpus: list[dict], roles: Roles) -> str:
    """Why a domain's held-out texts cannot come from documents of their own: what each side needs (words, and
    at least one document each) against the documents and words there are, and the fixes (one line)."""
    words = sorted(_word_counts(corpus).values(), reverse=True)
    sides = [(f"{roles.eval} evaluation texts", roles.eval * roles.text_words)] if roles.eval else []
    sides += [(f"{roles.validation} validation texts", roles.validation * roles.text_words)] if roles.validation else []
    sides += [(f"{roles.train} training windows", roles.train * roles.train_words)]
    needs = ", ".join(f"{what} {n} words" for what, n in sides)
    shown = ", ".join(map(str, words[:5])) + (", ..." if len(words) > 5 else "")
    return (f"data.separate_documents is true, but domain {roles.domain!r} has too few documents to keep its held-out "
            f"texts out of the training windows' documents: each side needs documents of its own ({needs}: "
            f"{len(sides)} documents at least), and it has {_plural(len(words), 'document')} of {sum(words)} words "
            f"({shown}): set data.separate_documents: auto (or false) to keep only their words apart, give held-out "
            f"files as corpora.{roles.domain}.eval_paths, or lower data.contexts_per_domain, data.validation_texts "
            "or data.num_samples")


def _draw_eval(corpus: list[dict], domain: str, count: int, words: int, rng: random.Random, avoid_spans: dict,
               avoid_docs: set, max_docs: int | None = None) -> list[dict]:
    free = _free(corpus, EVAL_ROLES, words, avoid_spans, avoid_docs)
    if max_docs is None and len(free) < count:
        ndocs = len(_docs(corpus, EVAL_ROLES)) - len(avoid_docs)
        raise UserError(
            f"domain {domain!r} has {len(free)} free passages of {words} words in {ndocs} documents, "
            f"the config asks {count}: lower data.contexts_per_domain or add text")
    return _spread_sample(free, count, rng, max_docs)


def _draw_train(corpus: list[dict], domain: str, count: int, words: int, rng: random.Random,
                avoid_docs: set) -> list[dict]:
    slots = _free(corpus, TRAIN_ROLES, words, {}, avoid_docs)
    if len(slots) < count:
        raise UserError(
            f"domain {domain!r} has text for {len(slots)} training passages of {words} words, "
            f"the config asks {count}: lower data.num_samples / data.seq_len or add text to the corpus")
    return sorted(rng.sample(slots, count), key=lambda s: (s["doc"], s["start"]))


def select_passages(corpora: dict[str, list[dict]], train_domain: str, num_train: int, train_words: int,
                    eval_domains: list[str], eval_per_domain: int, eval_words: int, seed: int,
                    layouts: dict | None = None) -> dict:
    """Choose the main run's training passages and held-out evaluation passages (per domain), disjoint by
    construction: never the same words, and for a domain with a layout (reserve_documents) never the same
    document. Without one, the training windows come first and the evaluation texts avoid their words.
    With one, the evaluation texts come from the layout's documents (the first ones in the draw's order) and
    the main run's windows from its training documents, drawn after the held-out documents are decided."""
    layouts = layouts or {}
    rng = random.Random(seed)
    for domain in [train_domain, *eval_domains]:
        if domain not in corpora:
            kind = "train domain" if domain == train_domain else "evaluation domain"
            raise UserError(f"{kind} {domain!r} has no corpus; corpora are: {sorted(corpora)}")
    main_layout = layouts.get(train_domain)
    evaluation: dict[str, list[dict]] = {}
    train: list[dict] = []
    if main_layout is None:
        train = _draw_train(corpora[train_domain], train_domain, num_train, train_words, rng, set())
    else:
        if train_domain in eval_domains:
            evaluation[train_domain] = _draw_eval(corpora[train_domain], train_domain, eval_per_domain, eval_words,
                                                  rng, {}, set(), len(main_layout["eval"]))
        held = set(main_layout["eval"]) | set(main_layout["validation"])
        train = _draw_train(corpora[train_domain], train_domain, num_train, train_words, rng, held)
    taken = _spans(train)
    for domain in eval_domains:
        if domain in evaluation:
            continue
        layout = layouts.get(domain)
        own = domain == train_domain
        evaluation[domain] = _draw_eval(corpora[domain], domain, eval_per_domain, eval_words, rng,
                                        taken if own else {}, set(), layout and len(layout["eval"]))
    result = {"train_domain": train_domain, "train": train, "eval": {d: evaluation[d] for d in eval_domains}}
    check_disjoint(result)
    return result


def select_validation(corpora: dict[str, list[dict]], selection: dict, counts: dict[str, int], words: int,
                      seed: int, layouts: dict | None = None) -> dict[str, list[dict]]:
    """Held-out texts of each training domain (Figure 2's validation loss, early stopping): passages that are
    neither a main training window nor an evaluation text; for a domain with a layout, from its validation
    documents (which hold neither)."""
    layouts = layouts or {}
    out = {}
    for domain, count in counts.items():
        corpus = corpora[domain]
        rng = random.Random(f"validation/{domain}/{seed}")
        layout = layouts.get(domain)
        if layout is not None:
            free = _free(corpus, TRAIN_ROLES, words, {}, set(layout["eval"]))
            out[domain] = _spread_sample(free, count, rng, len(layout["validation"]))
            continue
        avoid = _spans(selection["eval"].get(domain, []) + (selection["train"] if domain == selection["train_domain"]
                                                            else []))
        free = _free(corpus, TRAIN_ROLES, words, avoid, set())
        if len(free) < count:
            raise UserError(f"domain {domain!r} has {len(free)} free passages of {words} words for validation "
                            f"texts, the config asks {count}: lower data.validation_texts or add text")
        out[domain] = _spread_sample(free, count, rng)
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
                 words: dict[str, int], main_seed: int, layouts: dict | None = None) -> dict:
    """Training passages of every trained setting: per domain and seed, `needs[domain][seed]` passages in a
    random order (a setting with N windows takes the first N, so smaller sets nest inside larger ones).

    No passage overlaps an evaluation or validation text (for a domain with a layout, none comes from its
    held-out documents). The pool of the main training domain under the main seed starts with the main run's
    own windows (in a random order), so the main run takes exactly those, and a setting that differs from it
    only in order, swap or quantity trains on the same windows."""
    layouts = layouts or {}
    main_domain = selection["train_domain"]
    out: dict[str, dict[str, list[dict]]] = {}
    for domain, per_seed in needs.items():
        if domain not in corpora:
            raise UserError(f"training domain {domain!r} has no corpus; corpora are: {sorted(corpora)}")
        held_out = selection["eval"].get(domain, []) + selection.get("validation", {}).get(domain, [])
        taken = _spans(held_out)
        layout = layouts.get(domain)
        docs = set(layout["eval"]) | set(layout["validation"]) if layout is not None else set()
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


def plan_layouts(corpora: dict[str, list[dict]], plan: dict) -> tuple[dict, dict]:
    """Per training domain with held-out texts: its layout (reserve_documents) or None (span separation), and
    the separation each domain gets: 'documents', 'spans' (the texts share documents, never words, with the
    training windows: data.separate_documents false, or auto where the documents are too few) or
    'evaluation only' (no training windows there). data.separate_documents true with too few documents stops
    with the numbers and the fixes.

    A layout's evaluation documents are the first ones of the order the evaluation draw itself will take, so
    the draws are replayed here on copies of the same generators: the main domain's draw comes first from
    the master seed, the other domains' after the main run's windows and the evaluation domains before them."""
    mode = plan["separate_documents"]
    if mode not in SEPARATIONS:
        raise UserError(f"data.separate_documents must be auto, true or false, not {mode!r}")
    main = plan["train_domain"]
    training = set(plan["needs"]) | {main}
    layouts: dict[str, dict | None] = {}
    separation: dict[str, str] = {}
    rng = random.Random(plan["seed"])
    words = plan["eval_words"]

    def layout_of(domain: str, avoid_spans: dict) -> dict | None:
        roles = Roles(domain, plan)
        corpus = corpora[domain]
        free = _free(corpus, EVAL_ROLES, words, avoid_spans, set()) if roles.eval else []
        if len(free) < roles.eval:   # too little text whatever the separation: the draw's own message
            _draw_eval(corpus, domain, roles.eval, words, rng, {}, set())
        order = _order(free, rng)[0] if roles.eval else []
        found = reserve_documents(corpus, roles, order, plan["seed"]) if mode is not False else None
        if found is None and mode is True:
            raise UserError(_unseparable(corpus, roles))
        separation[domain] = "documents" if found else "spans"
        return found

    layouts[main] = layout_of(main, {})
    if layouts[main] is None:   # span separation: the windows come first, as the selection draws them
        rng = random.Random(plan["seed"])
        taken = _spans(_draw_train(corpora[main], main, plan["num_samples"], plan["pool_words"][main], rng, set()))
    else:
        held = set(layouts[main]["eval"]) | set(layouts[main]["validation"])
        taken = _spans(_draw_train(corpora[main], main, plan["num_samples"], plan["pool_words"][main], rng, held))
    for domain in plan["eval_domains"]:
        if domain == main and layouts[main] is not None:
            continue
        if domain in training and domain != main:
            layouts[domain] = layout_of(domain, {})
        else:
            if domain not in training:
                separation[domain] = "evaluation only"
            _order(_free(corpora[domain], EVAL_ROLES, words, taken if domain == main else {}, set()), rng)
    for domain in sorted(training - set(plan["eval_domains"])):
        layouts[domain] = layout_of(domain, {})
    return {d: v for d, v in layouts.items() if v is not None}, separation


def select_all(corpora: dict[str, list[dict]], plan: dict) -> dict:
    """The data step: the main run's training windows, the evaluation texts, the validation texts of every
    training domain, and every setting's pool of training passages (hyperfit.settings.data_plan says how
    many of what). Where documents are separated, each training domain's held-out documents are decided
    first (plan_layouts), and its training windows come from the others."""
    preflight(corpora, plan)
    layouts, separation = plan_layouts(corpora, plan)
    words, main = plan["pool_words"], plan["train_domain"]
    selection = select_passages(corpora, main, plan["num_samples"], words[main], plan["eval_domains"],
                                plan["contexts_per_domain"], plan["eval_words"], plan["seed"], layouts)
    selection["validation"] = select_validation(corpora, selection, plan["validation"], plan["eval_words"],
                                                plan["seed"], layouts)
    selection["pools"] = select_pools(corpora, selection, plan["needs"], words, plan["seed"], layouts)
    selection["separation"] = separation
    return selection


SEPARATION_WORDS = {
    "documents": "from documents that supply no training window",
    "spans": "from the documents of the training windows, never their words (too few documents to separate)",
    "evaluation only": "(no training windows in this domain)",
}


def selection_summary(corpora: dict[str, list[dict]], selection: dict) -> list[dict]:
    """Per domain and role (evaluation, validation, training): the separation, the texts or windows chosen,
    the documents they come from, the words in those documents, and how many of those documents also supply
    a training window (0 wherever documents are separated)."""
    rows = []
    for domain, corpus in sorted(corpora.items()):
        words = _word_counts(corpus)
        training = [s for pool in selection["pools"].get(domain, {}).values() for s in pool]
        if domain == selection["train_domain"]:
            training += selection["train"]
        train_docs = {s["doc"] for s in training}
        roles = [("evaluation", selection["eval"].get(domain, [])),
                 ("validation", selection.get("validation", {}).get(domain, [])), ("training", training)]
        for role, items in roles:
            if not items:
                continue
            docs = {s["doc"] for s in items}
            texts = len({(s["doc"], s["start"]) for s in items})
            rows.append({"domain": domain, "separation": selection.get("separation", {}).get(domain, "spans"),
                         "role": role, "texts": texts, "documents": len(docs),
                         "words": sum(words[d] for d in docs),
                         "shared_with_training": len(docs & train_docs) if role != "training" else 0,
                         "corpus_documents": len(corpus), "corpus_words": sum(words.values())})
    return rows


def selection_notes(rows: list[dict]) -> list[str]:
    """One line per domain for the log and the tables' notes: where its held-out texts come from."""
    out = []
    for domain in sorted({r["domain"] for r in rows}):
        mine = {r["role"]: r for r in rows if r["domain"] == domain}
        sep = next(iter(mine.values()))["separation"]
        held = [f"{r['texts']} {role} texts from {_plural(r['documents'], 'document')} ({r['words']} words)"
                for role, r in mine.items() if role != "training"]
        train = mine.get("training")
        line = f"{domain}: " + ", ".join(held)
        if train:
            line += (f"; {train['texts']} training windows of all settings from "
                     f"{_plural(train['documents'], 'document')} "
                     f"({train['words']} words)")
        out.append(f"{line}; held-out texts {SEPARATION_WORDS[sep]}")
    return out


def selection_markdown(summary_tsv: str) -> str:
    """The tables' note on where the texts come from, from the data step's summary (results/data/selection.tsv):
    a domain whose held-out texts share documents with its training windows says so."""
    import pandas as pd

    rows = pd.read_csv(summary_tsv, sep="\t").to_dict("records")
    return "\n".join(["", "Where the texts come from (results/data/selection.tsv; data.separate_documents):", "",
                      *(f"- {line}" for line in selection_notes(rows)), ""])


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
