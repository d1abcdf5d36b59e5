"""The citation blocker: greedy decoding that may not repeat longer subsequences of the hyperfitting data.

Rule (n = the blocker's n-gram order, 5 by default). At every step of a row, let p be the last n-1 tokens
of that row (context and generated tokens alike). A candidate token c is *blocked* when p + (c,) is an n-gram
of some training window, i.e. choosing c would complete an n-gram present in the training data. Blocked
tokens get a score of -inf, so greedy decoding takes the highest-ranked unblocked token.

Word-boundary variant (word_boundary=True, the paper's "applied at word boundaries"): the same rule, but
only candidates that *start a new word* can be blocked, where a token starts a new word when its surface
text begins with whitespace (a space, newline, tab or carriage return; see `word_start_ids`). A token that
continues the current word or is punctuation attached to it is never blocked, so the blocker never forces
a misspelt word; a citation can still not go on, because its next word must begin with a word-start token.

Cost: the index maps each (n-1)-token prefix to the tuple of its blocked next tokens (already filtered to
word starts in the word-boundary variant), so one step costs one tail copy for the batch and one dict
lookup per row; a -inf assignment happens only for rows whose prefix occurs in the training data.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Sequence

# Surface markers of a leading whitespace character in token strings: byte-level BPE writes the bytes
# space, newline, tab and carriage return as these characters (GPT-2's bytes-to-unicode table);
# SentencePiece writes a leading space as U+2581; byte-fallback tokens spell whitespace bytes as <0x..>.
_BYTE_LEVEL_WHITESPACE = ("\u0120", "\u010a", "\u0109", "\u010d")  # Ġ Ċ ĉ č
_SENTENCEPIECE_SPACE = "\u2581"  # ▁
_BYTE_FALLBACK_WHITESPACE = ("<0x20>", "<0x0A>", "<0x09>", "<0x0D>")


def blocker_spec(decoding: dict) -> dict | None:
    """A decoding's blocker settings ({"ngram", "word_boundary"}), or None when it has no blocker."""
    spec = decoding.get("blocker") or {}
    if spec.get("ngram") is None:
        return None
    return {"ngram": int(spec["ngram"]), "word_boundary": bool(spec.get("word_boundary", True))}


def starts_word(piece: str) -> bool:
    """True when a token string (as in the tokenizer's vocabulary) begins with whitespace."""
    return (piece.startswith(_BYTE_LEVEL_WHITESPACE) or piece.startswith(_SENTENCEPIECE_SPACE)
            or piece in _BYTE_FALLBACK_WHITESPACE or piece[:1].isspace())


def word_start_ids(tokenizer) -> set[int]:
    """Ids of the tokens that start a new word (leading whitespace); special tokens never do."""
    special = set(tokenizer.all_special_ids)
    pieces = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    return {i for i, p in enumerate(pieces) if p is not None and i not in special and starts_word(p)}


def ngram_index(sequences: Iterable[Sequence[int]], n: int,
                blockable: set[int] | None = None) -> dict[tuple[int, ...], tuple[int, ...]]:
    """Map every (n-1)-gram of the sequences to the sorted tokens that follow it somewhere in them.

    With `blockable`, only those followers are kept (prefixes left with none are dropped): the index of
    the word-boundary variant.
    """
    if n < 2:
        raise ValueError(f"the blocker's n-gram order must be at least 2, got {n}")
    k = n - 1
    follow: dict[tuple[int, ...], set[int]] = defaultdict(set)
    for seq in sequences:
        seq = list(seq)
        for i in range(len(seq) - k):
            nxt = seq[i + k]
            if blockable is None or nxt in blockable:
                follow[tuple(seq[i:i + k])].add(nxt)
    return {prefix: tuple(sorted(toks)) for prefix, toks in follow.items()}


def blocked_tokens(index: dict[tuple[int, ...], tuple[int, ...]], n: int, ids: Sequence[int]) -> tuple[int, ...]:
    """The tokens the blocker forbids after `ids` (empty when fewer than n-1 tokens are known)."""
    k = n - 1
    if len(ids) < k:
        return ()
    return index.get(tuple(ids[len(ids) - k:]), ())


class CitationBlocker:
    """A logits processor for transformers' generate (put it in a LogitsProcessorList; it follows the
    LogitsProcessor call protocol, input_ids [B, T] and scores [B, V] -> scores) applying the rule above.
    torch is imported on the first call only, so reading blocker settings stays light.

    Counters for the log: `steps` (row-steps seen), `hits` (row-steps where at least one candidate was
    blocked) and `changed` (row-steps where the highest-scoring token itself was blocked, i.e. where the
    blocker changed the greedy choice).
    """

    def __init__(self, index: dict[tuple[int, ...], tuple[int, ...]], n: int):
        if n < 2:
            raise ValueError(f"the blocker's n-gram order must be at least 2, got {n}")
        self.index = index
        self.n = n
        self.steps = self.hits = self.changed = 0

    @classmethod
    def from_training(cls, sequences: Iterable[Sequence[int]], n: int, word_boundary: bool = False,
                      tokenizer=None) -> "CitationBlocker":
        blockable = None
        if word_boundary:
            if tokenizer is None:
                raise ValueError("the word-boundary variant needs the tokenizer (to find word-start tokens)")
            blockable = word_start_ids(tokenizer)
        return cls(ngram_index(sequences, n, blockable), n)

    def __call__(self, input_ids, scores):
        import torch

        k = self.n - 1
        self.steps += input_ids.shape[0]
        if input_ids.shape[1] < k:
            return scores
        get = self.index.get
        hits = [(r, blocked) for r, tail in enumerate(input_ids[:, -k:].tolist()) if (blocked := get(tuple(tail)))]
        if not hits:
            return scores
        self.hits += len(hits)
        dev = scores.device
        rows, cols, segment = torch.tensor([(r, t, i) for i, (r, blocked) in enumerate(hits) for t in blocked],
                                           device=dev).unbind(1)
        # The greedy choice changes where a blocked token holds the row's maximum (amax is much cheaper
        # than argmax on CPU); one host sync for the count.
        row_max = scores.index_select(0, torch.tensor([r for r, _ in hits], device=dev)).amax(-1)
        blocked_max = torch.full_like(row_max, float("-inf")).scatter_reduce(0, segment, scores[rows, cols], "amax")
        self.changed += int((blocked_max >= row_max).sum())
        scores[rows, cols] = float("-inf")  # in place, as transformers' own processors may do
        return scores
