"""Figure 1 (HTML and PNG) and Figure 9 drawn from small hand-made data."""
import html

import pandas as pd
import pytest
from hyperfit.plots import save
from hyperfit.textfigures import REPEAT_COLOURS, figure1_html, figure1_png, figure9, layout_lines, repeat_class


def test_repeat_class_bounds():
    assert [repeat_class(n) for n in (0, 1, 2, 3, 4, 7, 8, 15, 16, 300)] == [0, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    with pytest.raises(ValueError):
        repeat_class(-1)


def test_layout_lines_wraps_and_breaks_at_newlines():
    lines = layout_lines([("abc", None), (" defg", 0), ("\nxy", 2), ("z" * 7, 1)], width=6)
    # "abc" fits, " defg" (5) does not fit after 3 columns -> next line; "\n" breaks after its mark;
    # 7 z's do not fit after "xy" -> next line, and are longer than a line -> split
    assert lines == [[(0, "abc", None)], [(0, " defg", 0), (5, "\u21b5", 2)], [(0, "xy", 2)],
                     [(0, "zzzzzz", 1)], [(0, "z", 1)]]


def panel(gen_pieces, repeats):
    return {"context_pieces": ["<ctx>", " & ctx"], "generated_pieces": gen_pieces, "repeat_lengths": repeats,
            "mean_repeat_length": sum(repeats) / len(repeats), "share_repeat_ge4": 0.25, "ttr": 0.5}


DATA = {"domain": "fiction", "text": 0, "decoding": "greedy", "length": 4, "context_len": 2,
        "models": {"m": {"original": panel([" a", " $b$", "\n", " <i>"], [0, 0, 1, 9]),
                         "hyperfitted": panel([" a", " b", " c", " d"], [0, 0, 0, 4])}}}


def test_figure1_html_escapes_and_colours():
    page = figure1_html(DATA)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "&lt;ctx&gt; &amp; ctx" in page and "&lt;i&gt;" in page and " <i>" not in page
    # the token with repeat length 9 gets class 4's colour, the one with 4 class 3's; all classes in the legend
    assert f'background:{REPEAT_COLOURS[4]};color:#ffffff" title="repeat length 9"' in page
    assert f'background:{REPEAT_COLOURS[3]};color:#000000" title="repeat length 4"' in page
    assert all(f"background:{c}" in page for c in REPEAT_COLOURS)
    assert page.count('title="repeat length') == 8
    assert html.escape("m, original, greedy") in page


def test_figure1_png_and_figure9_render(tmp_path):
    save(figure1_png(DATA), tmp_path / "f1.png")
    assert (tmp_path / "f1.png").stat().st_size > 2000
    rows = [{"model": "m", "variant": v, "decoding": "greedy", "length": 12, "domain": "all", "position": t,
             "window_tokens": min(t, 8), "full_window": t >= 8, "texts": 3, "ttr_mean": 0.5 + 0.01 * t,
             "ttr_sd": 0.1} for v in ("original", "hyperfitted") for t in (4, 8, 12)]
    save(figure9(pd.DataFrame(rows), 8), tmp_path / "f9.png", tmp_path / "f9.pdf")
    assert (tmp_path / "f9.png").stat().st_size > 2000 and (tmp_path / "f9.pdf").stat().st_size > 1000
