"""Result tables assembled from per-job metric files (no model is loaded here)."""
from __future__ import annotations

import math

import pandas as pd

from .blocker import blocker_spec


def pooled_scores(scores: pd.DataFrame) -> dict:
    """Token-pooled perplexity, mean entropy and top-k mass over a set of scored texts."""
    n = scores["n"].sum()
    out = {"ppl": math.exp(scores["nll_sum"].sum() / n), "entropy": scores["entropy_sum"].sum() / n}
    for k in (1, 3, 5):
        col = f"top{k}_sum"
        if col in scores:
            out[f"top{k}"] = scores[col].sum() / n
    return out


NOT_COLLECTED = "not collected"
HUMAN_COLUMNS = ("human_pref_or_equal",)  # % of comparisons where the continuation was preferred or equal
# every human column of Table 1 (hyperfit.human.TABLE1_COLUMNS' names), "not collected" until rater files exist
HUMAN_TABLE_COLUMNS = ("human_pref_or_equal", "human_pref_or_equal_lo", "human_pref_or_equal_hi", "human_preferred",
                       "human_equal", "human_kappa")
# Table 1's rows in the paper, in its order: (variant, kind of decoding)
PAPER_ROWS = (("original", "greedy"), ("original", "Top-P"), ("hyperfitted", "greedy"),
              ("hyperfitted", "greedy + citation blocker"))


def decoding_kind(settings: dict) -> str:
    """How a decoding is named in the tables: greedy, Top-P or sampling, with '+ citation blocker'."""
    if settings.get("do_sample"):
        kind = "Top-P" if settings.get("top_p", 1.0) < 1.0 else "sampling"
    else:
        kind = "greedy"
    return kind + (" + citation blocker" if blocker_spec(settings) is not None else "")


def table1(text_tables: dict[tuple, pd.DataFrame], score_tables: dict[tuple, pd.DataFrame],
           decodings: dict[str, dict], human: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rows: model x length x method (variant + decoding), the paper's four methods first in its order
    (in_paper), any other generated combination after them. Columns: perplexity and entropy of the
    variant on the evaluation texts (context + reference, token-pooled; the same for every decoding of a
    variant), TTR means over texts (the per-text tables' `ttr` of the last metrics.ttr_window tokens,
    overall and per domain; and `ttr_full` of whole texts),
    and the human-preference columns: taken from `human` (rows keyed by model, variant, decoding, length,
    with any of HUMAN_COLUMNS) where it has the row, else the text "not collected"."""
    order = {pair: i for i, pair in enumerate(PAPER_ROWS)}
    rows = []
    for (model, variant, decoding, length), df in text_tables.items():
        kind = decoding_kind(decodings[decoding])
        row = {"_order": order.get((variant, kind), len(order)), "model": model, "length": length,
               "method": f"{variant} {kind}", "variant": variant, "decoding": decoding,
               "in_paper": (variant, kind) in order, "texts": len(df)}
        pooled = pooled_scores(score_tables[(model, variant)])
        row["ppl"], row["entropy"] = pooled["ppl"], pooled["entropy"]
        row["ttr"] = df["ttr"].mean()
        for domain, part in df.groupby("domain", sort=True):
            row[f"ttr_{domain}"] = part["ttr"].mean()
        row["ttr_full"] = df["ttr_full"].mean()
        rows.append(row)
    table = pd.DataFrame(rows).sort_values(["model", "length", "_order", "variant", "decoding"])
    table = table.drop(columns="_order").reset_index(drop=True)
    human_cols = list(HUMAN_TABLE_COLUMNS)
    if human is not None:
        key = ["model", "variant", "decoding", "length"]
        human_cols += [c for c in human.columns if c not in key and c not in human_cols]
        table = table.merge(human[key + [c for c in human_cols if c in human.columns]], on=key, how="left")
    for col in human_cols:
        values = table[col] if col in table else pd.Series([None] * len(table))
        table[col] = [NOT_COLLECTED if pd.isna(v) else v for v in values]
    return table


def table1_notes(ttr_window: int, quality_lines: list[str] | None = None) -> str:
    """How every column of Table 1 is defined (written under the table); `quality_lines`: the quality columns'
    (hyperfit.quality.quality_notes)."""
    return "\n".join([
        "Notes:",
        "",
        "- method: the model variant and its decoding; in_paper marks the paper's four rows (original greedy, "
        "original Top-P, hyperfitted greedy, hyperfitted greedy + citation blocker); other rows go beyond it.",
        "- ppl, entropy: perplexity and mean next-token entropy (nats) of the variant on the evaluation texts "
        "(context + reference continuation), pooled over tokens; the same for every decoding of a variant.",
        f"- ttr: type-token ratio of the last {ttr_window} generated token ids, mean over texts (ttr_<domain>: "
        "per evaluation domain; ttr_full: of the whole continuation).",
        f"- {', '.join(HUMAN_COLUMNS)}: % of pairwise comparisons in which raters preferred the continuation to "
        f"the original one or judged them equal [95% bootstrap interval over the pairs]; '{NOT_COLLECTED}' until "
        "rater files are supplied (this view then leaves the human columns out).",
        "- ttr, ppl, entropy [low, high] (the .tsv's *_ci_low, *_ci_high): 95% percentile bootstrap interval over "
        "the evaluation texts (2,000 resamples, scipy.stats.bootstrap, seeded); for ppl and entropy whole texts are "
        "resampled and tokens pooled again.",
        "- mauve: MAUVE (mauve-text, its default settings) of the continuations against the human continuations "
        "of the same contexts cut to the same length, on the features of followup.mauve.featurizer (the final "
        "hidden state at each text's last token, texts cut to followup.mauve.max_tokens tokens); values are "
        "comparable only under one featurizer, and with few texts MAUVE is noisy.",
        "- ttr_vs, ttr_diff: for a trained model's row, the mean over the same texts of its TTR minus that of the "
        "row named in ttr_vs (the original model with the same decoding; greedy for the blocked decoding) "
        "[paired bootstrap interval of that difference; .tsv: ttr_diff_ci_*]; ttr_diff_p: two-sided paired "
        "permutation test of no difference (each text's two values swapped at random, 10,000 permutations, "
        "scipy.stats.permutation_test).",
        *(quality_lines or []),
        "",
    ])


def table1_quality(table: pd.DataFrame, quality: dict[tuple, pd.DataFrame], human: dict[tuple, pd.DataFrame],
                   mauve: dict[tuple, dict], seed: int) -> pd.DataFrame:
    """Table 1 with the quality columns (hyperfit.quality.quality_values: scorer_ppl, coherence and their 95%
    bootstrap intervals over the texts), the human continuations' own (scorer_ppl_human, coherence_human) and
    MAUVE's pairs and per-domain values. `quality[(model, variant, decoding, length)]`: a per-text quality table;
    `human[(model, length)]`: the human continuations'; `mauve[(model, variant, decoding, length)]`: a row of the
    MAUVE table (pairs, mauve_<domain>)."""
    from .quality import human_values, quality_values
    from .stats import with_columns

    rows = []
    for r in table.itertuples():
        key = (r.model, r.variant, r.decoding, int(r.length))
        m = mauve[key]
        rows.append({**quality_values(quality[key], seed), **human_values(human[(r.model, int(r.length))], seed),
                     "mauve_pairs": m["pairs"], **{k: v for k, v in m.items() if k.startswith("mauve_")}})
    return with_columns(table, rows)


def mauve_rows(frames: list[pd.DataFrame], keys: tuple[str, ...]) -> dict[tuple, dict]:
    """The rows of MAUVE tables (measure_mauve) keyed by `keys`, each with pairs and its mauve_<domain> values."""
    table = pd.concat(frames, ignore_index=True)
    out = {}
    for _, r in table.iterrows():
        key = tuple(int(r[k]) if k == "length" else r[k] for k in keys)
        out[key] = {"mauve": r["mauve"], "pairs": r["pairs"],
                    **{c: r[c] for c in table.columns if c.startswith("mauve_")}}
    return out


def read_text_metrics(runs: list[dict]) -> dict[tuple, pd.DataFrame]:
    """The per-text metric tables of generation runs (hyperfit.settings), keyed by (model, variant,
    decoding, length)."""
    return {(r["model"], r["variant"], r["decoding"], r["length"]): pd.read_csv(r["metrics"], sep="\t")
            for r in runs}


def table2(overlap_tables: dict[tuple, pd.DataFrame], threshold: int) -> pd.DataFrame:
    """Rows: model x variant x decoding x length. Means over texts of Self-BLEU, Dataset BLEU, gzip ratio;
    training-data overlap mean, max and share of texts over `threshold` tokens; rep-n (overlap.pooled_rep, the
    one definition of every table) and diversity = prod_n (1 - rep-n)."""
    from .overlap import REP_ORDERS, rep_columns

    rows = []
    for (model, variant, decoding, length), df in sorted(overlap_tables.items()):
        row = {"model": model, "variant": variant, "decoding": decoding, "length": length, "texts": len(df),
               "self_bleu": df["self_bleu"].mean(), "dataset_bleu": df["dataset_bleu"].mean(),
               "overlap_mean": df["overlap"].mean(), "overlap_max": int(df["overlap"].max()),
               f"overlap_share_gt{threshold}": float((df["overlap"] > threshold).mean())}
        row.update(rep_columns(df))
        div = 1.0
        for n in REP_ORDERS:
            div *= 1 - row[f"rep{n}"]
        row["diversity"] = div
        row["gzip_ratio"] = df["gzip_ratio"].mean()
        rows.append(row)
    return pd.DataFrame(rows)


def table2_notes(threshold: int) -> str:
    """How every column of Table 2 is defined (written under the table)."""
    from .overlap import BLEU_EPSILON, BLEU_ORDER, REP_NOTE, REP_ORDERS

    reps = "/".join(str(n) for n in REP_ORDERS)
    return "\n".join([
        "Notes:",
        "",
        f"- BLEU is sentence BLEU-{BLEU_ORDER} on the whitespace-separated words of the decoded text "
        "(so models with different tokenizers are compared on the same units): uniform weights "
        f"1/{BLEU_ORDER}, modified n-gram precision clipped by the maximum count over the references, "
        f"smoothing method1 of Chen & Cherry (2014) (a precision with no match becomes {BLEU_EPSILON} / number "
        "of hypothesis n-grams), brevity penalty against the reference length closest to the hypothesis "
        "length (the shorter on a tie), 0 when no word matches. This equals nltk's "
        "`sentence_bleu(references, hypothesis, smoothing_function=SmoothingFunction().method1)`.",
        "- self_bleu: per text, BLEU against all other texts of the same model, variant, decoding and length "
        "as references; mean over texts.",
        "- dataset_bleu: per text of h words, the highest BLEU against a single span of h consecutive words of "
        "one training window (decoded without special tokens; the whole window where it is shorter) as the only "
        "reference, so a verbatim copy of training text scores 1 (against a whole 256-token window the brevity "
        "penalty alone would hold a 96-token copy below 0.2); mean over texts.",
        "- overlap: per text, the longest run of consecutive generated token ids (the model's own tokens) that "
        "occurs contiguously inside one training window; mean and max over texts, and "
        f"overlap_share_gt{threshold}: the share of texts whose overlap exceeds {threshold} tokens.",
        f"- rep{{{reps}}}: {REP_NOTE}; diversity = prod over n in {{{reps}}} of (1 - rep-n).",
        "- gzip_ratio: UTF-8 bytes of the decoded text / its gzip size (level 9), mean over texts; higher is "
        "more repetitive (short texts fall below 1 from gzip's fixed overhead).",
        "",
    ])


# ------------------------------------------------------------------------------------------ statistics
def per_text_entropy(scores: pd.DataFrame) -> "pd.Series":
    """Each text's mean next-token entropy (nats), in text order (domain, index)."""
    s = scores.sort_values(["domain", "index"])
    return s["entropy_sum"] / s["n"]


def text_values(df: pd.DataFrame, column: str) -> "pd.Series":
    """A per-text column in text order (domain, index), so that two runs pair text by text."""
    return df.sort_values(["domain", "index"])[column].reset_index(drop=True)


def baseline_of(variant: str, kind: str) -> str | None:
    """The original row a trained row is compared with: the same decoding (greedy for the blocked one)."""
    if variant == "original":
        return None
    return "original " + kind.replace(" + citation blocker", "")


def table1_statistics(table: pd.DataFrame, text_tables: dict[tuple, pd.DataFrame],
                      score_tables: dict[tuple, pd.DataFrame], seed: int) -> pd.DataFrame:
    """Table 1 with 95% bootstrap intervals over texts (TTR; perplexity and entropy pooled over tokens, whole
    texts resampled) and, for each trained row, the paired difference in TTR from the original model with
    the same decoding on the same texts: mean, paired bootstrap interval, permutation-test p-value."""
    import numpy as np

    from .stats import bootstrap_ci, bootstrap_ratio_ci, ci_columns, paired_columns, with_columns

    rows = []
    for _, row in table.iterrows():
        df = text_tables[(row["model"], row["variant"], row["decoding"], row["length"])]
        scores = score_tables[(row["model"], row["variant"])]
        new = ci_columns("ttr", bootstrap_ci(text_values(df, "ttr"), seed))
        new.update(ci_columns("ppl", bootstrap_ratio_ci(scores["nll_sum"], scores["n"], seed, np.exp)))
        new.update(ci_columns("entropy", bootstrap_ratio_ci(scores["entropy_sum"], scores["n"], seed)))
        base = baseline_of(row["variant"], row["method"].split(" ", 1)[1])
        match = table[(table["model"] == row["model"]) & (table["length"] == row["length"])
                      & (table["method"] == base)] if base else table.iloc[0:0]
        other = None
        if len(match):
            b = match.iloc[0]
            other = text_values(text_tables[(b["model"], b["variant"], b["decoding"], b["length"])], "ttr")
        new["ttr_vs"] = base if other is not None else ""
        new.update(paired_columns("ttr_diff", text_values(df, "ttr"), other, seed))
        rows.append(new)
    return with_columns(table, rows)
