"""Self-BLEU speed: the project's exact fast BLEU vs a loop of nltk's sentence_bleu.

300 texts of 96 whitespace tokens cut from gensim's news test corpus (lee_background.cor); each text is
scored against the other 299 (BLEU-4, method1 smoothing). Checks that both give the same values to 1e-9
and prints the speed ratio. Run: .venv/bin/python bench/bleu_speed.py
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time


from hyperfit.overlap import self_bleu  # noqa: E402


def news_texts(count: int, length: int) -> list[list[str]]:
    """Consecutive `length`-word pieces of the news corpus."""
    from gensim.test.utils import datapath

    with open(datapath("lee_background.cor"), encoding="latin-1") as fh:
        words = fh.read().split()
    if len(words) < count * length:
        sys.exit(f"the corpus has {len(words)} words, fewer than {count} x {length}")
    return [words[i * length:(i + 1) * length] for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=300)
    parser.add_argument("--tokens", type=int, default=96)
    parser.add_argument("--repeats", type=int, default=5, help="runs of the fast version (median reported)")
    args = parser.parse_args()
    try:
        from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
    except ImportError:
        print("nltk is not installed (pip install -r requirements-test.txt): no reference to compare against")
        return

    texts = news_texts(args.texts, args.tokens)
    fast_times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        fast = self_bleu(texts)
        fast_times.append(time.perf_counter() - start)
    fast_s = statistics.median(fast_times)

    smoothing = SmoothingFunction().method1
    start = time.perf_counter()
    slow = [sentence_bleu(texts[:i] + texts[i + 1:], t, smoothing_function=smoothing) for i, t in enumerate(texts)]
    slow_s = time.perf_counter() - start

    diff = max(abs(a - b) for a, b in zip(fast, slow))
    identical = sum(a == b for a, b in zip(fast, slow))
    print(f"Self-BLEU-4 of {len(texts)} texts x {args.tokens} tokens (each vs the other {len(texts) - 1})")
    print(f"  nltk sentence_bleu loop: {slow_s:.2f} s (one run)")
    print(f"  fast exact:              {fast_s:.3f} s (median of {args.repeats})")
    print(f"  mean Self-BLEU {statistics.fmean(fast):.6f}; max |fast - nltk| = {diff:.1e}; "
          f"bit-identical {identical}/{len(texts)}")
    print(f"  speed ratio: {slow_s / fast_s:.0f}x (target >= 50x)")
    assert diff <= 1e-9, f"fast Self-BLEU differs from nltk by {diff}"


if __name__ == "__main__":
    main()
