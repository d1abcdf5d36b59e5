"""Tables of the sweeps and the baselines comparison, from generation and score files (no model here)."""
from __future__ import annotations

import math

import pandas as pd

from .metrics import ttr
from .overlap import REP_NOTE, rep_columns
from .stats import agreement_rows, mean_ci
from .tables import NOT_COLLECTED
from .temperature import pooled_entropy


def summarize(df: pd.DataFrame, keys: list[str], values: list[str]) -> pd.DataFrame:
    """Mean and 95% t-interval over seeds of each value column, per group of `keys` (group order kept)."""
    rows = []
    for key, part in df.groupby(keys, sort=False):
        row = dict(zip(keys, key if isinstance(key, tuple) else (key,)))
        for col in values:
            stats = mean_ci(part[col].tolist())
            row[col] = stats["mean"]
            row[f"{col}_ci_low"], row[f"{col}_ci_high"] = stats["ci_low"], stats["ci_high"]
        row["seeds"] = len(part)
        rows.append(row)
    return pd.DataFrame(rows)


def text_ttr(records: list[dict], window: int) -> float:
    """Mean over texts of the TTR of the last `window` generated tokens."""
    return sum(ttr(r["generated_ids"], window) for r in records) / len(records)


# ------------------------------------------------------------------------------------------ Figure 5 left
def shuffle_table(runs: list[dict], argmax: dict[str, list], original: dict[str, list]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Top-1 agreement between every pair of models of each seed's shuffle experiment (the original model
    included), per seed and summarized over seeds. `runs`: model, seed, label, scores; `argmax[scores]` and
    `original[model]`: the top-1 ids of each evaluation text."""
    rows = []
    for (model, seed), part in pd.DataFrame(runs).groupby(["model", "seed"], sort=False):
        preds = {"original": original[model], **{r["label"]: argmax[r["scores"]] for _, r in part.iterrows()}}
        rows += [{"model": model, "seed": seed, **row} for row in agreement_rows(preds)]
    per_seed = pd.DataFrame(rows)
    return per_seed, summarize(per_seed, ["model", "a", "b"], ["agreement"])


def shuffle_markdown(summary: pd.DataFrame) -> str:
    """Per model, the agreement matrix (rows a, columns b): cells "mean [95% interval]" written as every table's
    Markdown writes them (hyperfit.readable)."""
    from .readable import View, column_format, interval_cell, view_markdown

    parts = []
    for model, part in summary.groupby("model", sort=False):
        labels = list(dict.fromkeys(part["a"]))
        fmt = column_format(part["agreement"], bounds=[*part["agreement_ci_low"], *part["agreement_ci_high"]])
        cells = {(r["a"], r["b"]): interval_cell(r["agreement"], r["agreement_ci_low"], r["agreement_ci_high"], fmt)
                 for _, r in part.iterrows()}
        matrix = pd.DataFrame([[cells[(a, b)] for b in labels] for a in labels], index=labels, columns=labels)
        parts.append(f"### {model} (seeds: {int(part['seeds'].iloc[0])})\n\n"
                     + view_markdown(View(matrix, ["right"] * len(labels)), index=True))
    return "\n\n".join(parts)


# ------------------------------------------------------------------------------------------ Figure 5 right
def quantity_table(runs: list[dict], texts: dict[str, list[dict]], histories: dict[str, pd.DataFrame],
                   original_ttr: dict[str, float], window: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean greedy TTR per number of training windows (same number of updates), per seed and summarized;
    with each run's final training loss, its epochs, and the original model's TTR for reference. `runs`:
    model, seed, label (N), texts, train; `texts[path]`: records; `histories[train]`: its history table."""
    rows = []
    for r in runs:
        h = histories[r["train"]]
        rows.append({"model": r["model"], "num_samples": int(r["label"]), "seed": r["seed"],
                     "epochs": int(h["epoch"].iloc[-1]), "updates": int(h["step"].iloc[-1]),
                     "ttr": text_ttr(texts[r["texts"]], window), "final_train_loss": float(h["train_loss"].iloc[-1]),
                     "original_ttr": original_ttr[r["model"]]})
    per_seed = pd.DataFrame(rows).sort_values(["model", "num_samples", "seed"], kind="stable")
    summary = summarize(per_seed, ["model", "num_samples", "epochs", "updates", "original_ttr"],
                        ["ttr", "final_train_loss"])
    return per_seed, summary


# ------------------------------------------------------------------------------------------ Table 4
ORIGINAL_ROW = "none (original model)"


def data_type_table(runs: list[dict], texts: dict[str, list[dict]], scores: dict[str, list[dict]],
                    original: dict[str, dict], window: int, human: dict | None = None,
                    extra: dict[str, dict] | None = None) -> pd.DataFrame:
    """Rows: the original model (baseline) and the base setting hyperfitted on each training domain;
    columns: greedy TTR per evaluation domain and averaged (mean over seeds, 95% interval), perplexity
    per evaluation domain, the columns of `extra[texts path]` (quality_point_values: each run's quality and MAUVE,
    mean over seeds, 95% interval; `original[model]["texts_path"]` names the original's), and the human columns
    human_<domain> and human_all: `human[(model, train_data)]` (table4_human) where rated, else "not collected"."""
    def measures(recs: list[dict], sc: list[dict]) -> dict:
        out = {}
        domains = sorted({r["domain"] for r in recs})
        for d in domains:
            out[f"ttr_{d}"] = text_ttr([r for r in recs if r["domain"] == d], window)
            part = [s for s in sc if s["domain"] == d]
            out[f"ppl_{d}"] = math.exp(sum(s["nll_sum"] for s in part) / sum(s["n"] for s in part))
        out["ttr_average"] = sum(out[f"ttr_{d}"] for d in domains) / len(domains)
        return out

    more = (lambda path: (extra or {}).get(path, {}))  # noqa: E731
    rows = [{"model": m, "train_data": ORIGINAL_ROW, "seed": None, **measures(o["texts"], o["scores"]),
             **more(o.get("texts_path"))} for m, o in original.items()]
    rows += [{"model": r["model"], "train_data": r["label"], "seed": r["seed"],
              **measures(texts[r["texts"]], scores[r["scores"]]), **more(r["texts"])} for r in runs]
    per_seed = pd.DataFrame(rows)
    values = sorted((c for c in per_seed.columns if c.startswith(("ttr_", "ppl_"))),
                    key=lambda c: (c.startswith("ppl_"), c == "ttr_average", c))
    values += list(dict.fromkeys(k for e in (extra or {}).values() for k in e))
    table = summarize(per_seed.drop(columns="seed"), ["model", "train_data"], values)
    domains = sorted(c[len("ttr_"):] for c in values if c.startswith("ttr_") and c != "ttr_average")
    for col in [f"human_{d}" for d in [*domains, "all"]]:
        table[col] = [(human or {}).get((m, t), {}).get(col, NOT_COLLECTED)
                      for m, t in zip(table["model"], table["train_data"])]
    return table


# ------------------------------------------------------------------------------------------ comparison
def comparison_row(metrics: pd.DataFrame, scores: list[dict], threshold: int, temperature: dict | None = None,
                   history: pd.DataFrame | None = None, original: list[dict] | None = None) -> dict:
    """The comparison's measures of one generation file, from its per-text metrics: mean TTR, rep-n (words;
    overlap.pooled_rep, as every table), mean overlap with the setting's training windows and the
    share over `threshold`; the model's mean entropy and perplexity on the evaluation texts (at the matched
    temperature for a temperature row); for early-stopped weights, the epoch they come from (`history`); with
    the original model's scores, the top-1 agreement of the two models on the evaluation texts."""
    ttrs = metrics["ttr"].tolist()
    row = {"ttr": sum(ttrs) / len(ttrs), **rep_columns(metrics)}
    overlaps = metrics["overlap"].tolist()
    row["overlap_mean"] = sum(overlaps) / len(overlaps)
    row["overlap_share_gt"] = sum(o > threshold for o in overlaps) / len(overlaps)
    if temperature is not None:
        row["entropy"], row["ppl"], row["temperature"] = temperature["entropy"], temperature["ppl"], temperature["temperature"]
    else:
        n = sum(s["n"] for s in scores)
        row["entropy"], row["ppl"] = pooled_entropy(scores), math.exp(sum(s["nll_sum"] for s in scores) / n)
        row["temperature"] = math.nan
    row["early_stop_epoch"] = math.nan
    if history is not None:
        row["early_stop_epoch"] = int(history.loc[history["val_loss"].idxmin(), "epoch"])
    row["top1_agreement"] = math.nan
    if original is not None:
        from .stats import top1_agreement

        row["top1_agreement"] = top1_agreement([s["argmax"] for s in scores], [s["argmax"] for s in original])
    return row


def comparison_text_statistics(table: pd.DataFrame, ttrs: dict[tuple[str, str], list[pd.Series]],
                               seed: int) -> pd.DataFrame:
    """The comparison with a 95% bootstrap interval of TTR over the evaluation texts and, for every row, the
    paired difference from 'original greedy' of the same model on the same texts (mean, paired bootstrap
    interval, permutation p-value). `ttrs[(model, method)]`: per seed, the per-text TTR in text order; with
    several seeds each text's value is first averaged over the seeds."""
    import numpy as np

    from .stats import bootstrap_ci, ci_columns, paired_columns, with_columns

    def per_text(key):
        return np.mean(np.vstack([np.asarray(s, dtype=float) for s in ttrs[key]]), axis=0)

    rows = []
    for _, row in table.iterrows():
        values = per_text((row["model"], row["method"]))
        base = (row["model"], "original greedy")
        compare = base in ttrs and row["method"] != "original greedy"
        rows.append({**ci_columns("ttr_text", bootstrap_ci(values, seed)), "ttr_vs": "original greedy" if compare else "",
                     **paired_columns("ttr_diff", values, per_text(base) if compare else None, seed)})
    return with_columns(table, rows)


COMPARISON_VALUES = ["ttr", "rep2", "rep3", "rep4", "entropy", "ppl", "overlap_mean", "overlap_share_gt",
                     "temperature", "early_stop_epoch", "top1_agreement", "trainable_parameters", "mauve"]
QUALITY_VALUES = ["scorer_ppl", "coherence", "scorer_ppl_human", "coherence_human", "mauve_pairs"]


def quality_point_values(quality: pd.DataFrame, human: pd.DataFrame, mauve: dict) -> dict:
    """One generation file's quality columns for a per-seed row: scorer_ppl (tokens pooled), coherence (mean over
    texts), the human continuations' own, MAUVE's pairs and per-domain values (hyperfit.quality)."""
    def point(df):
        n = df["scorer_tokens"].sum()
        return (math.exp(df["scorer_nll_sum"].sum() / n) if n else math.nan), float(df["coherence"].mean())

    ppl, coh = point(quality)
    ppl_h, coh_h = point(human)
    return {"scorer_ppl": ppl, "coherence": coh, "scorer_ppl_human": ppl_h, "coherence_human": coh_h,
            "mauve_pairs": mauve["pairs"], **{k: v for k, v in mauve.items() if k.startswith("mauve_")}}


def quality_text_statistics(table: pd.DataFrame, quality: dict[tuple, list[pd.DataFrame]], keys: list[str],
                            name: str, seed: int) -> pd.DataFrame:
    """95% bootstrap intervals over the evaluation texts of a seed-summarized table's scorer_ppl and coherence:
    columns scorer_ppl_<name>_ci_* (whole texts resampled, each text's scorer tokens and NLL summed over the
    seeds, tokens pooled again) and coherence_<name>_ci_* (each text's value first averaged over the seeds).
    `quality[key]`: per seed, the per-text quality table of the row whose `keys` values are key."""
    import numpy as np

    from .stats import bootstrap_ci, bootstrap_ratio_ci, ci_columns, with_columns

    rows = []
    for _, row in table.iterrows():
        parts = [q.sort_values(["domain", "index"]).reset_index(drop=True) for q in quality[tuple(row[k] for k in keys)]]
        nll = np.sum([p["scorer_nll_sum"].to_numpy(float) for p in parts], axis=0)
        tokens = np.sum([p["scorer_tokens"].to_numpy(float) for p in parts], axis=0)
        coh = np.mean([p["coherence"].to_numpy(float) for p in parts], axis=0)
        rows.append({**ci_columns(f"scorer_ppl_{name}", bootstrap_ratio_ci(nll, tokens, seed, np.exp)),
                     **ci_columns(f"coherence_{name}", bootstrap_ci(coh, seed))})
    return with_columns(table, rows)


COMPARISON_NOTES = """Notes:

- Each cell: mean over training seeds [95% t-interval]; one seed gives the value alone. The original model's own
  rows do not depend on a training seed.
- ttr: type-token ratio of the last generated tokens (metrics.ttr_window); rep2/rep4: """ + REP_NOTE + """ (rep3 is
  in the .tsv; per seed, then the mean over seeds).
- entropy, ppl: the model's mean next-token entropy (nats) and perplexity on the evaluation texts (context +
  reference); for the temperature row, of softmax(logits / T) at the matched T.
- overlap_mean: mean longest token run shared with that model's training windows; overlap_share_gt: share of
  texts sharing more than {threshold} tokens (the original model never saw them: its rows measure chance overlap).
- early_stop_epoch: the epoch of lowest validation loss (on data.validation_texts held-out texts of the training
  domain, none of them a training window or an evaluation text), whose weights the early-stopped row uses; 0 is
  the model before training.
- mauve: MAUVE against the human continuations of the same contexts (see Table 1's notes for the featurizer).
- trainable_parameters: parameters the row's training updated (all of them for a full fine-tune; the adapters
  alone for LoRA, followup.lora); empty for the original model.
- top1_agreement: share of evaluation-text positions (teacher-forced) where the row's model and the original
  model predict the same most probable next token (1 for the original model's own rows).
- ttr_text (95% interval): 95% bootstrap interval of the TTR over the evaluation texts (each text's value first
  averaged over the seeds; .tsv: ttr_text_ci_*); ttr_diff: mean paired difference from original greedy of the
  same model on the same texts [paired bootstrap interval]; ttr_diff_p: two-sided paired permutation test of no
  difference (10,000 permutations).
- scorer_ppl, coherence (and their _human reference, mauve_pairs, mauve_<domain>): as in Table 1's notes, mean over
  seeds [95% t-interval]; scorer_ppl_text, coherence_text (95% interval): 95% bootstrap interval over the evaluation
  texts (.tsv: *_text_ci_*; for scorer_ppl whole texts resampled and tokens pooled again)."""


def comparison_markdown(table: pd.DataFrame, threshold: int, quality_lines: list[str] | None = None) -> str:
    """The comparison's people's view (hyperfit.readable) with its notes: seeds beside the method; rep3, the
    (constant) interval of trainable_parameters and ttr_vs (always original greedy) left to the .tsv, and so are
    the seed intervals of the human continuations' values and of mauve_pairs (they do not depend on a seed).
    `quality_lines`: the quality columns' notes (hyperfit.quality.quality_notes)."""
    from .readable import readable_markdown

    hidden = ["rep3", "rep3_ci_low", "rep3_ci_high", "trainable_parameters_ci_low", "trainable_parameters_ci_high",
              "ttr_vs", *(f"{c}_ci_{e}" for c in ("scorer_ppl_human", "coherence_human", "mauve_pairs")
                          for e in ("low", "high"))]
    first = ["model", "method", "seeds"]
    show = table[[*first, *(c for c in table.columns if c not in first and c not in hidden)]]
    notes = COMPARISON_NOTES.format(threshold=threshold) + "".join(f"\n{line}" for line in quality_lines or [])
    return readable_markdown(show, notes).rstrip("\n")


def table4_human(preference: pd.DataFrame, spec: dict) -> dict[tuple[str, str], dict]:
    """Table 4's human columns from the study kit's preference table, keyed by (model, train data): the %
    of ratings preferring the model's continuation or judging it equal, per evaluation domain
    ("human_<domain>") and pooled ("human_all"); the table says "not collected" until rated."""
    out = {}
    wanted = {ORIGINAL_ROW: spec["original"]["variant"], **spec["variants"]}
    for (model, variant), part in preference.groupby(["model", "variant"], sort=False):
        for train_data, v in wanted.items():
            if v == variant:
                part = part[(part["decoding"] == spec["decoding"]) & (part["length"].astype(int) == int(spec["length"]))]
                out[(model, train_data)] = {f"human_{d}": x for d, x in zip(part["domain"], part["preferred_or_equal"])}
    return out


def table4_notes(window: int, quality_lines: list[str] | None = None) -> str:
    """How every column of Table 4 is defined (written under the table); `quality_lines`: the quality columns'
    (hyperfit.quality.quality_notes)."""
    return "\n".join([
        "Notes:", "",
        f"- ttr_<domain>: mean greedy TTR (last {window} generated tokens) on that evaluation domain; ttr_average: "
        "their mean (the paper averages its human scores the same way).",
        "- ppl_<domain>: perplexity on that domain's evaluation texts (context + reference).",
        "- Hyperfitted rows: the sweeps' base setting (sweeps.base) trained on each domain; mean over seeds [95% "
        "t-interval over the seeds].",
        "- human_<domain>, human_all: the paper's human success ratio, % of ratings preferring the model's "
        "continuation or judging it equal to the human one (the study kit, human.table4: first seed, greedy, "
        f"longest generation length); '{NOT_COLLECTED}' until rated.",
        "- ttr_all (95% interval): 95% bootstrap interval over all evaluation texts of the TTR (each text's value "
        "averaged over seeds; .tsv: ttr_all_ci_*); ttr_diff: mean paired difference from the original model on the "
        "same texts [paired bootstrap interval]; ttr_diff_p: two-sided paired permutation test of no difference "
        "(10,000 permutations).",
        "- mauve: MAUVE of the greedy continuations against the human ones of the same contexts (see Table 1's notes "
        "for the featurizer); scorer_ppl, coherence, their _human reference, mauve_pairs, mauve_<domain>: as in "
        "Table 1's notes, each the mean over seeds [95% t-interval]; scorer_ppl_all, coherence_all (95% interval): "
        "95% bootstrap interval over all evaluation texts (.tsv: *_all_ci_*; scorer_ppl: whole texts resampled, "
        "tokens pooled again).",
        *(quality_lines or []),
    ])


def per_text_ttr(records: list[dict], window: int) -> "pd.Series":
    """Each text's TTR of its last `window` generated tokens, in text order (domain, index)."""
    ordered = sorted(records, key=lambda r: (r["domain"], r["index"]))
    return pd.Series([ttr(r["generated_ids"], window) for r in ordered])


def table4_statistics(table: pd.DataFrame, runs: list[dict], texts: dict[str, list[dict]],
                      original: dict[str, dict], window: int, seed: int) -> pd.DataFrame:
    """Table 4 with a 95% bootstrap interval over texts of the TTR on all evaluation domains, and for each
    trained row the paired difference from the original model on the same texts (each text's value first
    averaged over the seeds): mean, paired bootstrap interval, permutation p-value."""
    import numpy as np

    from .stats import bootstrap_ci, ci_columns, paired_columns, with_columns

    values: dict[tuple[str, str], list] = {}
    for m, o in original.items():
        values[(m, ORIGINAL_ROW)] = [per_text_ttr(o["texts"], window)]
    for r in runs:
        values.setdefault((r["model"], r["label"]), []).append(per_text_ttr(texts[r["texts"]], window))
    rows = []
    for _, row in table.iterrows():
        x = np.mean(np.vstack(values[(row["model"], row["train_data"])]), axis=0)
        base = None if row["train_data"] == ORIGINAL_ROW else np.asarray(values[(row["model"], ORIGINAL_ROW)][0])
        rows.append({**ci_columns("ttr_all", bootstrap_ci(x, seed)), **paired_columns("ttr_diff", x, base, seed)})
    return with_columns(table, rows)


# ------------------------------------------------------------------------------------------ the follow-up
def bias_table(runs: list[dict], metrics: dict[str, pd.DataFrame], entropy: dict[str, dict],
               references: list[dict], scores: dict[str, list[dict]],
               own: dict[str, float] | None = None) -> pd.DataFrame:
    """The follow-up's fixed-bias decoding: per model, bias (`all`: the full-vocabulary bias; `top<K>`: restricted
    to the K tokens whose rank rises most) and strength s, the original model's greedy TTR, rep-2/3/4 (words,
    overlap.pooled_rep) and mean entropy with logits + s x bias on the evaluation texts; then, for reference,
    original and hyperfitted greedy (their own entropy). `metrics[texts]`: per-text metrics;
    `entropy[model][bias]`: {s: entropy}; `scores[path]`; `own[texts]`: the entropy of the row's distribution on
    its own greedy continuations (followup.own_entropy), column entropy_own (NaN where not given)."""
    from scipy import stats

    own = own or {}
    rows = []
    for r in runs:
        m, kind = metrics[r["texts"]], r.get("bias", "all")
        rows.append({"model": r["model"], "decoding": r["label"], "bias": kind, "strength": r["strength"],
                     **_text_means(m), "entropy": entropy[r["model"]][kind][f"{r['strength']:g}"],
                     "entropy_own": own.get(r["texts"], math.nan)})
    for r in references:
        sc = scores[r["scores"]]
        rows.append({"model": r["model"], "decoding": r["label"], "bias": "", "strength": math.nan,
                     **_text_means(metrics[r["texts"]]), "entropy": pooled_entropy(sc),
                     "entropy_own": own.get(r["texts"], math.nan)})
    table = pd.DataFrame(rows)
    table["spearman_rho_strength_ttr"] = math.nan
    for _, part in table[table["strength"].notna()].groupby(["model", "bias"]):
        if part["strength"].nunique() > 2:
            table.loc[part.index, "spearman_rho_strength_ttr"] = stats.spearmanr(part["strength"], part["ttr"]).statistic
    return table


def _text_means(metrics: pd.DataFrame) -> dict:
    return {"ttr": float(metrics["ttr"].mean()), **rep_columns(metrics)}
