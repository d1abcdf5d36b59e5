"""Repetition and overlap metrics against hand-worked values, nltk (BLEU oracle) and brute force."""
import gzip
import math
import random

import pandas as pd
import pytest
from hyperfit.overlap import (ReferenceIndex, SubstringIndex, bleu_from_stats, closest_length, diversity,
                              gzip_ratio, longest_match_bruteforce, rep_counts, rep_n, self_bleu, text_metrics)
from hyperfit.tables import table2, table2_notes
from nltk.translate.bleu_score import SmoothingFunction
from nltk.translate.bleu_score import sentence_bleu as nltk_sentence_bleu

METHOD1 = SmoothingFunction().method1


def bleu(references, hypothesis):
    """Our BLEU of one hypothesis against its references: Self-BLEU of the hypothesis among them."""
    return self_bleu([hypothesis, *references])[0]


# ----------------------------------------------------------------------------------------- BLEU by hand
def test_bleu_identical_text_is_one():
    assert bleu([["a", "b", "c", "d"]], ["a", "b", "c", "d"]) == pytest.approx(1.0)


def test_bleu_clipping_and_smoothing_by_hand():
    # hyp "a a a" vs "a": unigrams 1 clipped of 3; bigrams 0 of 2 -> 0.1/2; trigrams 0 of 1 -> 0.1/1;
    # 4-grams: none in the hypothesis -> 0.1/1. hyp longer than ref: no brevity penalty.
    expected = (1 / 3 * 0.1 / 2 * 0.1 * 0.1) ** 0.25
    assert bleu([["a"]], ["a", "a", "a"]) == pytest.approx(expected, abs=1e-15)


def test_bleu_brevity_penalty_by_hand():
    # hyp "a b" vs "a b c d": p1 = 1, p2 = 1, p3 = p4 = 0.1 (no n-grams); BP = exp(1 - 4/2)
    expected = math.exp(-1) * (0.1 * 0.1) ** 0.25
    assert bleu([["a", "b", "c", "d"]], ["a", "b"]) == pytest.approx(expected, abs=1e-15)


def test_bleu_multi_reference_clipping_by_hand():
    # "the" x4 vs refs "the cat", "the the": unigram cap = max(1, 2) = 2 -> 2/4; bigram "the the" cap 1 -> 1/3;
    # trigrams 0 of 2 -> 0.1/2; 4-gram 0 of 1 -> 0.1. Closest ref length 2 < 4: no penalty.
    expected = (2 / 4 * 1 / 3 * 0.1 / 2 * 0.1) ** 0.25
    assert bleu([["the", "cat"], ["the", "the"]], ["the"] * 4) == pytest.approx(expected, abs=1e-15)


def test_bleu_no_unigram_match_and_empty_hypothesis_are_zero():
    assert bleu([["a", "b"]], ["c", "d"]) == 0.0
    assert bleu([["a", "b"]], []) == 0.0
    assert ReferenceIndex([["a"], ["b"]]).max_span_bleu(["c"]) == (0.0, -1)
    assert bleu_from_stats([0, 0, 0, 0], [3, 2, 1, 0], 3, 3) == 0.0


def test_closest_length_prefers_the_shorter_on_a_tie():
    assert closest_length([3, 8], 5) == 3
    assert closest_length([2, 6], 4) == 2
    assert closest_length([6, 2], 4) == 2
    assert closest_length([9, 5, 5], 5) == 5


def test_self_bleu_by_hand():
    texts = [["a", "b"], ["a", "b"], ["c", "d"]]
    scores = self_bleu(texts)
    # "a b" vs {"a b", "c d"}: p1 = p2 = 1, p3 = p4 = 0.1, equal lengths: BP = 1 -> sqrt(0.1)
    assert scores[0] == pytest.approx(math.sqrt(0.1), abs=1e-15)
    assert scores[1] == scores[0]  # the duplicate finds its twin among the others, not itself
    assert scores[2] == 0.0        # "c d" shares no word with the others
    assert all(math.isnan(s) for s in self_bleu([["only", "one"]]))


def test_self_bleu_excludes_the_text_itself():
    # Text 0 holds the only "x y" pair: against the others its bigram precision is 0 (smoothed), not 1.
    texts = [["x", "y"], ["x", "z"], ["y", "x"]]
    expected = (1.0 * 0.1 / 1 * 0.1 * 0.1) ** 0.25  # p1 = 2/2, p2 = 0.1/1, p3 = p4 = 0.1
    assert self_bleu(texts)[0] == pytest.approx(expected, abs=1e-15)


# --------------------------------------------------------------------------------------- nltk oracle
def random_texts(rng, k, vocab, max_len):
    return [[rng.choice(vocab) for _ in range(rng.randint(0, max_len))] for _ in range(k)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_self_bleu_equals_nltk(seed):
    rng = random.Random(seed)
    texts = random_texts(rng, 30, list("abcdefgh")[: 3 + seed * 2], 14)
    texts += [texts[0], []]  # a duplicate and an empty text
    fast = self_bleu(texts)
    for i, hyp in enumerate(texts):
        oracle = nltk_sentence_bleu(texts[:i] + texts[i + 1:], hyp, smoothing_function=METHOD1)
        assert fast[i] == pytest.approx(oracle, abs=1e-9)


def span_oracle(reference, hyp):
    """nltk's BLEU of hyp against every span of len(hyp) words of the reference (the whole one if shorter)."""
    width = min(len(hyp), len(reference))
    return max(nltk_sentence_bleu([reference[s:s + width]], hyp, smoothing_function=METHOD1)
               for s in range(len(reference) - width + 1))


@pytest.mark.parametrize("seed", [0, 1])
def test_dataset_bleu_equals_nltk_max_over_spans(seed):
    rng = random.Random(seed)
    vocab = list("abcdef")
    refs = [r for r in random_texts(rng, 25, vocab, 20) if r]
    index = ReferenceIndex(refs)
    for hyp in [h for h in random_texts(rng, 25, vocab, 16) if h]:
        oracle = [span_oracle(r, hyp) for r in refs]
        best, window = index.max_span_bleu(hyp)
        assert best == pytest.approx(max(oracle), abs=1e-9)
        assert oracle[window] == pytest.approx(max(oracle), abs=1e-9)


def test_dataset_bleu_of_a_verbatim_copy_is_one():
    # 96 words copied from inside a 190-word window: against the whole window the brevity penalty alone would be
    # exp(1 - 190/96) = 0.37; against the best span of the text's own length it is the copy itself
    rng = random.Random(3)
    window = [f"w{rng.randrange(500)}" for _ in range(190)]
    others = [[f"v{rng.randrange(500)}" for _ in range(190)] for _ in range(20)]
    index = ReferenceIndex([*others, window])
    assert index.max_span_bleu(window[50:146]) == (1.0, 20)
    assert nltk_sentence_bleu([window], window[50:146], smoothing_function=METHOD1) < 0.4


# ------------------------------------------------------------------------------------------- overlap
def test_longest_match_by_hand():
    index = SubstringIndex([[1, 2, 3, 4, 5], [9, 8, 7]])
    assert index.longest_match([0, 2, 3, 4, 9, 8, 7, 6]) == 3
    assert index.longest_match([4, 5, 9, 8]) == 2  # "5 9" only exists across the window boundary
    assert index.longest_match([1, 2, 3, 4, 5]) == 5
    assert index.longest_match([6, 0]) == 0
    assert index.longest_match([]) == 0
    assert index.longest_match([3, 3, 3]) == 1


def test_longest_match_rejects_negative_ids():
    with pytest.raises(ValueError):
        SubstringIndex([[1, -2]])


@pytest.mark.parametrize("seed", range(4))
def test_longest_match_equals_bruteforce(seed):
    rng = random.Random(seed)
    vocab = 2 + seed  # small vocabularies give long, repeated matches
    windows = [[rng.randrange(vocab) for _ in range(rng.randint(1, 30))] for _ in range(6)]
    index = SubstringIndex(windows)
    for _ in range(40):
        seq = [rng.randrange(vocab + 1) for _ in range(rng.randint(0, 25))]
        assert index.longest_match(seq) == longest_match_bruteforce(seq, windows)


# ---------------------------------------------------------------------------------- repetition, gzip
def test_rep_n_and_diversity_by_hand():
    text = "a b a b a".split()
    assert rep_counts(text, 2) == (2, 4)           # ab ba ab ba
    assert rep_n(text, 2) == pytest.approx(0.5)
    assert rep_n(text, 3) == pytest.approx(1 / 3)  # aba bab aba
    assert rep_n(text, 4) == 0.0                   # abab baba
    assert diversity([0.5, 1 / 3, 0.0]) == pytest.approx(1 / 3)
    assert math.isnan(rep_n(["a"], 2))


def test_gzip_ratio():
    assert gzip_ratio("") == 0.0  # empty input still costs gzip's 20 bytes of header and trailer
    assert len(gzip.compress(b"", compresslevel=9, mtime=0)) == 20
    repetitive = "the cat sat on the mat. " * 20
    rng = random.Random(0)
    varied = " ".join("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(5)) for _ in range(80))
    assert gzip_ratio(repetitive) > 5 > gzip_ratio(varied) > 1
    assert gzip_ratio(repetitive) == gzip_ratio(repetitive)  # no timestamp in the stream


# ---------------------------------------------------------------------------------- per text, Table 2
def test_text_metrics_by_hand():
    records = [{"domain": "news", "index": 0, "text": "a b a b", "generated_ids": [1, 2, 3, 4, 7]},
               {"domain": "news", "index": 1, "text": "c d", "generated_ids": [5, 6]}]
    rows = text_metrics(records, train_ids=[[2, 3, 4, 8], [5]], train_texts=["x a b", "c"], ttr_window=4)
    first, second = rows
    assert (first["ttr"], first["ttr_full"], second["ttr"]) == (1.0, 1.0, 1.0)  # [2, 3, 4, 7]; [1..7]; [5, 6]
    assert first["overlap"] == 3 and second["overlap"] == 1
    assert first["n_words"] == 4 and first["n_tokens"] == 5
    assert first["self_bleu"] == 0.0  # no word of "a b a b" in "c d"
    # "c d" vs training window "c" (shorter than the text: the whole window): p1 = 1/2, p2 = 0.1/1,
    # p3 = p4 = 0.1 (no n-grams), BP = 1 (2 > 1)
    assert second["dataset_bleu"] == pytest.approx((0.5 * 0.1 * 0.1 * 0.1) ** 0.25, abs=1e-15)
    assert second["dataset_bleu_window"] == 1
    assert (first["unique2"], first["total2"], first["rep2"]) == (2, 3, pytest.approx(1 / 3))
    assert first["rep3"] == 0.0 and first["rep4"] == 0.0  # aba bab; abab
    assert first["diversity"] == pytest.approx(2 / 3)


def test_table2_pools_rep_n_and_counts_long_overlaps():
    df = pd.DataFrame({"self_bleu": [0.2, 0.4], "dataset_bleu": [0.1, 0.3], "overlap": [3, 12],
                       "unique2": [2, 4], "total2": [4, 4], "unique3": [1, 3], "total3": [3, 3],
                       "unique4": [2, 2], "total4": [2, 2], "gzip_ratio": [1.0, 2.0]})
    row = table2({("m", "hyperfitted", "greedy", 96): df}, threshold=10).iloc[0]
    assert row["self_bleu"] == pytest.approx(0.3) and row["dataset_bleu"] == pytest.approx(0.2)
    assert (row["overlap_mean"], row["overlap_max"], row["overlap_share_gt10"]) == (7.5, 12, 0.5)
    assert row["rep2"] == pytest.approx(1 - 6 / 8)  # pooled, not the mean of 0.5 and 0
    assert row["rep3"] == pytest.approx(1 - 4 / 6) and row["rep4"] == 0.0
    assert row["diversity"] == pytest.approx(0.75 * (4 / 6))
    assert row["gzip_ratio"] == pytest.approx(1.5) and row["texts"] == 2
    assert "overlap_share_gt5" in table2({("m", "o", "g", 1): df}, threshold=5)
    notes = table2_notes(10)
    assert "method1" in notes and "whitespace" in notes and "exceeds 10 tokens" in notes
