"""Repeat lengths (Figure 1) and TTR by position (Figure 9) against hand-worked values."""
import pytest
from hyperfit.modeling import load_tokenizer
from hyperfit.texts import (figure1_panel, repeat_lengths, token_pieces, ttr_by_position, ttr_position_rows,
                            window_positions)


def test_repeat_lengths_hand_worked():
    #        a  b  c  a  b  c  d  a  b
    seq = [1, 2, 3, 1, 2, 3, 4, 1, 2]
    # pos 3: "a" seen before, "c a" not -> 1; pos 4: "a b" seen -> 2; pos 5: "a b c" seen, "c a b c" not -> 3
    # pos 6: "d" new -> 0; pos 7: "a" seen, "d a" not -> 1; pos 8: "a b" seen, "d a b" not -> 2
    assert repeat_lengths(seq) == [0, 0, 0, 1, 2, 3, 0, 1, 2]


def test_repeat_lengths_overlapping_and_edge_cases():
    # a run of one token: the earlier occurrence may overlap the current one (LZ77-style)
    assert repeat_lengths([7, 7, 7, 7]) == [0, 1, 2, 3]
    # period-2 loop: from the third token on, everything repeats what came two tokens before
    assert repeat_lengths([1, 2, 1, 2, 1, 2]) == [0, 0, 1, 2, 3, 4]
    assert repeat_lengths([]) == []
    assert repeat_lengths([1, 2, 3]) == [0, 0, 0]
    # longest, not latest: "x y z" repeats at the end although "z" alone recurred in between
    assert repeat_lengths([5, 6, 9, 0, 9, 5, 6, 9]) == [0, 0, 0, 0, 1, 1, 2, 3]


def test_window_positions():
    assert window_positions(96, 8) == list(range(8, 97, 8))
    assert window_positions(10, 4) == [4, 8, 10]
    assert window_positions(3, 8) == [3]
    with pytest.raises(ValueError):
        window_positions(0, 1)


def test_ttr_by_position_hand_worked():
    ids = [1, 2, 1, 3, 3, 3]
    # window 3: t=2 -> [1,2] 2/2; t=3 -> [1,2,1] 2/3; t=4 -> [2,1,3] 3/3; t=6 -> [3,3,3] 1/3
    assert ttr_by_position(ids, 3, [2, 3, 4, 6]) == pytest.approx([1.0, 2 / 3, 1.0, 1 / 3])
    # a window longer than the sequence: TTR of the prefix
    assert ttr_by_position(ids, 96, [6]) == pytest.approx([3 / 6])
    with pytest.raises(ValueError):
        ttr_by_position(ids, 3, [7])


def test_ttr_position_rows_means_per_domain():
    texts = [("a", [1, 1, 1, 1]), ("a", [1, 2, 3, 4]), ("b", [1, 2, 1, 2])]
    rows = ttr_position_rows(texts, window=2, step=2)
    got = {(r["domain"], r["position"]): r for r in rows}
    assert set(got) == {(d, t) for d in ("all", "a", "b") for t in (2, 4)}
    # position 2, window 2: TTRs 1/2, 1, 1 ; position 4: [1,1] 1/2, [3,4] 1, [1,2] 1
    assert got[("all", 2)]["ttr_mean"] == pytest.approx((0.5 + 1 + 1) / 3)
    assert got[("a", 4)]["ttr_mean"] == pytest.approx(0.75)
    assert got[("a", 4)]["ttr_sd"] == pytest.approx(0.3535533906)  # sample sd of (0.5, 1)
    assert got[("b", 2)]["texts"] == 1 and got[("b", 2)]["ttr_sd"] == 0.0
    assert got[("all", 2)]["full_window"] and got[("all", 4)]["window_tokens"] == 2
    rows = ttr_position_rows([("a", [1, 2, 3])], window=4, step=2)
    assert [(r["domain"], r["position"], r["window_tokens"], r["full_window"]) for r in rows] == [
        ("all", 2, 2, False), ("all", 3, 3, False), ("a", 2, 2, False), ("a", 3, 3, False)]
    with pytest.raises(ValueError):
        ttr_position_rows([("a", [1, 2]), ("a", [1, 2, 3])], 2, 1)


def test_token_pieces_rejoin_to_the_decoded_text(tiny_model_dir):
    tok = load_tokenizer(str(tiny_model_dir))
    text = "The caf\u00e9 said \u201cno\u201d.\n  Then \U0001F600 ok"
    ids = tok(text).input_ids
    pieces = token_pieces(tok, ids)
    assert len(pieces) == len(ids)
    assert "".join(pieces) == tok.decode(ids) == text
    assert "\ufffd" not in "".join(pieces)
    # the emoji's 4 bytes are split over tokens: the last of them carries the whole character
    assert "\U0001F600" in pieces


def test_figure1_panel(tiny_model_dir):
    tok = load_tokenizer(str(tiny_model_dir))
    context = tok("the police said").input_ids
    generated = tok(" the police said the police").input_ids
    panel = figure1_panel(tok, context, generated)
    assert "".join(panel["context_pieces"] + panel["generated_pieces"]) == tok.decode(context + generated)
    assert panel["repeat_lengths"] == repeat_lengths(context + generated)[len(context):]
    assert panel["repeat_lengths"][-1] >= 2  # " the police" repeats
    assert panel["mean_repeat_length"] == pytest.approx(sum(panel["repeat_lengths"]) / len(generated))
