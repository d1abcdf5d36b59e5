"""Figure 1 (texts coloured by repetition, HTML and PNG) and Figure 9 (TTR by position), from result files."""
from __future__ import annotations

import html

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

# Colour classes of a token's repeat length (the longest earlier repeat ending at it): lower bound, label.
REPEAT_CLASSES = ((0, "0: new token"), (1, "1"), (2, "2-3"), (4, "4-7"), (8, "8-15"), (16, "16 or more"))
REPEAT_COLOURS = ("#ffffff", "#fff3b0", "#fed976", "#fd8d3c", "#e31a1c", "#800026")
CONTEXT_COLOUR = "#777777"
NEWLINE_MARK = "\u21b5"  # a visible newline in the PNG


def repeat_class(length: int) -> int:
    """Index into REPEAT_CLASSES / REPEAT_COLOURS of a repeat length."""
    if length < 0:
        raise ValueError("a repeat length is never negative")
    return max(i for i, (lo, _) in enumerate(REPEAT_CLASSES) if length >= lo)


def _text_colour(cls: int) -> str:
    return "#ffffff" if cls >= 4 else "#000000"


def _panel_title(model: str, variant: str, panel: dict, decoding: str) -> tuple[str, str]:
    return (f"{model}, {variant}, {decoding}",
            f"mean repeat length {panel['mean_repeat_length']:.2f}, {100 * panel['share_repeat_ge4']:.0f}% of "
            f"tokens in repeats of 4 or more, TTR {panel['ttr']:.2f}")


def _intro(data: dict) -> str:
    return (f"Evaluation text {data['domain']}/{data['text']}: the {data['context_len']}-token context (grey) and "
            f"{data['length']} generated tokens ({data['decoding']}), each coloured by its repeat length: the "
            "length of the longest token sequence ending there that already occurred earlier in context + "
            "continuation.")


def figure1_html(data: dict) -> str:
    """A self-contained page: per model, the original and the hyperfitted continuation, with a legend."""
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           "<title>Figure 1: greedy continuations coloured by repetition</title>",
           "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.5}"
           ".text{font-family:monospace;white-space:pre-wrap;border:1px solid #ccc;padding:.6em}"
           f".ctx{{color:{CONTEXT_COLOUR}}}.legend span{{padding:0 .4em;margin-right:.3em;border:1px solid #ccc}}"
           "</style></head><body>",
           "<h1>Figure 1: greedy continuations coloured by repetition</h1>",
           f"<p>{html.escape(_intro(data))}</p>", '<p class="legend">Repeat length: ']
    for (_, label), colour, cls in zip(REPEAT_CLASSES, REPEAT_COLOURS, range(len(REPEAT_CLASSES))):
        out.append(f'<span style="background:{colour};color:{_text_colour(cls)}">{html.escape(label)}</span>')
    out.append("</p>")
    for model, variants in data["models"].items():
        for variant, panel in variants.items():
            title, stats = _panel_title(model, variant, panel, data["decoding"])
            out.append(f"<h2>{html.escape(title)}</h2>")
            out.append(f"<p>{html.escape(stats)}</p>")
            spans = [f'<span class="ctx">{html.escape("".join(panel["context_pieces"]))}</span>']
            for piece, length in zip(panel["generated_pieces"], panel["repeat_lengths"]):
                cls = repeat_class(length)
                spans.append(f'<span style="background:{REPEAT_COLOURS[cls]};color:{_text_colour(cls)}" '
                             f'title="repeat length {length}">{html.escape(piece)}</span>')
            out.append(f'<div class="text">{"".join(spans)}</div>')
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def layout_lines(pieces: list[tuple[str, int | None]], width: int) -> list[list[tuple[int, str, int | None]]]:
    """Wrap (text, repeat length or None for context) pieces into lines of at most `width` characters:
    each line is a list of (column, text, length). A newline inside a piece shows as a mark and breaks the
    line; a piece that does not fit moves to the next line (and is split only if longer than a line)."""
    lines: list[list[tuple[int, str, int | None]]] = [[]]
    col = 0
    for text, length in pieces:
        parts = text.replace("\t", " ").replace("\r", "").split("\n")
        for k, part in enumerate(parts):
            if k < len(parts) - 1:
                part += NEWLINE_MARK
            while part:
                if col + len(part) > width and col > 0:
                    lines.append([])
                    col = 0
                chunk = part[:width - col]
                lines[-1].append((col, chunk, length))
                col += len(chunk)
                part = part[len(chunk):]
            if k < len(parts) - 1:
                lines.append([])
                col = 0
    return lines


def figure1_png(data: dict, width: int = 100, fontsize: float = 7.5):
    """The same content as the HTML page, drawn with a monospace font (one character = 0.6 em)."""
    char_w = 0.6 * fontsize / 72  # inches per character of DejaVu Sans Mono
    line_h = 1.45 * fontsize / 72
    blocks = []
    for model, variants in data["models"].items():
        for variant, panel in variants.items():
            pieces = [(p, None) for p in panel["context_pieces"]]
            pieces += list(zip(panel["generated_pieces"], panel["repeat_lengths"]))
            blocks.append((_panel_title(model, variant, panel, data["decoding"]), layout_lines(pieces, width)))
    n_rows = 2 + sum(3 + len(lines) for _, lines in blocks)  # legend; per panel two title lines, text, a gap
    fig = plt.figure(figsize=(width * char_w + 0.6, n_rows * line_h + 0.3))
    ax = fig.add_axes((0.2 / fig.get_figwidth(), 0.15 / fig.get_figheight(),
                       width * char_w / fig.get_figwidth(), n_rows * line_h / fig.get_figheight()))
    ax.set_xlim(0, width)
    ax.set_ylim(n_rows, 0)
    ax.axis("off")
    mono = dict(family="DejaVu Sans Mono", fontsize=fontsize, va="center", ha="left", parse_math=False)
    ax.text(0, 0.5, "Repeat length:", **mono)
    col = len("Repeat length: ")
    for (_, label), colour, cls in zip(REPEAT_CLASSES, REPEAT_COLOURS, range(len(REPEAT_CLASSES))):
        ax.add_patch(Rectangle((col, 0), len(label) + 1, 1, facecolor=colour, edgecolor="#bbbbbb", lw=0.4))
        ax.text(col + 0.5, 0.5, label, color=_text_colour(cls), **mono)
        col += len(label) + 2
    row = 2
    for (title, stats), lines in blocks:
        ax.text(0, row + 0.5, title, **{**mono, "fontweight": "bold"})
        ax.text(0, row + 1.5, stats, **mono)
        row += 2
        for line in lines:
            for c, text, length in line:
                if length is None:
                    ax.text(c, row + 0.5, text, color=CONTEXT_COLOUR, **mono)
                    continue
                cls = repeat_class(length)
                if cls > 0:
                    ax.add_patch(Rectangle((c, row), len(text), 1, facecolor=REPEAT_COLOURS[cls], lw=0))
                ax.text(c, row + 0.5, text, color=_text_colour(cls), **mono)
            row += 1
        row += 1
    return fig


def figure9(table: pd.DataFrame, window: int):
    """TTR of the trailing window by position, one line per model x variant x decoding (all domains).
    Positions before the window is full (the TTR of all tokens so far) are drawn dotted."""
    data = table[table["domain"] == "all"]
    models = sorted(data["model"].unique())
    fig, axes = plt.subplots(1, len(models), figsize=(5.5 * len(models), 3.8), squeeze=False)
    for ax, model in zip(axes[0], models):
        part = data[data["model"] == model]
        groups = part.groupby(["variant", "decoding"], sort=False)
        for i, ((variant, decoding), g) in enumerate(sorted(groups, key=lambda kv: (kv[0][0] != "original",
                                                                                     kv[0]))):
            g = g.sort_values("position")
            colour = f"C{i}"
            full = g[g["full_window"].astype(bool)]
            early = g[g["position"] <= (full["position"].min() if len(full) else g["position"].max())]
            ax.plot(early["position"], early["ttr_mean"], ":", color=colour)
            ax.plot(full["position"], full["ttr_mean"], "-o", ms=3, color=colour, label=f"{variant} {decoding}")
        ax.set(xlabel="position in the generated sequence (tokens)", ylabel=f"TTR of the last {window} tokens",
               title=model, ylim=(0, 1.02))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
