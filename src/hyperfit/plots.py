"""Figures, drawn from result tables only."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def figure2(histories: dict[str, pd.DataFrame]):
    """Left: train and validation loss per epoch. Right: greedy TTR per epoch, reference TTR dashed."""
    fig, (ax_loss, ax_ttr) = plt.subplots(1, 2, figsize=(10, 3.8))
    for i, (model, h) in enumerate(histories.items()):
        color = f"C{i}"
        ax_loss.plot(h["epoch"], h["train_loss"], "-o", color=color, ms=3, label=f"{model} train")
        ax_loss.plot(h["epoch"], h["val_loss"], "--s", color=color, ms=3, label=f"{model} validation")
        ax_ttr.plot(h["epoch"], h["greedy_ttr"], "-o", color=color, ms=3, label=f"{model} greedy")
        ax_ttr.axhline(h["reference_ttr"].iloc[0], color=color, ls=":", label=f"{model} reference text")
    ax_loss.set(xlabel="epoch", ylabel="loss (nats/token)", title="Loss")
    ax_ttr.set(xlabel="epoch", ylabel="TTR (last 96 tokens)", title="Greedy TTR of held-out continuations",
               ylim=(0, 1))
    for ax in (ax_loss, ax_ttr):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def figure3(overlaps: dict[tuple, "pd.Series"], threshold: int):
    """Empirical CDF of the per-text overlap with the training data (tokens), one panel per model and
    length, one curve per variant (colour) and decoding (line style); the threshold dotted."""
    panels = sorted({(model, length) for model, _, _, length in overlaps})
    variants = sorted({v for _, v, _, _ in overlaps}, key=lambda v: (v != "original", v))
    decodings = sorted({d for _, _, d, _ in overlaps})
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.8), squeeze=False)
    for ax, (model, length) in zip(axes[0], panels):
        for (m, variant, decoding, n), values in sorted(overlaps.items()):
            if (m, n) != (model, length):
                continue
            ax.ecdf(values, color=f"C{variants.index(variant)}",
                    ls=["-", "--", ":", "-."][decodings.index(decoding) % 4], label=f"{variant} {decoding}")
        ax.axvline(threshold, color="grey", ls=":", lw=1, label=f"{threshold} tokens")
        ax.set(xlabel="longest run shared with a training window (tokens)",
               ylabel="share of texts with overlap <= x", title=f"{model}, {length} generated tokens",
               ylim=(0, 1.02))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def save(fig, *paths) -> None:
    for p in paths:
        fig.savefig(p, dpi=150)
    plt.close(fig)


def figure4(positions: dict[tuple[str, str], pd.DataFrame], prefix_chars: int = 90):
    """One row per model, the original and hyperfitted next-token distributions at the same position side
    by side: top-k bars labelled with the tokens (rank 1 on top), the remaining mass in grey, the token
    that actually follows outlined. Input: score_figure4_position's tables keyed by (model, variant)."""
    models = sorted({m for m, _ in positions})
    variants = sorted({v for _, v in positions}, key=lambda v: (v != "original", v))
    k = max(len(df) for df in positions.values())
    height = len(models) * (0.32 * k + 1.9)
    fig, axes = plt.subplots(len(models), len(variants), figsize=(4.4 * len(variants), height), squeeze=False,
                             sharex=True)
    for row, model in enumerate(models):
        for col, variant in enumerate(variants):
            ax = axes[row][col]
            df = positions.get((model, variant))
            if df is None:
                ax.set_axis_off()
                continue
            df = df.sort_values("rank")
            y = list(range(len(df)))[::-1]
            colors = ["0.7" if t < 0 else f"C{col}" for t in df["token_id"]]
            bars = ax.barh(y, df["prob"], color=colors)
            for bar, is_target in zip(bars, df["is_target"]):
                if is_target:
                    bar.set_edgecolor("black")
                    bar.set_linewidth(1.5)
            ax.set_yticks(y, [str(t) for t in df["token"]], fontsize=8, parse_math=False)
            for yy, p in zip(y, df["prob"]):
                ax.text(p + 0.01, yy, f"{p:.3f}", va="center", fontsize=7)
            first = df.iloc[0]
            ax.set_title(f"{model} {variant}\nentropy {first['entropy']:.2f} nats, "
                         f"p(next = {first['target_token']}) = {first['target_prob']:.3f}", fontsize=9,
                         parse_math=False)
            ax.set_xlim(0, 1.12)
            ax.grid(axis="x", alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("next-token probability")

    def where(row) -> str:
        prefix = str(row["prefix"])
        prefix = "\u2026" + prefix[-prefix_chars:] if len(prefix) > prefix_chars else prefix
        return f"{row['domain']} text {row['text']}, after {row['position']} tokens: \"{prefix}\""

    # each model reads the text through its own tokenizer: one line per model unless all agree
    heads = {m: next(df for (mm, _), df in sorted(positions.items()) if mm == m).iloc[0] for m in models}
    lines = list(dict.fromkeys(where(row) for row in heads.values()))
    if len(lines) > 1:
        lines = [f"{m}: {where(row)}" for m, row in heads.items()]
    fig.suptitle("\n".join(lines), fontsize=8, parse_math=False)
    fig.tight_layout()
    return fig


def figure6(data: dict, completions: dict[str, list[dict]]):
    """One column per held-out image; rows: the image, then each variant's greedy completion of it. Above the
    red line is the prompt (the image's top rows), below it what the model drew. Input: the tokenised images
    (palette, size, prompt rows) and each variant's completion records."""
    from .images import decode

    first = next(iter(completions.values()))
    rows = [("held-out image", [r["pixels"] for r in first])]
    rows += [(f"{variant} model", [r["pixels"][:r["prompt_pixels"]] + r["generated"] for r in records])
             for variant, records in completions.items()]
    h, w = data["height"], data["width"]
    fig, axes = plt.subplots(len(rows), len(first), figsize=(1.15 * len(first) + 0.9, 1.2 * len(rows) + 0.9),
                             squeeze=False)
    for i, (label, images) in enumerate(rows):
        for j, pixels in enumerate(images):
            ax = axes[i][j]
            ax.imshow(decode(pixels, data["palette"], h, w), interpolation="nearest")
            ax.axhline(data["prompt_rows"] - 0.5, color="red", lw=1.2)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[i][0].set_ylabel(label, fontsize=8)
    fig.suptitle(f"{data['description']}\nabove the red line: the prompt (top {data['prompt_rows']} of {h} rows); "
                 "below it: greedy completion", fontsize=8)
    fig.tight_layout()
    return fig


def figure5(shuffle: pd.DataFrame, quantity: pd.DataFrame):
    """Left: top-1 agreement matrix of the shuffle experiment (first model; mean over seeds). Right: mean
    greedy TTR by number of training windows (95% intervals where there are several seeds), the original
    model's TTR dotted."""
    import numpy as np

    fig, (ax_m, ax_q) = plt.subplots(1, 2, figsize=(11, 4.4), gridspec_kw={"width_ratios": [1.1, 1]})
    model = shuffle["model"].iloc[0]
    part = shuffle[shuffle["model"] == model]
    labels = list(dict.fromkeys(part["a"]))
    cells = {(a, b): v for a, b, v in zip(part["a"], part["b"], part["agreement"])}
    matrix = np.array([[cells[(a, b)] for b in labels] for a in labels])
    im = ax_m.imshow(matrix, vmin=min(0.5, matrix.min()), vmax=1, cmap="viridis")
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax_m.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize=8,
                      color="white" if matrix[i, j] < 0.85 else "black")
    ax_m.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=8)
    ax_m.set_yticks(range(len(labels)), labels, fontsize=8)
    ax_m.set_title(f"{model}: top-1 agreement (seeds: {int(part['seeds'].iloc[0])})")
    fig.colorbar(im, ax=ax_m, fraction=0.046)
    for i, (m, q) in enumerate(quantity.groupby("model", sort=False)):
        color = f"C{i}"
        ax_q.plot(q["num_samples"], q["ttr"], "-o", color=color, label=f"{m} hyperfitted greedy")
        if q["ttr_ci_low"].notna().any():
            ax_q.fill_between(q["num_samples"], q["ttr_ci_low"], q["ttr_ci_high"], color=color, alpha=0.2)
        ax_q.axhline(q["original_ttr"].iloc[0], color=color, ls=":", label=f"{m} original greedy")
    ax_q.set_xscale("log", base=2)
    ax_q.set(xlabel="training windows (same number of updates)", ylabel="mean TTR", ylim=(0, 1),
             title="TTR by amount of training data")
    ax_q.grid(alpha=0.3)
    ax_q.legend(fontsize=7)
    fig.tight_layout()
    return fig


def comparison_figure(table: pd.DataFrame):
    """Left: TTR per method (bars, 95% intervals over seeds). Right: TTR against the model's mean
    next-token entropy, one point per method."""
    import numpy as np

    models = list(dict.fromkeys(table["model"]))
    fig, axes = plt.subplots(len(models), 2, figsize=(11, 0.4 * table["method"].nunique() + 2.2), squeeze=False,
                             gridspec_kw={"width_ratios": [1.3, 1]})
    for (ax_bar, ax_sc), model in zip(axes, models):
        t = table[table["model"] == model].reset_index(drop=True)
        y = np.arange(len(t))
        colors = ["C1" if m.startswith("hyperfitted") else "C2" if m.startswith("early") else "C0" for m in t["method"]]
        err = None
        if t["ttr_ci_low"].notna().any():
            err = np.vstack([(t["ttr"] - t["ttr_ci_low"]).fillna(0), (t["ttr_ci_high"] - t["ttr"]).fillna(0)])
        ax_bar.barh(y, t["ttr"], xerr=err, color=colors)
        ax_bar.set_yticks(y, [f"{i + 1}. {m}" for i, m in enumerate(t["method"])], fontsize=8)
        ax_bar.invert_yaxis()
        ax_bar.set(xlabel="TTR", xlim=(0, 1), title=f"{model}: TTR by method")
        ax_bar.grid(alpha=0.3, axis="x")
        ax_sc.scatter(t["entropy"], t["ttr"], c=colors)
        clusters: list[list] = []  # numbered as on the left; points that nearly coincide share one label
        for i, r in t.iterrows():
            near = next((c for c in clusters if abs(c[0] - r["entropy"]) < 0.03 and abs(c[1] - r["ttr"]) < 0.04), None)
            if near is None:
                clusters.append([r["entropy"], r["ttr"], [i + 1]])
            else:
                near[2].append(i + 1)
        for x, y_, numbers in clusters:
            ax_sc.annotate(", ".join(map(str, numbers)), (x, y_), fontsize=8, textcoords="offset points", xytext=(5, -3))
        ax_sc.margins(x=0.15)
        ax_sc.set(xlabel="mean next-token entropy (nats)", ylabel="TTR", ylim=(0, 1),
                  title="Repetition against sharpness")
        ax_sc.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def followup_bias_figure(table: pd.DataFrame):
    """TTR and mean entropy of the original model's greedy continuations by fixed-bias strength, one line per bias
    (the full one, the one on its top-K tokens), with the hyperfitted model's greedy TTR and entropy as dashed
    lines."""
    import matplotlib.pyplot as plt

    models = list(dict.fromkeys(table["model"]))
    fig, axes = plt.subplots(len(models), 2, figsize=(9, 3.2 * len(models)), squeeze=False)
    for row, model in zip(axes, models):
        part = table[table["model"] == model]
        swept = part[part["strength"].notna()].sort_values("strength")
        kinds = swept["bias"].fillna("all") if "bias" in swept else pd.Series("all", index=swept.index)
        hyper = part[part["decoding"].str.startswith("hyperfitted")]
        for ax, col, label in ((row[0], "ttr", "greedy TTR"), (row[1], "entropy", "mean entropy (nats)")):
            for kind in dict.fromkeys(kinds):
                line = swept[kinds == kind]
                ax.plot(line["strength"], line[col], marker="o",
                        label="original + s x bias" if kind == "all" else f"original + s x bias on its {kind}")
            if len(hyper):
                ax.axhline(hyper[col].iloc[0], ls="--", color="C3", label="hyperfitted greedy")
            ax.set_xlabel("bias strength s")
            ax.set_ylabel(label)
            ax.set_title(model)
            ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def followup_layers_figure(table: pd.DataFrame):
    """By layer: effective dimension of the original and the hyperfitted model's hidden states, and the mean
    L2 distance and cosine similarity between them; the residual stream as lines, the state after the final norm
    as a point of its own at the last layer."""
    import matplotlib.pyplot as plt

    models = list(dict.fromkeys(table["model"]))
    fig, axes = plt.subplots(len(models), 3, figsize=(13, 3.2 * len(models)), squeeze=False)
    for row, model in zip(axes, models):
        part = table[table["model"] == model]
        normed = part["stage"] == "after the final norm" if "stage" in part else part["layer"] < 0
        stream, after = part[~normed], part[normed]
        panels = ((row[0], [("effective_dim_original", "original", "C0"), ("effective_dim_hyperfitted", "hyperfitted",
                                                                            "C1")], "effective dimension"),
                  (row[1], [("l2_distance", "", "C3")], "mean L2 distance"))
        if "cosine_similarity" in part:
            panels += ((row[2], [("cosine_similarity", "", "C2")], "mean cosine similarity"),)
        for ax, cols, ylabel in panels:
            for col, label, colour in cols:
                ax.plot(stream["layer"], stream[col], marker=".", color=colour, label=label or None)
                ax.plot(after["layer"], after[col], marker="*", ls="none", ms=10, color=colour,
                        label=f"{label} after the final norm".strip())
            ax.set_ylabel(ylabel)
            ax.legend(fontsize=8)
        for ax in row:
            ax.set_xlabel("layer (0 = embeddings)")
            ax.set_title(model)
    fig.tight_layout()
    return fig
