"""Repetition and overlap of generated texts: Self-BLEU, Dataset BLEU, training-data overlap, rep-n,
diversity and gzip compression ratio.

BLEU here is sentence BLEU-4 exactly as nltk's ``sentence_bleu(refs, hyp, smoothing_function=
SmoothingFunction().method1)`` computes it (uniform weights 1/4; modified n-gram precision clipped by the
maximum count over the references; a precision with no match becomes 0.1 / (hypothesis n-grams); brevity
penalty against the reference length closest to the hypothesis length, the shorter one on a tie; 0 when
not a single unigram matches). It is computed the fast way: each text's n-gram counts once, clipping
against per-n-gram maxima, so all-vs-all Self-BLEU costs one pass over the n-grams instead of one
nltk call per text with every other text re-counted.
"""
from __future__ import annotations

import gzip
import itertools
import math
from collections import Counter, defaultdict
from typing import Iterable, Sequence

import numpy as np

BLEU_ORDER = 4
BLEU_EPSILON = 0.1  # nltk's SmoothingFunction().method1 default
REP_ORDERS = (2, 3, 4)


# ------------------------------------------------------------------------------------------------- BLEU
def ngram_counts(tokens: Sequence, n: int) -> Counter:
    """Counts of the contiguous n-grams (tuples) of a token sequence."""
    return Counter(zip(*(tokens[i:] for i in range(n))))


def ngram_table(texts: Sequence[Sequence], n: int) -> tuple[dict, np.ndarray, np.ndarray, np.ndarray]:
    """The n-grams of all texts as parallel arrays, one entry per (text, distinct n-gram): n-gram id,
    text index, count; and the n-gram -> id mapping (ids 0..G-1 in order of first appearance)."""
    ids: dict[tuple, int] = defaultdict(itertools.count().__next__)
    gid, tid, cnt = [], [], []
    for i, tokens in enumerate(texts):
        counts = ngram_counts(tokens, n)
        gid.extend(map(ids.__getitem__, counts))
        cnt.extend(counts.values())
        tid.extend(itertools.repeat(i, len(counts)))
    return dict(ids), *(np.asarray(x, dtype=np.int64) for x in (gid, tid, cnt))


def bleu_from_stats(matches: Sequence[int], totals: Sequence[int], hyp_len: int, ref_len: int,
                    epsilon: float = BLEU_EPSILON) -> float:
    """Sentence BLEU from clipped matches and hypothesis n-gram totals per order (1..N), uniform weights,
    method1 smoothing, brevity penalty with reference length ref_len; the same float operations as nltk."""
    if hyp_len == 0 or matches[0] == 0:
        return 0.0
    weight = 1 / len(matches)
    logs = []
    for m, t in zip(matches, totals):
        den = max(1, t)
        logs.append(weight * math.log((m + epsilon) / den if m == 0 else m / den))
    bp = 1.0 if hyp_len > ref_len else math.exp(1 - ref_len / hyp_len)
    return bp * math.exp(math.fsum(logs))


def closest_length(lengths: Iterable[int], hyp_len: int) -> int:
    """The reference length closest to hyp_len; the shorter one on a tie (nltk's closest_ref_length)."""
    return min(lengths, key=lambda r: (abs(r - hyp_len), r))


def self_bleu(texts: Sequence[Sequence], order: int = BLEU_ORDER) -> list[float]:
    """BLEU of each text against all the other texts as references (NaN when there is no other text).

    Clipping needs, per n-gram of text i, its maximum count over the texts j != i: the largest count of
    each n-gram, which text has it, and the second largest count answer that for every text at once.
    """
    k = len(texts)
    if k < 2:
        return [math.nan] * k
    matches = np.zeros((k, order), dtype=np.int64)
    for n_idx in range(order):
        ids, gid_a, tid_a, cnt_a = ngram_table(texts, n_idx + 1)
        if not ids:
            continue
        by = np.lexsort((-cnt_a, gid_a))  # grouped by n-gram id (0..G-1), the largest count first
        first = np.searchsorted(gid_a[by], np.arange(len(ids) + 1))
        best, who = cnt_a[by][first[:-1]], tid_a[by][first[:-1]]
        second = np.where(np.diff(first) > 1, cnt_a[by][np.minimum(first[:-1] + 1, len(by) - 1)], 0)
        cap = np.where(tid_a == who[gid_a], second[gid_a], best[gid_a])
        matches[:, n_idx] = np.bincount(tid_a, weights=np.minimum(cnt_a, cap), minlength=k).astype(np.int64)
    lengths = Counter(len(t) for t in texts)
    scores = []
    for i, t in enumerate(texts):
        h = len(t)
        others = [r for r, c in lengths.items() if c > (1 if r == h else 0)]
        totals = [max(0, h - n + 1) for n in range(1, order + 1)]
        scores.append(bleu_from_stats(matches[i].tolist(), totals, h, closest_length(others, h)))
    return scores


class ReferenceIndex:
    """An inverted index of the references' n-grams for BLEU of a hypothesis against each reference
    alone (Dataset BLEU: the best-matching span of a training window). Clipped matches against all references
    at once: per distinct hypothesis n-gram, its posting list (reference, count), summed with numpy."""

    def __init__(self, references: Sequence[Sequence], order: int = BLEU_ORDER):
        if not references:
            raise ValueError("ReferenceIndex needs at least one reference")
        self.references = [list(r) for r in references]
        self.order = order
        self.ref_len = np.array([len(r) for r in references], dtype=np.int64)
        self._ids: list[dict[tuple, int]] = []
        self._start: list[np.ndarray] = []
        self._refs: list[np.ndarray] = []
        self._counts: list[np.ndarray] = []
        for n in range(1, order + 1):
            ids, gid_a, ref_a, cnt_a = ngram_table(self.references, n)
            by = np.argsort(gid_a, kind="stable")
            self._ids.append(ids)
            self._start.append(np.searchsorted(gid_a[by], np.arange(len(ids) + 1)))
            self._refs.append(ref_a[by])
            self._counts.append(cnt_a[by])

    def clipped_matches(self, hypothesis: Sequence) -> np.ndarray:
        """(references x order) clipped n-gram matches of the hypothesis against each reference alone."""
        out = np.zeros((len(self.references), self.order), dtype=np.int64)
        for n_idx in range(self.order):
            ids, start = self._ids[n_idx], self._start[n_idx]
            rows, caps = [], []
            for g, c in ngram_counts(hypothesis, n_idx + 1).items():
                j = ids.get(g)
                if j is not None:
                    rows.append(np.arange(start[j], start[j + 1]))
                    caps.append(np.full(start[j + 1] - start[j], c))
            if rows:
                rows_a, caps_a = np.concatenate(rows), np.concatenate(caps)
                clipped = np.minimum(self._counts[n_idx][rows_a], caps_a)
                out[:, n_idx] = np.bincount(self._refs[n_idx][rows_a], weights=clipped,
                                            minlength=len(self.references)).astype(np.int64)
        return out

    def max_span_bleu(self, hypothesis: Sequence) -> tuple[float, int]:
        """Dataset BLEU: the highest BLEU of the hypothesis (h words) against any span of h consecutive words
        of one reference (a whole reference where it is shorter than h), and that reference's index (-1 when
        no word is shared). A verbatim copy of a training span scores 1: the reference is as long as the text,
        so there is no brevity penalty.

        Exact and fast: BLEU against a span is at most BLEU against its whole reference with no brevity
        penalty (clipped counts can only fall when words are removed), so references are visited in
        order of that bound, each by a sliding window over its spans, until the bound cannot beat the best."""
        h = len(hypothesis)
        matches = self.clipped_matches(hypothesis)
        if h == 0 or not matches[:, 0].any():
            return 0.0, -1
        totals = [max(0, h - n + 1) for n in range(1, self.order + 1)]
        den = np.maximum(np.array(totals, dtype=np.float64), 1.0)
        prec = np.where(matches == 0, BLEU_EPSILON / den, matches / den)
        bound = np.where(matches[:, 0] > 0, np.exp(np.log(prec).sum(axis=1) / self.order), 0.0)
        hyp_counts = [ngram_counts(hypothesis, n) for n in range(1, self.order + 1)]
        best, best_ref = 0.0, -1
        for r in np.argsort(-bound, kind="stable"):
            if bound[r] <= best + 1e-12 or bound[r] == 0.0:
                break
            score = _best_span_bleu(hyp_counts, totals, h, self.references[r])
            if score > best:
                best, best_ref = score, int(r)
        return best, best_ref


def _best_span_bleu(hyp_counts: list[Counter], totals: list[int], h: int, reference: Sequence) -> float:
    """The highest BLEU of a hypothesis (its n-gram counts per order, h words) against the spans of h
    consecutive words of `reference` (the whole reference where it is shorter), sliding one word at a time
    and updating each order's clipped matches as one n-gram leaves the span and one enters."""
    m = len(reference)
    width = min(h, m)
    order = len(hyp_counts)
    span: list[Counter] = [Counter() for _ in range(order)]
    clipped = [0] * order

    def add(n_idx: int, gram: tuple, step: int) -> None:
        cap = hyp_counts[n_idx].get(gram, 0)
        if cap:
            before = min(span[n_idx][gram], cap)
            span[n_idx][gram] += step
            clipped[n_idx] += min(span[n_idx][gram], cap) - before

    for n_idx in range(order):
        n = n_idx + 1
        for i in range(width - n + 1):
            add(n_idx, tuple(reference[i:i + n]), 1)
    best = bleu_from_stats(clipped, totals, h, width)
    for start in range(1, m - width + 1):  # the span [start, start + width)
        for n_idx in range(order):
            n = n_idx + 1
            if width >= n:
                add(n_idx, tuple(reference[start - 1:start - 1 + n]), -1)
                add(n_idx, tuple(reference[start + width - n:start + width]), 1)
        best = max(best, bleu_from_stats(clipped, totals, h, width))
    return best


# ------------------------------------------------------------------------------ overlap with training data
class SubstringIndex:
    """A suffix automaton of a set of token sequences: `longest_match(seq)` is the length of the longest
    contiguous run of `seq` that occurs contiguously inside one of them, in O(len(seq)).

    The sequences are joined with a distinct negative separator after each, so no match can span two
    of them (token ids are >= 0)."""

    def __init__(self, sequences: Iterable[Sequence[int]]):
        self.link = [-1]
        self.length = [0]
        self.next: list[dict] = [{}]
        self._last = 0
        for k, seq in enumerate(sequences):
            for token in seq:
                if token < 0:
                    raise ValueError(f"token ids must be >= 0, got {token}")
                self._extend(token)
            self._extend(-1 - k)

    def _extend(self, c) -> None:
        link, length, nxt = self.link, self.length, self.next
        cur = len(length)
        length.append(length[self._last] + 1)
        link.append(0)
        nxt.append({})
        p = self._last
        while p != -1 and c not in nxt[p]:
            nxt[p][c] = cur
            p = link[p]
        if p != -1:
            q = nxt[p][c]
            if length[p] + 1 == length[q]:
                link[cur] = q
            else:
                clone = len(length)
                length.append(length[p] + 1)
                link.append(link[q])
                nxt.append(dict(nxt[q]))
                while p != -1 and nxt[p].get(c) == q:
                    nxt[p][c] = clone
                    p = link[p]
                link[q] = link[cur] = clone
        self._last = cur

    def longest_match(self, seq: Sequence[int]) -> int:
        link, length, nxt = self.link, self.length, self.next
        state, run, best = 0, 0, 0
        for c in seq:
            while state and c not in nxt[state]:
                state = link[state]
                run = length[state]
            if c in nxt[state]:
                state = nxt[state][c]
                run += 1
                best = max(best, run)
        return best


def longest_match_bruteforce(seq: Sequence[int], sequences: Iterable[Sequence[int]]) -> int:
    """The same quantity as SubstringIndex.longest_match, by comparing every pair of start positions."""
    best = 0
    for other in sequences:
        for i in range(len(seq)):
            for j in range(len(other)):
                k = 0
                while i + k < len(seq) and j + k < len(other) and seq[i + k] == other[j + k]:
                    k += 1
                best = max(best, k)
    return best


# ------------------------------------------------------------------------------------------ repetition
def rep_counts(tokens: Sequence, n: int) -> tuple[int, int]:
    """(distinct n-grams, all n-grams) of one text (SimCTG's rep-n = 1 - distinct / all)."""
    grams = [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    return len(set(grams)), len(grams)


def rep_n(tokens: Sequence, n: int) -> float:
    unique, total = rep_counts(tokens, n)
    return 1 - unique / total if total else math.nan


def pooled_rep(unique: Iterable[int], total: Iterable[int]) -> float:
    """rep-n of a set of texts, the one definition every table uses (SimCTG, Su et al. 2022, as its
    measure_repetition_and_diversity computes it): 1 - (sum over texts of each text's distinct n-grams) / (sum over
    texts of its n-grams), from the per-text counts of rep_counts. Pooled, so a long text weighs by its n-grams and a
    text with no n-gram adds nothing; NaN where no text has one. On a 0-1 scale (SimCTG reports x 100); unlike
    SimCTG's code (`while end_idx < len(token_list)`), every n-gram counts, the last one of each text included."""
    u, t = list(unique), list(total)
    if len(u) != len(t):
        raise ValueError("rep-n needs one distinct count and one total count per text")
    n = sum(t)
    return 1 - sum(u) / n if n else math.nan


def rep_columns(metrics) -> dict[str, float]:
    """rep{n} for n in REP_ORDERS (pooled_rep) from a per-text metrics table's unique{n} and total{n} columns."""
    return {f"rep{n}": pooled_rep(metrics[f"unique{n}"], metrics[f"total{n}"]) for n in REP_ORDERS}


REP_NOTE = ("rep-n (SimCTG's, pooled): 1 - distinct n-grams / all n-grams of each text's whitespace-separated words, "
            "both summed over the texts before dividing (texts weigh by their n-grams; SimCTG's code leaves out each "
            "text's last n-gram, here every one counts; a 0-1 scale where SimCTG reports x 100)")


def diversity(reps: Iterable[float]) -> float:
    """Product over n of (1 - rep-n)."""
    return math.prod(1 - r for r in reps)


def gzip_ratio(text: str) -> float:
    """UTF-8 bytes / gzip-compressed bytes (level 9, no timestamp); repetitive text compresses more."""
    raw = text.encode("utf-8")
    return len(raw) / len(gzip.compress(raw, compresslevel=9, mtime=0))


# ------------------------------------------------------------------------------------------- per text
def words(text: str) -> list[str]:
    """BLEU and rep-n tokens: the whitespace-separated words of the decoded text."""
    return text.split()


def text_metrics(records: list[dict], train_ids: list[list[int]], train_texts: list[str], ttr_window: int,
                 progress=None) -> list[dict]:
    """Per generated text (records of one generation file): TTR of the last `ttr_window` generated token
    ids and of all of them, Self-BLEU against the file's other texts, Dataset BLEU (the best span of one
    training window), longest overlap with the training windows in token ids, rep-n counts and values, diversity
    and gzip ratio."""
    from .metrics import ttr

    gen_words = [words(r["text"]) for r in records]
    selfb = self_bleu(gen_words)
    ref_index = ReferenceIndex([words(t) for t in train_texts])
    sub_index = SubstringIndex(train_ids)
    rows = []
    for r, w, sb in zip(records, gen_words, selfb):
        dbleu, window = ref_index.max_span_bleu(w)
        row = {"domain": r["domain"], "index": r["index"], "n_tokens": len(r["generated_ids"]),
               "ttr": ttr(r["generated_ids"], ttr_window), "ttr_full": ttr(r["generated_ids"]), "n_words": len(w),
               "self_bleu": sb, "dataset_bleu": dbleu, "dataset_bleu_window": window,
               "overlap": sub_index.longest_match(r["generated_ids"])}
        reps = []
        for n in REP_ORDERS:
            unique, total = rep_counts(w, n)
            row[f"unique{n}"], row[f"total{n}"] = unique, total
            reps.append(1 - unique / total if total else math.nan)
            row[f"rep{n}"] = reps[-1]
        row["diversity"] = diversity(reps)
        row["gzip_ratio"] = gzip_ratio(r["text"])
        rows.append(row)
        if progress is not None:
            progress.update(1)
    return rows
