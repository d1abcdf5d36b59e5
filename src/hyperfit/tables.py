"""Result tables assembled from per-job metric files (no model is loaded here)."""
from __future__ import annotations

import math

import pandas as pd


def pooled_scores(scores: pd.DataFrame) -> dict:
    """Token-pooled perplexity, mean entropy and top-k mass over a set of scored texts."""
    n = scores["n"].sum()
    out = {"ppl": math.exp(scores["nll_sum"].sum() / n), "entropy": scores["entropy_sum"].sum() / n}
    for k in (1, 3, 5):
        col = f"top{k}_sum"
        if col in scores:
            out[f"top{k}"] = scores[col].sum() / n
    return out


def table1(text_tables: dict[tuple, pd.DataFrame], score_tables: dict[tuple, pd.DataFrame],
           ttr_window: int) -> pd.DataFrame:
    """Rows: model x variant x decoding x length. TTR means over texts (overall and per domain);
    perplexity and entropy of the variant on the evaluation texts (context + reference), token-pooled."""
    rows = []
    for (model, variant, decoding, length), df in sorted(text_tables.items()):
        row = {"model": model, "variant": variant, "decoding": decoding, "length": length, "texts": len(df),
               "ttr": df[f"ttr_last{ttr_window}"].mean(), "ttr_full": df["ttr_full"].mean()}
        for domain, part in df.groupby("domain", sort=True):
            row[f"ttr_{domain}"] = part[f"ttr_last{ttr_window}"].mean()
        pooled = pooled_scores(score_tables[(model, variant)])
        row["ppl"], row["entropy"] = pooled["ppl"], pooled["entropy"]
        rows.append(row)
    return pd.DataFrame(rows)
