"""Per-token views of generated texts: repeat lengths (Figure 1) and TTR by position (Figure 9)."""
from __future__ import annotations

from typing import Sequence

from .errors import UserError
from .metrics import ttr


def repeat_lengths(ids: Sequence[int]) -> list[int]:
    """For each position i, the length of the longest earlier repeat ending at i.

    That is the largest L such that ids[i-L+1 : i+1] also occurs as ids[j-L+1 : j+1] for some j < i
    (the earlier occurrence may overlap the current one, as in LZ77). 0 means the token never occurred
    before; 1 means the token did, but not together with the token before it; and so on.
    """
    seq = list(ids)
    out: list[int] = []
    # prev[j] = length of the common suffix of seq[:i] and seq[:j+1] for the previous i (j < i - 1)
    prev: list[int] = []
    for i, tok in enumerate(seq):
        cur = [0] * i
        best = 0
        for j in range(i):
            if seq[j] == tok:
                cur[j] = (prev[j - 1] if j > 0 else 0) + 1
                if cur[j] > best:
                    best = cur[j]
        out.append(best)
        prev = cur
    return out


def window_positions(length: int, step: int) -> list[int]:
    """Positions (numbers of generated tokens) at which Figure 9 measures: step, 2 step, ..., and length."""
    if length < 1 or step < 1:
        raise ValueError("length and step must be positive")
    positions = list(range(step, length + 1, step))
    if not positions or positions[-1] != length:
        positions.append(length)
    return positions


def ttr_by_position(ids: Sequence[int], window: int, positions: Sequence[int]) -> list[float]:
    """TTR of the trailing `window` generated tokens at each position t (the tokens ids[t-window : t]);
    before t reaches the window, the window is the t tokens generated so far."""
    seq = list(ids)
    out = []
    for t in positions:
        if not 1 <= t <= len(seq):
            raise ValueError(f"position {t} is outside a sequence of {len(seq)} tokens")
        out.append(ttr(seq[:t], window))
    return out


def token_pieces(tokenizer, ids: Sequence[int]) -> list[str]:
    """The text each token adds when the whole sequence is decoded, so "".join(pieces) == decode(ids).

    A token that only starts a multi-byte character gets "" and the token completing it gets the whole
    character (decoding single tokens would show replacement characters instead).
    """
    ids = list(ids)
    pieces: list[str] = []
    done = ""
    for i in range(len(ids)):
        cur = tokenizer.decode(ids[:i + 1])
        if cur.endswith("\ufffd") and i < len(ids) - 1:
            pieces.append("")
            continue
        if cur.startswith(done):
            pieces.append(cur[len(done):])
        else:  # decoding changed earlier text (clean-up rules): attribute the difference to this token
            common = 0
            while common < min(len(cur), len(done)) and cur[common] == done[common]:
                common += 1
            pieces.append(cur[common:])
            pieces[:-1] = _trim_to(pieces[:-1], common)
        done = cur
    return pieces


def _trim_to(pieces: list[str], length: int) -> list[str]:
    """Shorten the trailing pieces so that they join to exactly `length` characters."""
    out, used = [], 0
    for p in pieces:
        keep = max(0, min(len(p), length - used))
        out.append(p[:keep])
        used += keep
    return out


def find_text(rows: list[dict], domain: str, index: int) -> dict:
    """The generation record of evaluation text `index` of `domain`."""
    for row in rows:
        if row["domain"] == domain and int(row["index"]) == index:
            return row
    raise UserError(f"no generated text {domain}/{index}: set figure1.domain and figure1.text to an evaluation text")


def figure1_panel(tokenizer, context: Sequence[int], generated: Sequence[int]) -> dict:
    """One panel of Figure 1: the text of each context and generated token, and for each generated token
    its repeat length within context + continuation."""
    ids = list(context) + list(generated)
    pieces = token_pieces(tokenizer, ids)
    repeats = repeat_lengths(ids)
    c = len(context)
    gen_repeats = repeats[c:]
    n = len(gen_repeats)
    return {
        "context_ids": list(context), "context_pieces": pieces[:c],
        "generated_ids": list(generated), "generated_pieces": pieces[c:], "repeat_lengths": gen_repeats,
        "mean_repeat_length": sum(gen_repeats) / n if n else 0.0,
        "share_repeat_ge4": sum(r >= 4 for r in gen_repeats) / n if n else 0.0,
        "ttr": ttr(generated) if n else 0.0,
    }


def ttr_position_rows(texts: Sequence[tuple[str, Sequence[int]]], window: int, step: int) -> list[dict]:
    """Figure 9's data for one generation file: per position, the mean (and standard deviation) over
    texts of the trailing-window TTR, for all texts ("all") and per domain. `texts` holds (domain, ids)
    pairs of equal length; `full_window` says whether the window already holds `window` tokens."""
    import numpy as np

    lengths = {len(ids) for _, ids in texts}
    if len(lengths) != 1:
        raise ValueError(f"generated texts differ in length ({sorted(lengths)}); expected one fixed length")
    positions = window_positions(lengths.pop(), step)
    curves = np.array([ttr_by_position(ids, window, positions) for _, ids in texts])
    domains = np.array([d for d, _ in texts])
    rows = []
    for group in ["all", *sorted(set(domains))]:
        part = curves if group == "all" else curves[domains == group]
        for k, t in enumerate(positions):
            values = part[:, k]
            rows.append({"domain": group, "position": t, "window_tokens": min(t, window),
                         "full_window": t >= window, "texts": len(values), "ttr_mean": float(values.mean()),
                         "ttr_sd": float(values.std(ddof=1)) if len(values) > 1 else 0.0})
    return rows
