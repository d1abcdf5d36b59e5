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


def save(fig, *paths) -> None:
    for p in paths:
        fig.savefig(p, dpi=150)
    plt.close(fig)
