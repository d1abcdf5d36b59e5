"""An LLM judge on the human study's pairs: the same blind comparison the raters make (the model's continuation
against the human continuation of the same evaluation text, cut to the same length), asked of an instruct model
through its chat template, in both orders, and summarised like the raters' files (hyperfit.human), so that the
judge's preference can stand beside the raters' where both exist and stand in for them where no rater was paid.

How the judge answers (judge.method). The prompt (judge.prompt, with the raters' question human.question) asks
for one word: A, B or equal. Two ways to read the answer:

- logprob (the default, and the more robust): one forward pass over the chat prompt and its assistant header,
  then the next-token log-probabilities of the answer tokens only ("A"/" A", "B"/" B", "equal"/"Equal" and their
  spaced forms; each answer's probability is the sum over its spellings). The answer is the likeliest of the
  three. Nothing is generated or parsed, so no answer is unreadable whatever the model would have written around
  it ("**A**", "Continuation A", "I think B"), the result is deterministic and costs one forward pass with a
  one-position output head (no KV cache, no vocabulary-wide logits per position). What this gives up is the
  model's own phrasing: the share of the next-token probability that falls on the answer tokens is kept per
  judgement (`answer_mass`); a low mass says the model wanted to write something else first (a preamble), and
  that its restricted answer is a weak one.
- generate: greedy decoding of judge.max_new_tokens tokens, then the first standalone "A" or "B" (upper case,
  a whole word) or the word equal / equally / tie / same (any case) in the text. An answer with none of these
  counts as equal and is counted (`unparsed`). Its weakness is the parse itself: "A better continuation is B"
  reads as A.

Both orders. Each pair is judged with the model's text as A and the human text as B (order "ab"), then swapped
("ba"), and each answer becomes an outcome: model, reference (the human text) or equal. The pair's outcome is a
win for one side only when both orders give it; any disagreement, or an "equal" in either order, is equal. A
judge that always answers "A" (position bias) thus calls every pair equal, and the rate at which the two orders
agree (`agreement`) measures that bias.

The sanity check (shuffle_pairs): each human continuation against the same sentences in a seeded random order. A
judge that reads the texts prefers the original; one that prefers the shuffled text, or calls them equal, says
nothing about fluency or coherence, whatever it says about the model's texts."""
from __future__ import annotations

import math
import random
import re
import string

import numpy as np
import pandas as pd

from .errors import UserError
from .human import GROUP, OUTCOMES, PAIR, group_summary
from .tables import NOT_COLLECTED

METHODS = ("logprob", "generate")
CHOICES = ("A", "B", "equal")
FIELDS = ("question", "prompt", "a", "b")      # the fields judge.prompt may use
REQUIRED_FIELDS = ("prompt", "a", "b")          # without them the judge cannot see what it compares
ORDERS = {"ab": "A", "ba": "B"}                 # order -> the side the model's text is shown on
ALL_DOMAINS = "all"
SHUFFLED = "sentences shuffled"                 # the variant name of the sanity check's pairs
UNDEFINED = "undefined"
SPELLINGS = {"A": ("A", " A"), "B": ("B", " B"), "equal": ("equal", " equal", "Equal", " Equal")}
DEFAULT_PROMPT = ("Here is the beginning of a text and two possible continuations of it.\n\nBeginning:\n{prompt}\n\n"
                  "Continuation A:\n{a}\n\nContinuation B:\n{b}\n\n{question}\nAnswer with one word: A, B, or equal.")


# ------------------------------------------------------------------------------------------------ prompts
def template_problems(template: str, key: str = "judge.prompt") -> list[str]:
    """What is wrong with a prompt template, one line each: a brace that does not parse, a field other than
    {question}, {prompt}, {a}, {b}, or one of {prompt}, {a}, {b} missing."""
    try:
        names = [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]
    except ValueError as exc:
        return [f"{key}: {exc}; write a literal brace as {{{{ or }}}}"]
    out = []
    unknown = sorted({n for n in names if n not in FIELDS})
    if unknown:
        out.append(f"{key}: unknown field(s) {', '.join('{' + n + '}' for n in unknown)}; the fields are "
                   f"{', '.join('{' + f + '}' for f in FIELDS)} (write a literal brace as {{{{ or }}}})")
    missing = [f for f in REQUIRED_FIELDS if f not in names]
    if missing:
        out.append(f"{key}: the template lacks {', '.join('{' + f + '}' for f in missing)}, so the judge would not "
                   "see what it compares: add them")
    return out


def render(template: str, question: str, context: str, a: str, b: str) -> str:
    """The user message: the template with the question, the beginning of the text and the two continuations."""
    problems = template_problems(template)
    if problems:
        raise UserError(problems[0])
    return template.format(question=question, prompt=context, a=a, b=b)


def check_chat_template(tokenizer, name: str = "") -> None:
    """An instruct model is prompted through its chat template; a tokenizer without one (a base model) is
    refused rather than prompted with a format it was never trained on."""
    if not getattr(tokenizer, "chat_template", None):
        raise UserError(f"judge.model {name}: its tokenizer has no chat template (a base model?); set judge.model "
                        "to an instruct (chat) model")


def chat_ids(tokenizer, content: str, name: str = "") -> list[int]:
    """Token ids of one user turn through the tokenizer's chat template, ending with the assistant's header
    (add_generation_prompt), so the next token is the start of the answer."""
    check_chat_template(tokenizer, name)
    text = tokenizer.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True,
                                         tokenize=False)
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def answer_tokens(tokenizer, name: str = "") -> dict[str, list[int]]:
    """For each answer, the first token of each of its spellings (SPELLINGS). Left out: a token two answers
    share or one that decodes to whitespace only, as it would not say which answer begins; and for equal, a
    first token shorter than 'equ' ('E' of 'E'+'qual' begins many words) where another spelling's first token
    is longer (every real instruct vocabulary has 'equal' or ' equal' whole; a toy tokenizer may have neither)."""
    firsts: dict[str, list[int]] = {}
    for choice, words in SPELLINGS.items():
        found: list[tuple[int, str]] = []
        for word in words:
            enc = tokenizer.encode(word, add_special_tokens=False)
            shown = tokenizer.decode(enc[:1]).strip()
            if enc and shown and enc[0] not in [t for t, _ in found]:
                found.append((enc[0], shown))
        if choice == "equal" and any(len(shown) >= 3 for _, shown in found):
            found = [(t, shown) for t, shown in found if len(shown) >= 3]
        firsts[choice] = [t for t, _ in found]
    shared = {t for c in firsts for t in firsts[c] if any(t in firsts[d] for d in firsts if d != c)}
    out = {c: [t for t in ids if t not in shared] for c, ids in firsts.items()}
    for choice, ids in out.items():
        if not ids:
            raise UserError(f"judge.model {name}: no token of its vocabulary begins the answer {choice!r} alone; set "
                            "judge.method: generate")
    return out


_ANSWER = re.compile(r"\b(?:(?P<side>A|B)|(?P<equal>(?i:equal(?:ly)?|tie[ds]?|same)))\b")


def parse_answer(text: str) -> str | None:
    """A generated answer: the first standalone A or B (upper case, a whole word) or equal / equally / tie /
    tied / same (any case), whichever comes first; None when there is none."""
    match = _ANSWER.search(text)
    if match is None:
        return None
    return match.group("side") or "equal"


# ------------------------------------------------------------------------------------------------ judging
def _batches(sequences: list[list[int]], batch_size: int):
    """Indices of the sequences in batches of similar length (longest first), so little is padded."""
    order = sorted(range(len(sequences)), key=lambda i: (-len(sequences[i]), i))
    for b in range(0, len(order), batch_size):
        yield order[b:b + batch_size]


def _left_padded(sequences: list[list[int]], pad_id: int, dev):
    import torch

    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for i, s in enumerate(sequences):
        ids[i, width - len(s):] = torch.tensor(s, dtype=torch.long)
        mask[i, width - len(s):] = 1
    return ids.to(dev), mask.to(dev)


def answer_logprobs(model, sequences: list[list[int]], answers: dict[str, list[int]], pad_id: int,
                    batch_size: int = 8, progress=None) -> list[dict]:
    """Per sequence: the log-probability of each answer as the next token (log of the summed probabilities of
    its spellings), the answer with the highest (ties: A, B, equal in that order), and `mass`, the next-token
    probability on all answer tokens together. Left padding with position ids counted from each sequence's first
    real token, so a batch gives what each sequence gives alone."""
    import torch

    model.eval()
    dev = next(model.parameters()).device
    out: list[dict | None] = [None] * len(sequences)
    for idx in _batches(sequences, batch_size):
        ids, mask = _left_padded([sequences[i] for i in idx], pad_id, dev)
        positions = (mask.cumsum(1) - 1).clamp(min=0)
        with torch.no_grad():
            try:
                logits = model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=False,
                               logits_to_keep=1).logits[:, -1]
            except TypeError:  # a model class without logits_to_keep
                logits = model(input_ids=ids, attention_mask=mask, position_ids=positions,
                               use_cache=False).logits[:, -1]
        logp = torch.log_softmax(logits.float(), dim=-1).cpu()
        every = [t for c in CHOICES for t in answers[c]]
        for row, i in enumerate(idx):
            scores = {c: float(torch.logsumexp(logp[row, answers[c]], dim=0)) for c in CHOICES}
            best = max(CHOICES, key=lambda c: (scores[c], -CHOICES.index(c)))
            out[i] = {"choice": best, "mass": math.exp(float(torch.logsumexp(logp[row, every], dim=0))),
                      **{f"logp_{c}": scores[c] for c in CHOICES}}
        if progress is not None:
            progress.update(len(idx))
    return out


def answer_texts(model, tokenizer, sequences: list[list[int]], max_new_tokens: int, batch_size: int = 8,
                 progress=None) -> list[str]:
    """Per sequence: the greedy answer (at most max_new_tokens tokens, stopping at the end of the turn), decoded
    without special tokens."""
    import torch

    model.eval()
    dev = next(model.parameters()).device
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    out: list[str | None] = [None] * len(sequences)
    for idx in _batches(sequences, batch_size):
        ids, mask = _left_padded([sequences[i] for i in idx], pad_id, dev)
        with torch.no_grad():
            gen = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=max_new_tokens, do_sample=False,
                                 top_p=None, top_k=None, temperature=None, pad_token_id=pad_id)
        for row, i in enumerate(idx):
            out[i] = tokenizer.decode(gen[row, ids.shape[1]:].tolist(), skip_special_tokens=True)
        if progress is not None:
            progress.update(len(idx))
    return out


def outcome_of(choice: str, model_side: str) -> str:
    """An answer (A, B, equal) as an outcome: the model's text, the reference (human) text, or equal."""
    if choice == "equal":
        return "equal"
    return "model" if choice == model_side else "reference"


def combine(outcome_ab: str, outcome_ba: str) -> str:
    """Both orders' outcomes as the pair's: a side wins only when both orders give it; else equal."""
    return outcome_ab if outcome_ab == outcome_ba and outcome_ab != "equal" else "equal"


def context_limit(model) -> int | None:
    from .config import context_size

    return context_size(model.config.to_dict())


def judge_pairs(model, tokenizer, pairs: list[dict], template: str, question: str, method: str = "logprob",
                batch_size: int = 8, max_new_tokens: int = 8, name: str = "", progress=None) -> pd.DataFrame:
    """Judge every pair (dicts as hyperfit.human.generation_pairs makes them: model, variant, decoding, length,
    domain, index, context, model_text, reference_text) in both orders. One row per pair: the PAIR columns;
    per order o in (ab: the model's text is A, ba: it is B) the answer choice_o (A, B, equal), outcome_o (model,
    reference, equal), parsed_o (False: a generated answer without A, B or equal, counted as equal), mass_o (the
    answer tokens' next-token probability; logprob only, else NaN) and answer_o (the generated text; logprob:
    the choice); then outcome (both orders combined, see combine) and agree (the two outcomes are the same)."""
    if method not in METHODS:
        raise UserError(f"judge.method {method!r}: one of {', '.join(METHODS)}")
    check_chat_template(tokenizer, name)
    sequences, where = [], []
    for i, p in enumerate(pairs):
        for order, side in ORDERS.items():
            a, b = (p["model_text"], p["reference_text"]) if side == "A" else (p["reference_text"], p["model_text"])
            sequences.append(chat_ids(tokenizer, render(template, question, p["context"], a, b), name))
            where.append((i, order))
    limit = context_limit(model)
    longest = max((len(s) for s in sequences), default=0)
    if limit is not None and longest > limit:
        raise UserError(f"judge.prompt: a judge prompt of {longest} tokens exceeds the {limit} positions of "
                        f"judge.model {name}: shorten judge.prompt or the compared lengths (human.comparisons)")
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    if method == "logprob":
        answers = answer_logprobs(model, sequences, answer_tokens(tokenizer, name), pad_id, batch_size, progress)
        results = [{"choice": r["choice"], "parsed": True, "mass": r["mass"], "answer": r["choice"]} for r in answers]
    else:
        texts = answer_texts(model, tokenizer, sequences, max_new_tokens, batch_size, progress)
        results = []
        for text in texts:
            choice = parse_answer(text)
            results.append({"choice": choice or "equal", "parsed": choice is not None, "mass": math.nan,
                            "answer": text})
    rows = [{c: pairs[i][c] for c in PAIR} for i in range(len(pairs))]
    for (i, order), r in zip(where, results):
        rows[i].update({f"choice_{order}": r["choice"], f"outcome_{order}": outcome_of(r["choice"], ORDERS[order]),
                        f"parsed_{order}": r["parsed"], f"mass_{order}": r["mass"], f"answer_{order}": r["answer"]})
    for row in rows:
        row["outcome"] = combine(row["outcome_ab"], row["outcome_ba"])
        row["agree"] = row["outcome_ab"] == row["outcome_ba"]
    columns = [*PAIR, *(f"{f}_{o}" for o in ORDERS for f in ("choice", "outcome", "parsed", "mass", "answer")),
               "outcome", "agree"]
    table = pd.DataFrame(rows, columns=columns)
    return table.astype({"length": int, "index": int})


def judge_model(config: dict) -> str:
    """The judge's name: judge.model, or the first model of models where it is null (the embedded default's
    SmolLM2-135M-Instruct). A name under models is loaded from that model's base folder; any other is a hub id
    fetched with judge.revision."""
    name = config["judge"]["model"]
    return name if name is not None else next(iter(config["models"]))


def judge_is_hub(config: dict) -> bool:
    return judge_model(config) not in config["models"]


def load_judge(path: str, dtype: str = "float32", name: str = ""):
    """(model, tokenizer) of the judge from a local folder; refused without a chat template."""
    from .modeling import load_model, load_tokenizer

    tokenizer = load_tokenizer(path)
    check_chat_template(tokenizer, name)
    return load_model(path, dtype=dtype), tokenizer


# ------------------------------------------------------------------------------------------------ numbers
def cohen_kappa(a, b) -> float:
    """Cohen's kappa of two label sequences over the outcomes (model, reference, equal); NaN without labels or
    when every label of both is one outcome (chance agreement 1: kappa undefined)."""
    from sklearn.metrics import cohen_kappa_score

    a, b = list(a), list(b)
    if len(a) != len(b):
        raise ValueError("Cohen's kappa needs two labels per item")
    if not a or len(set(a) | set(b)) < 2:
        return math.nan
    return float(cohen_kappa_score(a, b, labels=list(OUTCOMES)))


def _groups(table: pd.DataFrame, by: list[str]):
    """(values, domain, rows) per group of `by`, each domain then all domains pooled (as hyperfit.human)."""
    for values, part in table.groupby(by, sort=True):
        for domain, sub in part.groupby("domain", sort=True):
            yield values, domain, sub
        yield values, ALL_DOMAINS, part


def _counts(outcomes, columns=OUTCOMES) -> np.ndarray:
    """One row per pair, one count in the column of its outcome (the raters' count matrix with one rating)."""
    return np.array([[int(o == c) for c in columns] for o in outcomes], dtype=float).reshape(-1, len(columns))


def _shares(counts: np.ndarray, iterations: int, rng) -> dict:
    """hyperfit.human.group_summary's shares and bootstrap intervals (its Fleiss' kappa needs >= 2 ratings)."""
    summary = group_summary(counts, iterations, rng)
    return {k: v for k, v in summary.items() if k not in ("pairs", "ratings") and not k.startswith("kappa")}


def rating_pairs(key: pd.DataFrame, ratings: pd.DataFrame, judgements: pd.DataFrame) -> pd.DataFrame:
    """Each human rating beside the judge's outcome of its pair: PAIR columns, item_id, rater, human (the
    rating's outcome), judge (the pair's combined outcome). Pairs the judge did not judge are left out."""
    rated = ratings.merge(key[["item_id", *PAIR]], on="item_id", how="inner")
    judged = judgements[[*PAIR, "outcome"]].rename(columns={"outcome": "judge"})
    both = rated.merge(judged.astype({"length": int, "index": int}),
                       on=PAIR, how="inner").rename(columns={"outcome": "human"})
    return both[[*PAIR, "item_id", "rater", "human", "judge"]]


def human_pairs(rated: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Every ordered pair of two different raters' ratings of the same item, as two label lists (rater-rater
    agreement, the ceiling a judge's agreement with raters is read against)."""
    first, second = [], []
    for _, item in rated.groupby("item_id", sort=True):
        labels = list(item["human"])
        for i in range(len(labels)):
            for j in range(len(labels)):
                if i != j:
                    first.append(labels[i])
                    second.append(labels[j])
    return first, second


def preference_table(judgements: pd.DataFrame, iterations: int, seed: int, key: pd.DataFrame | None = None,
                     ratings: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per model x variant x decoding x length and domain (plus "all"), as the raters' table
    (hyperfit.human.preference_table): pairs; % of pairs the judge prefers the model's text (preferred), calls
    equal (equal) or either (preferred_or_equal), each with its 95% bootstrap interval over the pairs
    (hyperfit.human.group_summary: one judgement per pair); agreement: % of pairs whose two orders give the same
    outcome; unparsed: answers without A, B or equal (generate); answer_mass: mean next-token probability of the
    answer tokens (logprob). With the key and the raters' ratings (hyperfit.human.ingest): human_ratings joined,
    kappa_judge_human (Cohen's kappa of the judge's outcome against each rating of the pair) and
    kappa_human_human (Cohen's kappa between two raters of the same pair, every ordered pair of ratings)."""
    if not len(judgements):
        raise UserError("the judge has no pairs to summarise (human.comparisons)")
    rated = rating_pairs(key, ratings, judgements) if key is not None and ratings is not None else None
    rows = []
    for number, (values, domain, part) in enumerate(_groups(judgements, GROUP)):
        row = dict(zip(GROUP, values), domain=domain, pairs=len(part))
        row.update(_shares(_counts(part["outcome"]), iterations, np.random.default_rng([seed, number])))
        row.update(_diagnostics(part))
        if rated is None:
            row.update(human_ratings=0, kappa_judge_human=NOT_COLLECTED, kappa_human_human=NOT_COLLECTED)
        else:
            sub = rated.merge(part[PAIR], on=PAIR, how="inner")
            k_jh = cohen_kappa(sub["judge"], sub["human"])
            k_hh = cohen_kappa(*human_pairs(sub))
            row.update(human_ratings=len(sub), kappa_judge_human=UNDEFINED if math.isnan(k_jh) else k_jh,
                       kappa_human_human=UNDEFINED if math.isnan(k_hh) else k_hh)
        rows.append(row)
    shares = [c for s in ("preferred", "equal", "preferred_or_equal") for c in (s, f"{s}_lo", f"{s}_hi")]
    return pd.DataFrame(rows, columns=[*GROUP, "domain", "pairs", *shares, "agreement", "unparsed", "answer_mass",
                                       "human_ratings", "kappa_judge_human", "kappa_human_human"])


TABLE_COLUMNS = {"preferred_or_equal": "judge_pref_or_equal", "preferred_or_equal_lo": "judge_pref_or_equal_lo",
                 "preferred_or_equal_hi": "judge_pref_or_equal_hi", "preferred": "judge_preferred",
                 "equal": "judge_equal", "agreement": "judge_agreement"}


def table_columns(preference: pd.DataFrame) -> pd.DataFrame:
    """The judge's columns for a table beside the raters' (hyperfit.human.table1_columns): all domains pooled,
    keyed by model, variant, decoding and length."""
    part = preference[preference["domain"] == ALL_DOMAINS]
    return part[[*GROUP, *TABLE_COLUMNS]].rename(columns=TABLE_COLUMNS).reset_index(drop=True)


def _diagnostics(part: pd.DataFrame) -> dict:
    masses = part[[f"mass_{o}" for o in ORDERS]].to_numpy(dtype=float)
    parsed = part[[f"parsed_{o}" for o in ORDERS]].to_numpy(dtype=bool)
    return {"agreement": 100 * float(part["agree"].astype(bool).mean()), "unparsed": int((~parsed).sum()),
            "answer_mass": float(np.nanmean(masses)) if np.isfinite(masses).any() else math.nan}


# ------------------------------------------------------------------------------------------ sanity check
_BOUNDARY = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"'\u201d\u2019)\]]))\s+|\s*\n\s*")


def split_sentences(text: str) -> list[str]:
    """Sentences: split after . ! or ? (and a closing quote or bracket) followed by whitespace, and at line
    breaks; each stripped, empty ones dropped. Deterministic and simple: an abbreviation ("Mr. Smith") splits
    too, which only makes a shuffled text a little more shuffled."""
    return [s.strip() for s in _BOUNDARY.split(text) if s and s.strip()]


def shuffled_sentences(text: str, seed) -> list[str] | None:
    """The sentences of `text` in a random order (random.Random(seed)) that differs from the original; None for
    a text of fewer than two different sentences (no other order exists)."""
    sentences = split_sentences(text)
    if len(set(sentences)) < 2:
        return None
    rng = random.Random(seed)
    while True:
        order = sentences[:]
        rng.shuffle(order)
        if order != sentences:
            return order


def shuffle_pairs(pairs: list[dict], seed: int) -> tuple[list[dict], list[dict]]:
    """The sanity check's pairs: each distinct human continuation of the study's pairs (by model, length,
    domain, index: each model's tokenizer cuts its own) against the same sentences shuffled. Both sides are the
    sentences joined by single spaces (the original in its order), so only the order differs. As pairs for
    judge_pairs: variant 'sentences shuffled', decoding '-', model_text the shuffled text, reference_text the
    original (so outcome 'reference' means the judge prefers the original). Returns (pairs, skipped): skipped
    lists the texts of fewer than two different sentences."""
    seen, out, skipped = set(), [], []
    for p in sorted(pairs, key=lambda p: (p["model"], int(p["length"]), p["domain"], int(p["index"]))):
        ident = (p["model"], int(p["length"]), p["domain"], int(p["index"]))
        if ident in seen:
            continue
        seen.add(ident)
        sentences = split_sentences(p["reference_text"])
        order = shuffled_sentences(p["reference_text"], f"judge-shuffle-{seed}-{'-'.join(map(str, ident))}")
        if order is None:
            skipped.append(dict(zip(("model", "length", "domain", "index"), ident)))
            continue
        out.append({"model": ident[0], "variant": SHUFFLED, "decoding": "-", "length": ident[1], "domain": ident[2],
                    "index": ident[3], "context": p["context"], "model_text": " ".join(order),
                    "reference_text": " ".join(sentences)})
    return out, skipped


def shuffle_table(judgements: pd.DataFrame, iterations: int, seed: int,
                  skipped: list[dict] | None = None) -> pd.DataFrame:
    """The sanity check per model x length and domain (plus "all"): pairs judged; skipped (texts of one
    sentence); % of pairs where the judge prefers the original text in both orders (original_preferred), the
    shuffled one (shuffled_preferred), or neither (equal), with 95% bootstrap intervals over the pairs; agreement:
    % of pairs whose two orders agree; unparsed and answer_mass as in preference_table."""
    skipped_df = pd.DataFrame(skipped or [], columns=["model", "length", "domain", "index"])
    rows = []
    for number, (values, domain, part) in enumerate(_groups(judgements, ["model", "length"])):
        row = dict(zip(("model", "length"), values), domain=domain, pairs=len(part))
        sk = skipped_df[(skipped_df["model"] == values[0]) & (skipped_df["length"] == values[1])]
        row["skipped"] = len(sk) if domain == ALL_DOMAINS else int((sk["domain"] == domain).sum())
        counts = _counts(part["outcome"], ("reference", "model", "equal"))   # the original first
        shares = _shares(counts, iterations, np.random.default_rng([seed, number]))
        for src, dst in (("preferred", "original_preferred"), ("equal", "equal")):
            row.update({dst: shares[src], f"{dst}_lo": shares[f"{src}_lo"], f"{dst}_hi": shares[f"{src}_hi"]})
        reverse = _shares(_counts(part["outcome"]), iterations, np.random.default_rng([seed, number]))
        row.update(shuffled_preferred=reverse["preferred"], shuffled_preferred_lo=reverse["preferred_lo"],
                   shuffled_preferred_hi=reverse["preferred_hi"])
        row.update(_diagnostics(part))
        rows.append(row)
    shares = [c for s in ("original_preferred", "shuffled_preferred", "equal") for c in (s, f"{s}_lo", f"{s}_hi")]
    return pd.DataFrame(rows, columns=["model", "length", "domain", "pairs", "skipped", *shares, "agreement",
                                       "unparsed", "answer_mass"])


def judge_notes(judge: str, method: str, iterations: int, default: bool = False, prefix: str = "") -> str:
    """The Markdown notes under the judge's tables; `prefix`: what the table's judge columns start with (Table 1:
    judge_, its preference column judge_pref_or_equal)."""
    pref = f"{prefix}pref_or_equal" if prefix else "preferred_or_equal"
    kappa = f"{prefix}kappa_human" if prefix else "kappa_judge_human"
    lines = [
        "Notes:",
        "",
        f"- Judge: {judge} (config judge.model), prompted through its chat template with judge.prompt and the "
        "raters' question (human.question); the same pairs as the human study: the model's continuation against the "
        "human continuation of the same text, cut to the same number of tokens.",
        "- Each pair is judged twice, the model's text as A and as B; a side wins only when both orders say so, "
        "anything else counts as equal. agreement: % of pairs whose two orders give the same outcome (a judge that "
        "always answers A or always B agrees on none).".replace("agreement:", f"{prefix}agreement:"),
        f"- {prefix}preferred / {prefix}equal / {pref}: % of pairs; [low, high] (the .tsv's *_lo, *_hi): 95% percentile "
        f"interval from {iterations} bootstrap resamples of the pairs (hyperfit.human.group_summary, as the raters' "
        "table, whose unit is a rating rather than a pair).",
        ("- answer_mass: mean next-token probability of the answer tokens (A, B, equal) after the prompt; the answer "
         "is the likeliest of them (judge.method logprob)." if method == "logprob" else
         "- unparsed: generated answers with no standalone A, B or equal, counted as equal (judge.method generate)."),
        f"- {kappa}: Cohen's kappa of the judge's outcome against each rater's"
        + ("; kappa_human_human: between two raters of the same pair (the ceiling to read it against)" if not prefix
           else " (the raters' own agreement: human_kappa)")
        + f"; '{NOT_COLLECTED}' without rater files, "
        f"'{UNDEFINED}' when every label is one outcome.",
        "- Sanity check: each human continuation against its own sentences in a seeded random order; "
        "original_preferred is the % of those pairs where the judge prefers the original in both orders. A judge "
        "that does not clearly prefer the original does not read coherence, and its preferences above say little.",
    ]
    if default:
        lines.append(f"- The judge {judge} is one of the models under study (judge.model null or a name under models; "
                     "the embedded default's is its 135M-parameter instruct model): it proves the path, it is not a "
                     "judgement.")
    return "\n".join([*lines, ""])


# ------------------------------------------------------------------------------------------ in the tables
NOT_JUDGED = "not judged"  # a row of a table whose pairs the judge was not given (not in human.comparisons)


def table1_judge_columns(judgements: pd.DataFrame, iterations: int, seed: int, key: pd.DataFrame | None = None,
                         ratings: pd.DataFrame | None = None) -> pd.DataFrame:
    """Table 1's judge columns (table_columns, all domains pooled) with kappa_judge_human beside them (Cohen's
    kappa against the raters' ratings of the same pairs; 'not collected' without rater files)."""
    pref = preference_table(judgements, iterations, seed, key, ratings)
    cols = table_columns(pref)
    pooled = pref[pref["domain"] == ALL_DOMAINS].reset_index(drop=True)
    cols["judge_kappa_human"] = pooled["kappa_judge_human"].to_numpy()
    return cols


def add_table1_judge(table: pd.DataFrame, columns: pd.DataFrame) -> pd.DataFrame:
    """Table 1 with the judge's columns merged by model, variant, decoding and length; rows the judge did not
    judge say 'not judged'."""
    key = list(GROUP)
    merged = table.merge(columns.astype({"length": int}), on=key, how="left")
    for col in columns.columns:
        if col not in key:
            merged[col] = merged[col].astype(object).where(merged[col].notna(), NOT_JUDGED)
    return merged


def table4_judge(judgements: pd.DataFrame, iterations: int, seed: int, spec: dict) -> dict[tuple[str, str], dict]:
    """Table 4's judge columns, keyed by (model, train data): judge_<domain> and judge_all, the % of pairs the
    judge prefers the model's continuation or calls equal (as the raters' human_<domain>, from the same pairs)."""
    from .sweeptables import table4_human

    pref = preference_table(judgements, iterations, seed)
    human = table4_human(pref, spec)
    return {k: {f"judge_{c[len('human_'):]}": v for c, v in cols.items()} for k, cols in human.items()}


def sanity_lines(summaries: pd.DataFrame, judge: str) -> list[str]:
    """One Markdown line per model and length of the sanity check (shuffle_table, all domains pooled): how often
    the judge prefers the human continuation over its own sentences shuffled, how often the reverse, and how
    often its two orders agree."""
    lines = []
    for r in summaries[summaries["domain"] == ALL_DOMAINS].itertuples():
        lines.append(
            f"- Judge sanity check ({judge} on {r.model}'s human continuations of {int(r.length)} tokens, "
            f"{int(r.pairs)} pairs, {int(r.skipped)} of one sentence skipped): prefers the original over its "
            f"sentences shuffled in {r.original_preferred:.1f}% [{r.original_preferred_lo:.1f}, "
            f"{r.original_preferred_hi:.1f}] of pairs, the shuffled text in {r.shuffled_preferred:.1f}% "
            f"[{r.shuffled_preferred_lo:.1f}, {r.shuffled_preferred_hi:.1f}]; its two orders agree on "
            f"{r.agreement:.1f}%.")
    return lines
