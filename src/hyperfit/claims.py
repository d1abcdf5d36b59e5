"""The claims table: each claim of the paper (Carlsson et al., ICLR 2025) and of the 2026 follow-up (Li et al.,
"Beyond Temperature") that the workflow measures, its reference value from the paper, this run's estimate with
its 95% interval, and a verdict that the interval decides (not the point estimate). Computed from the result
tables (and, where a paired interval needs them, the per-text or per-image values behind a table); the only
numbers written here are the papers' own values, each with the table or figure it comes from, and the
thresholds of the verdict rule, stated in CLAIMS_NOTES."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import pandas as pd

from .tables import NOT_COLLECTED

HOLDS, FAILS, INCONCLUSIVE = "holds", "does not hold", "inconclusive"
VERDICTS = (HOLDS, FAILS, INCONCLUSIVE)
NAN = math.nan
Z95 = 1.959963984540054  # the 97.5% quantile of the standard normal

# The verdict rule's thresholds for the claims the papers word qualitatively (stated in CLAIMS_NOTES).
NEAR_ZERO_LOSS = 0.1     # "training loss near zero": below 0.1 nats (the paper's Figure 2 shows 0.05-0.07)
SMALL_TTR_LOSS = 0.05    # "costs little TTR" / "TTR holds" / "similar TTR": a drop of at most 0.05
DOWNSTREAM_MARGIN = 0.05  # "roughly unchanged" downstream: within +-0.05 (5 accuracy points)
ABOUT = 0.10             # "about 30% of top-1 predictions": within +-0.10 of the paper's share

SEED_NEEDS = "a second training seed (sweeps.seeds) for an interval over seeds"
HUMAN_NEEDS = "human ratings (results/human/packets, then human.annotations)"


@dataclass(frozen=True)
class Region:
    """Where a claim puts the true value: above `low`, below `high`, or between both (inclusive)."""
    low: float = -math.inf
    high: float = math.inf

    def text(self) -> str:
        if math.isinf(self.low):
            return f"< {self.high:g}"
        if math.isinf(self.high):
            return f"> {self.low:g}"
        return f"in [{self.low:g}, {self.high:g}]"


def verdict(estimate: float, low: float, high: float, region: Region) -> str:
    """The interval decides: 'holds' when the whole 95% interval lies strictly inside the claimed region,
    'does not hold' when the whole interval lies strictly outside it, 'inconclusive' when it straddles a boundary or when there is no
    interval (or no estimate). The point estimate is never used."""
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (estimate, low, high)):
        return INCONCLUSIVE
    if low > high:
        raise ValueError(f"interval [{low}, {high}] is reversed")
    if region.low < low and high < region.high:
        return HOLDS
    if high < region.low or low > region.high:
        return FAILS
    return INCONCLUSIVE


def difference_interval(a_low: float, a_high: float, b_low: float, b_high: float) -> tuple[float, float]:
    """Interval of a - b from the 95% intervals of a and b when no paired interval exists: [a_low - b_high,
    a_high - b_low]. It contains a - b whenever both intervals contain their values, so it is conservative."""
    return a_low - b_high, a_high - b_low


def proportion_difference_interval(p1: float, p2: float, n1: int, n2: int) -> tuple[float, float]:
    """Wald 95% interval of p2 - p1 for two accuracies on n1 and n2 items, treated as independent (the
    per-item answers are not in the tables; pairing would narrow it)."""
    if not n1 or not n2 or any(math.isnan(v) for v in (p1, p2)):
        return NAN, NAN
    half = Z95 * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return p2 - p1 - half, p2 - p1 + half


def share_interval(share: float, n: int) -> tuple[float, float]:
    """Clopper-Pearson (exact) 95% interval of a share of n texts."""
    from scipy import stats

    if not n or math.isnan(share):
        return NAN, NAN
    k = int(round(share * n))
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
    return float(ci.low), float(ci.high)


def _row(cid: str, model: str, claim: str, source: str, paper: str, measure: str, estimate: float,
         interval: tuple[float, float], region: Region, how: str, paper_value: float = NAN,
         paper_low: float = NAN, paper_high: float = NAN, needs: str = "") -> dict:
    low, high = interval
    if not needs and not math.isnan(estimate) and (math.isnan(low) or math.isnan(high)):
        needs = "an interval"
    return {"id": cid, "model": model, "claim": claim, "source": source, "paper": paper, "paper_value": paper_value,
            "paper_low": paper_low, "paper_high": paper_high, "measure": measure, "estimate": estimate,
            "ci_low": low, "ci_high": high, "interval": how, "region": region.text(),
            "verdict": verdict(estimate, low, high, region), "needs": needs}


# ------------------------------------------------------------------------------------------ the paper
def figure2_claims(histories: dict[str, list[pd.DataFrame]]) -> list[dict]:
    """Training loss to near zero while the validation loss rises (Figure 2): per model, over the seeds of the
    hyperfitted run (one history per seed): the final training loss, and the final validation loss minus its
    lowest value (the rise after the minimum)."""
    from .stats import mean_ci

    rows = []
    for model, hs in histories.items():
        final = mean_ci([float(h["train_loss"].iloc[-1]) for h in hs])
        rise = mean_ci([float(h["val_loss"].iloc[-1] - h["val_loss"].min()) for h in hs])
        needs = SEED_NEEDS if len(hs) < 2 else ""
        how = f"t-interval over {len(hs)} seed(s)"
        rows.append(_row("fig2_train_loss", model, "Training loss falls to near zero", "paper, Figure 2",
                         "0.05-0.07 by epoch 7 (TinyLlama, read off)", "final training loss (nats)", final["mean"],
                         (final["ci_low"], final["ci_high"]), Region(high=NEAR_ZERO_LOSS), how,
                         paper_low=0.05, paper_high=0.07, needs=needs))
        rows.append(_row("fig2_val_rise", model, "Validation loss rises while the training loss falls",
                         "paper, Figure 2", "lowest 2.7 (epoch 1), 5.2 at epoch 20 (TinyLlama, read off)",
                         "final minus lowest validation loss (nats)", rise["mean"], (rise["ci_low"], rise["ci_high"]),
                         Region(low=0.0), how, paper_value=5.2 - 2.7, needs=needs))
    return rows


def _table1_row(table1: pd.DataFrame, model: str, method: str) -> pd.Series | None:
    part = table1[(table1["model"] == model) & (table1["method"] == method)]
    if not len(part):
        return None
    return part.sort_values("length").iloc[-1]  # the longest generation length


def table1_claims(table1: pd.DataFrame) -> list[dict]:
    """Greedy TTR up after hyperfitting (paired over texts); hyperfitted greedy against original Top-P (TTR and
    the human preference); the citation blocker costs little TTR."""
    rows = []
    for model in dict.fromkeys(table1["model"]):
        hyp = _table1_row(table1, model, "hyperfitted greedy")
        top_p = _table1_row(table1, model, "original Top-P")
        blocked = _table1_row(table1, model, "hyperfitted greedy + citation blocker")
        if hyp is not None:
            rows.append(_row("table1_greedy_ttr", model, "Hyperfitting raises the greedy TTR",
                             "paper, Figure 2 (and Table 1)", "greedy TTR 0.24 -> ~0.65 (TinyLlama, Figure 2)",
                             f"TTR, hyperfitted minus original greedy (length {hyp['length']})", hyp["ttr_diff"],
                             (hyp["ttr_diff_ci_low"], hyp["ttr_diff_ci_high"]), Region(low=0.0),
                             "paired bootstrap over texts (Table 1)", paper_value=0.65 - 0.24))
        if hyp is not None and top_p is not None:
            rows.append(_row("table1_vs_top_p_ttr", model, "Hyperfitted greedy is more diverse than original Top-P",
                             "paper, Table 1", "TTR 60.0 vs 28.2 (TinyLlama, x100)",
                             "TTR, hyperfitted greedy minus original Top-P", hyp["ttr"] - top_p["ttr"],
                             difference_interval(hyp["ttr_ci_low"], hyp["ttr_ci_high"], top_p["ttr_ci_low"],
                                                 top_p["ttr_ci_high"]), Region(low=0.0),
                             "two bootstrap intervals over texts combined (conservative)",
                             paper_value=0.600 - 0.282))
            rows.append(_human_row(model, hyp, top_p))
        if hyp is not None and blocked is not None:
            rows.append(_row("table2_blocker_ttr", model, "The citation blocker costs little TTR",
                             "paper, Tables 1-2", "blocked rows beside hyperfitted greedy (no TTR difference stated)",
                             "TTR, hyperfitted greedy + blocker minus hyperfitted greedy", blocked["ttr"] - hyp["ttr"],
                             difference_interval(blocked["ttr_ci_low"], blocked["ttr_ci_high"], hyp["ttr_ci_low"],
                                                 hyp["ttr_ci_high"]), Region(low=-SMALL_TTR_LOSS),
                             "two bootstrap intervals over texts combined (conservative)"))
    return rows


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return NAN


def _human_row(model: str, hyp: pd.Series, top_p: pd.Series) -> dict:
    a, b = _number(hyp.get("human_pref_or_equal")), _number(top_p.get("human_pref_or_equal"))
    collected = not (math.isnan(a) or math.isnan(b))
    interval = difference_interval(*(_number(r.get(f"human_pref_or_equal_{s}")) for r in (hyp, top_p)
                                     for s in ("lo", "hi"))) if collected else (NAN, NAN)
    return _row("table1_vs_top_p_human", model, "Raters prefer hyperfitted greedy to original Top-P more often",
                "paper, Table 1", "preferred or equal 34.3% vs 21.1% (TinyLlama, 256 tokens)",
                "preferred-or-equal %, hyperfitted greedy minus original Top-P", a - b if collected else NAN,
                interval, Region(low=0.0), "two bootstrap intervals over ratings combined (conservative)",
                paper_value=34.3 - 21.1, needs="" if collected else HUMAN_NEEDS)


def table2_claims(table2: pd.DataFrame, threshold: int) -> list[dict]:
    """Low verbatim overlap with the training data: the share of hyperfitted greedy texts sharing more than
    `threshold` tokens with a training window, with an exact binomial interval."""
    rows = []
    col = f"overlap_share_gt{threshold}"
    part = table2[(table2["variant"] == "hyperfitted") & (table2["decoding"] == "greedy")]
    for model, p in part.groupby("model", sort=False):
        r = p.sort_values("length").iloc[-1]
        rows.append(_row("table2_overlap", model, "Hyperfitted texts rarely copy the training data",
                         "paper, Table 2", f"< 2% of texts overlap > 10 tokens", f"share of texts overlapping > "
                         f"{threshold} tokens (hyperfitted greedy, {r['texts']} texts)", float(r[col]),
                         share_interval(float(r[col]), int(r["texts"])), Region(high=0.02),
                         "Clopper-Pearson over texts", paper_low=0.0, paper_high=0.02))
    return rows


def table3_claims(table3: pd.DataFrame) -> list[dict]:
    """Entropy down (paired over texts) and top-1 mass up (two intervals combined), on all domains."""
    rows = []
    every = table3[table3["domain"] == "all"]
    for model, p in every.groupby("model", sort=False):
        by = p.set_index("variant")
        if not {"original", "hyperfitted"} <= set(by.index):
            continue
        h, o = by.loc["hyperfitted"], by.loc["original"]
        rows.append(_row("table3_entropy", model, "Hyperfitting lowers the next-token entropy", "paper, Table 3",
                         "2.84-3.48 -> 1.32-1.46 nats (four models)", "mean entropy, hyperfitted minus original "
                         "(nats)", h["entropy_diff"], (h["entropy_diff_ci_low"], h["entropy_diff_ci_high"]),
                         Region(high=0.0), "paired bootstrap over texts (Table 3)",
                         paper_low=1.32 - 3.48, paper_high=1.46 - 2.84))
        rows.append(_row("table3_top1", model, "Hyperfitting raises the top-1 probability mass", "paper, Table 3",
                         "48.4% -> 74.4% (Llama 3.1 8B)", "top-1 mass, hyperfitted minus original",
                         h["top1"] - o["top1"], difference_interval(h["top1_ci_low"], h["top1_ci_high"],
                                                                    o["top1_ci_low"], o["top1_ci_high"]),
                         Region(low=0.0), "two bootstrap intervals over texts combined (conservative)",
                         paper_value=0.744 - 0.484))
    return rows


def shuffle_claims(shuffle: pd.DataFrame) -> list[dict]:
    """Shuffled data changes about 30% of top-1 predictions (Figure 5 left): 1 - top-1 agreement of the model
    hyperfitted in order 0 and the same windows with a single swap (else the first other order)."""
    rows = []
    for model, p in shuffle.groupby("model", sort=False):
        trained = [x for x in dict.fromkeys(p["a"]) if x != "original"]
        if len(trained) < 2:
            continue
        other = next((x for x in trained[1:] if "swap" in x), trained[1])
        r = p[(p["a"] == trained[0]) & (p["b"] == other)].iloc[0]
        rows.append(_row("fig5_shuffle", model, "A different data order changes about 30% of top-1 predictions",
                         "paper, Figure 5 (left)", "~30% of top-1 predictions differ (Llama 3.1 8B)",
                         f"1 - top-1 agreement, {trained[0]} vs {other}", 1 - r["agreement"],
                         (1 - r["agreement_ci_high"], 1 - r["agreement_ci_low"]), Region(0.30 - ABOUT, 0.30 + ABOUT),
                         f"t-interval over {int(r['seeds'])} seed(s)", paper_value=0.30,
                         needs=SEED_NEEDS if int(r["seeds"]) < 2 else ""))
    return rows


def quantity_claims(quantity: pd.DataFrame) -> list[dict]:
    """The data-quantity trend (Figure 5 right): at a fixed number of updates the greedy TTR holds as the
    windows shrink: TTR with the fewest windows minus TTR with the most, intervals over seeds combined."""
    rows = []
    for model, p in quantity.groupby("model", sort=False):
        p = p.sort_values("num_samples")
        if len(p) < 2:
            continue
        few, many = p.iloc[0], p.iloc[-1]
        seeds = int(min(few["seeds"], many["seeds"]))
        rows.append(_row("fig5_quantity", model, "Greedy TTR holds as the training windows shrink (fixed updates)",
                         "paper, Figure 5 (right)", "TTR holds down to 16 of 2000 samples (5000 updates)",
                         f"TTR with {few['num_samples']} minus with {many['num_samples']} windows",
                         few["ttr"] - many["ttr"], difference_interval(few["ttr_ci_low"], few["ttr_ci_high"],
                                                                       many["ttr_ci_low"], many["ttr_ci_high"]),
                         Region(low=-SMALL_TTR_LOSS), f"two t-intervals over {seeds} seed(s) combined",
                         needs=SEED_NEEDS if seeds < 2 else ""))
    return rows


def downstream_claims(mmlu: pd.DataFrame | None, glue: pd.DataFrame | None) -> list[dict]:
    """Downstream scores roughly unchanged: MMLU overall and every GLUE task measured with accuracy, hyperfitted
    minus original, a Wald interval of two accuracies."""
    rows = []
    if mmlu is not None:
        for _, r in mmlu[mmlu["category"] == "overall"].iterrows():
            n = int(r["questions"])
            rows.append(_row("mmlu", r["model"], "MMLU accuracy roughly unchanged", "paper, Section 5 / Table 8",
                             "only marginally decreasing (no number given for MMLU)",
                             f"accuracy, hyperfitted minus original ({n} questions)", r["difference"],
                             proportion_difference_interval(r["original"], r["hyperfitted"], n, n),
                             Region(-DOWNSTREAM_MARGIN, DOWNSTREAM_MARGIN), "Wald, two accuracies"))
    if glue is not None:
        for _, r in glue[glue["difference"].notna()].iterrows():
            n = int(r["examples"])
            accuracy = r["metric"] == "acc"
            interval = proportion_difference_interval(r["original"], r["hyperfitted"], n, n) if accuracy \
                else (NAN, NAN)
            rows.append(_row(f"glue_{r['task']}_{r['metric']}", r["model"], f"GLUE {r['task']} roughly unchanged",
                             "paper, Table 8", "only marginally decreasing",
                             f"{r['metric']}, hyperfitted minus original ({n} examples)", r["difference"], interval,
                             Region(-DOWNSTREAM_MARGIN, DOWNSTREAM_MARGIN),
                             "Wald, two accuracies" if accuracy else "none for this metric",
                             needs="" if accuracy else "an interval for this metric"))
    return rows


def image_claims(per_image: dict[str, pd.DataFrame], model: str, seed: int) -> list[dict]:
    """Image repetition down (Figure 6): identical-row share of the completed part, hyperfitted minus original,
    paired bootstrap over the same held-out images. `per_image[variant]`: one row per image, in image order."""
    from .stats import paired_difference

    if not {"original", "hyperfitted"} <= set(per_image):
        return []
    d = paired_difference(per_image["hyperfitted"]["identical_row_share"], per_image["original"]["identical_row_share"],
                          seed)
    return [_row("fig6_image_repetition", model, "Hyperfitting stops the image model repeating rows",
                 "paper, Figure 6", "original repeats stripes, hyperfitted draws objects (qualitative)",
                 f"identical-row share, hyperfitted minus original ({len(per_image['original'])} images)", d["diff"],
                 (d["diff_ci_low"], d["diff_ci_high"]), Region(high=0.0), "paired bootstrap over images")]


# ------------------------------------------------------------------------------------------ the follow-up
def _comparison_row(comparison: pd.DataFrame, model: str, prefix: str) -> pd.Series | None:
    part = comparison[(comparison["model"] == model) & comparison["method"].str.startswith(prefix)]
    return part.iloc[0] if len(part) else None


def temperature_claims(comparison: pd.DataFrame) -> list[dict]:
    rows = []
    for model in dict.fromkeys(comparison["model"]):
        hyp = _comparison_row(comparison, model, "hyperfitted greedy")
        matched = _comparison_row(comparison, model, "original, sampled at the entropy-matched temperature")
        if hyp is None or matched is None:
            continue
        rows.append(_row("followup_temperature", model, "An entropy-matched temperature does not reach "
                         "hyperfitted greedy's TTR", "follow-up, Table (temperature)", "TTR 0.684 vs 0.397 at "
                         "equal entropy (TinyLlama)", "TTR, hyperfitted greedy minus original at the matched T",
                         hyp["ttr"] - matched["ttr"], difference_interval(hyp["ttr_text_ci_low"], hyp["ttr_text_ci_high"],
                                                                         matched["ttr_text_ci_low"],
                                                                         matched["ttr_text_ci_high"]),
                         Region(low=0.0), "two bootstrap intervals over texts combined (conservative)",
                         paper_value=0.684 - 0.397))
    return rows


def bias_claims(bias: pd.DataFrame, per_text: dict[tuple[str, str], Sequence[float]], seed: int) -> list[dict]:
    """A fixed logit bias does not reproduce the gain: the best TTR over the bias strengths minus hyperfitted
    greedy's, paired over texts. `per_text[(model, decoding)]`: per-text TTR in text order, for every row of
    the bias table."""
    from .stats import paired_difference

    rows = []
    for model, p in bias.groupby("model", sort=False):
        swept = p[p["strength"].notna() & (p["bias"] == "all" if "bias" in p else True)]  # the full-vocabulary bias
        hyp = p[p["strength"].isna() & p["decoding"].str.startswith("hyperfitted")]
        if not len(swept) or not len(hyp):
            continue
        best, h = swept.loc[swept["ttr"].idxmax()], hyp.iloc[0]
        d = paired_difference(per_text[(model, best["decoding"])], per_text[(model, h["decoding"])], seed)
        rows.append(_row("followup_bias", model, "A fixed logit bias on the original model does not reach "
                         "hyperfitted greedy's TTR", "follow-up, fixed-bias test", "best TTR 0.409 (alpha 0.01) vs "
                         "hyperfitted 0.684 (TinyLlama)", f"TTR, best bias strength ({best['decoding']}) minus "
                         "hyperfitted greedy", d["diff"], (d["diff_ci_low"], d["diff_ci_high"]), Region(high=0.0),
                         "paired bootstrap over texts", paper_value=0.409 - 0.684))
    return rows


def layer_claims(layers: pd.DataFrame) -> list[dict]:
    """The late-layer ('terminal expansion') claims: the last layer's effective dimension rises, and the two
    models' hidden states differ most at the last layer (L2 distance there over the largest before it). The last
    layer is the hidden state after the final norm (the last of transformers' hidden states); before it, the
    embeddings and the outputs of the blocks before the last (not the last block's own output before the norm)."""
    rows = []
    for model, p in layers.groupby("model", sort=False):
        p = p.sort_values("layer", kind="stable")
        last = p[p["stage"] == "after the final norm"].iloc[-1] if "stage" in p else p.iloc[-1]
        before = p[p["layer"] < last["layer"]]
        rows.append(_row("followup_last_layer_dimension", model, "The last layer's effective dimension expands",
                         "follow-up, terminal expansion", "effective dimension +80.8 at the last block (TinyLlama)",
                         f"effective dimension change at layer {int(last['layer'])}", last["effective_dim_change"],
                         (NAN, NAN), Region(low=0.0), "none (one value per layer)", paper_value=80.8,
                         needs="an interval (measure_layers gives one value per layer)"))
        if len(before):
            ratio = float(last["l2_distance"] / before["l2_distance"].max())
            rows.append(_row("followup_last_layer_distance", model, "The change concentrates in the last layer",
                             "follow-up, terminal expansion", "L2 distance 22.0 -> 81.6 at the last block (TinyLlama)",
                             "L2 distance at the last layer / largest before it", ratio, (NAN, NAN), Region(low=1.0),
                             "none (one value per layer)", paper_value=81.6 / 22.0,
                             needs="an interval (measure_layers gives one value per layer)"))
    return rows


def lora_claims(comparison: pd.DataFrame, variants: list[dict]) -> list[dict]:
    """Late-Stage LoRA: the LoRA variant on the fewest layers raises greedy TTR over the original model (paired
    over texts), stays within SMALL_TTR_LOSS of LoRA on all layers, with fewer trainable parameters (exact)."""
    late = [v for v in variants if v.get("layers")]
    full = [v for v in variants if not v.get("layers")]
    rows = []
    if not late:
        return rows
    late = min(late, key=lambda v: len(v["layers"]))
    for model in dict.fromkeys(comparison["model"]):
        lr = _comparison_row(comparison, model, late["label"])
        fr = _comparison_row(comparison, model, full[0]["label"]) if full else None
        if lr is None:
            continue
        rows.append(_row("followup_late_lora_ttr", model, "Late-Stage LoRA raises greedy TTR", "follow-up, LoRA",
                         "TTR 0.469 vs original 0.400 (TinyLlama)", f"TTR, {lr['method']} minus original greedy",
                         lr["ttr_diff"], (lr["ttr_diff_ci_low"], lr["ttr_diff_ci_high"]), Region(low=0.0),
                         "paired bootstrap over texts (comparison)", paper_value=0.469 - 0.400))
        if fr is None:
            continue
        rows.append(_row("followup_late_lora_vs_full", model, "Late-Stage LoRA's TTR is similar to full LoRA's",
                         "follow-up, LoRA", "TTR 0.469 vs 0.508 (TinyLlama)", "TTR, late-stage minus all-layer LoRA",
                         lr["ttr"] - fr["ttr"], difference_interval(lr["ttr_text_ci_low"], lr["ttr_text_ci_high"],
                                                                    fr["ttr_text_ci_low"], fr["ttr_text_ci_high"]),
                         Region(low=-SMALL_TTR_LOSS), "two bootstrap intervals over texts combined (conservative)",
                         paper_value=0.469 - 0.508))
        ratio = float(lr["trainable_parameters"] / fr["trainable_parameters"])
        rows.append(_row("followup_late_lora_parameters", model, "Late-Stage LoRA trains far fewer parameters",
                         "follow-up, LoRA", "~80% fewer trainable parameters", "trainable parameters, late-stage / "
                         "all-layer LoRA", ratio, (ratio, ratio), Region(high=1.0), "exact (a count)",
                         paper_value=0.2))
    return rows


# ------------------------------------------------------------------------------------------ assembly
COLUMNS = ["id", "model", "claim", "source", "paper", "paper_value", "paper_low", "paper_high", "measure",
           "estimate", "ci_low", "ci_high", "interval", "region", "verdict", "needs"]


def claims_table(tables: dict[str, pd.DataFrame], histories: dict[str, list[pd.DataFrame]],
                 bias_texts: dict[tuple[str, str], Sequence[float]], images: dict[str, pd.DataFrame],
                 image_model: str, lora_variants: list[dict], threshold: int, seed: int) -> pd.DataFrame:
    """Every claim the tables measure, in the paper's order, then the follow-up's. `tables`: the result tables
    by name (table1, table2, table3, figure5_shuffle, figure5_quantity, comparison, followup_bias,
    followup_layers, and mmlu / glue where built)."""
    rows = figure2_claims(histories)
    rows += table1_claims(tables["table1"])
    rows += table2_claims(tables["table2"], threshold)
    rows += table3_claims(tables["table3"])
    rows += shuffle_claims(tables["figure5_shuffle"])
    rows += quantity_claims(tables["figure5_quantity"])
    rows += downstream_claims(tables.get("mmlu"), tables.get("glue"))
    rows += image_claims(images, image_model, seed)
    rows += temperature_claims(tables["comparison"])
    rows += bias_claims(tables["followup_bias"], bias_texts, seed)
    rows += layer_claims(tables["followup_layers"])
    rows += lora_claims(tables["comparison"], lora_variants)
    return pd.DataFrame(rows, columns=COLUMNS)


def verdict_counts(table: pd.DataFrame) -> dict[str, int]:
    return {v: int((table["verdict"] == v).sum()) for v in VERDICTS}


def _fmt(v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"


def estimate_cell(row) -> str:
    if math.isnan(row["estimate"]):
        return "not measured"
    if math.isnan(row["ci_low"]):
        return f"{_fmt(row['estimate'])} (no interval)"
    return f"{_fmt(row['estimate'])} [{_fmt(row['ci_low'])}, {_fmt(row['ci_high'])}]"


def page_table(table: pd.DataFrame) -> pd.DataFrame:
    """The claims table as the report's first page shows it: four narrow columns per claim (the page is narrow)."""
    several = table["model"].nunique() > 1
    return pd.DataFrame({
        "claim": [f"{r['claim']} ({r['model']})" if several else r["claim"] for _, r in table.iterrows()],
        "paper": [f"{r['paper']} ({r['source']})" for _, r in table.iterrows()],
        "this run [95% interval]": [f"{r['measure']}: {estimate_cell(r)}; claimed {r['region']}"
                                    for _, r in table.iterrows()],
        "verdict": [f"{r['verdict']} (needs {r['needs']})" if r["needs"] else r["verdict"]
                    for _, r in table.iterrows()]})


def scale_table(config: dict, parameters: dict[str, int], windows: dict[str, int], updates: dict[str, int]) -> pd.DataFrame:
    """What scale the verdicts are at: per model its parameters, training windows x tokens, epochs and
    updates, and the evaluation's size (from the config and the main run's run.json)."""
    data, hyper, gen = config["data"], config["hyperfit"], config["generation"]
    rows = []
    for model, n in parameters.items():
        rows += [("model", model), ("parameters", f"{n:,}"),
                 ("training windows", f"{windows[model]} x {data['seq_len']} tokens"),
                 ("epochs, updates", f"{hyper['epochs']}, {updates[model]} (batch {hyper['batch_size']}, lr {hyper['lr']:g})")]
    rows += [("evaluation texts", f"{data['contexts_per_domain']} per domain x {len(data['eval_domains'])} domains"
              if "eval_domains" in data else f"{data['contexts_per_domain']} per domain"),
             ("generated tokens", ", ".join(str(n) for n in gen["lengths"]))]
    if "base" in config.get("sweeps", {}):
        b = config["sweeps"]["base"]
        rows.append(("Figure 5, Table 4, LoRA rows (sweeps' base setting)",
                     f"{b['num_samples']} x {b['seq_len']} tokens, {b['updates']} updates"))
    rows.append(("training seeds", ", ".join(str(s) for s in config["sweeps"]["seeds"])))
    return pd.DataFrame(rows, columns=["scale", "this run"])


CLAIMS_NOTES = f"""Notes:

- One row per claim of the paper (Carlsson et al., ICLR 2025) and of the 2026 follow-up (Li et al., "Beyond
  Temperature", arXiv 2605.22579) that this workflow measures, per model. paper: the paper's own figure, with the
  table or figure it comes from (read off a figure where marked); paper_value / paper_low, paper_high: the same
  as numbers on the scale of the estimate (a difference where the paper gives two values), empty where the paper
  gives none.
- estimate, ci_low, ci_high: this run's value and its 95% interval, computed from the result tables; interval
  says how: a paired bootstrap over texts or images (2,000 resamples, seeded), a Student-t interval over
  training seeds, a Clopper-Pearson interval of a share of texts, a Wald interval of two accuracies (answers
  treated as independent), or, for the difference of two rows each with its own interval, [low_a - high_b,
  high_a - low_b] (it contains the difference whenever both intervals contain their values: conservative).
- Verdict rule (the interval decides, never the point estimate): holds when the whole interval lies in the
  claimed region (column `region`), does not hold when the whole interval lies outside it, inconclusive when it
  straddles a boundary or when there is no interval; `needs` then says what the run did not build (a second
  training seed, human ratings, an interval the measurement does not give).
- Claimed regions for claims worded qualitatively: "near zero" training loss: < {NEAR_ZERO_LOSS} nats; "costs
  little", "holds" and "similar" TTR: a difference > -{SMALL_TTR_LOSS}; "roughly unchanged" downstream:
  within +-{DOWNSTREAM_MARGIN}; "about 30%": within +-{ABOUT} of 0.30; directional claims: the sign.
- A verdict is about this run's scale (see the scale table beside it): a claim that holds for a 135M-parameter
  model on 16 windows says nothing yet about the paper's 1-70B models on 2,000.
"""


# ------------------------------------------------------------------------------------------ reading a run
TABLES = ("table1", "table2", "table3", "figure5_shuffle", "figure5_quantity", "comparison", "followup_bias",
          "followup_layers")


def read_inputs(tables: dict[str, str], histories: dict[str, list[str]], bias_runs: list[dict], images: str,
                completions: dict[str, str]) -> dict:
    """Everything claims_table needs, read from a finished run's files: `tables[name]`: result table paths;
    `histories[model]`: history.tsv per seed; `bias_runs`: the bias table's rows with model, label and
    per-text metrics path; `images`, `completions[variant]`: Figure 6's data and completions."""
    from .images import completion_scores
    from .runner import read_json, read_jsonl
    from .tables import text_values

    data = read_json(images)
    per_image = {variant: pd.DataFrame([completion_scores(r["pixels"][:r["prompt_pixels"]] + r["generated"],
                                                          data["width"], data["prompt_rows"]) for r in read_jsonl(path)])
                 for variant, path in completions.items()}
    return {"tables": {name: pd.read_csv(path, sep="\t") for name, path in tables.items()},
            "histories": {m: [pd.read_csv(p, sep="\t") for p in paths] for m, paths in histories.items()},
            "bias_texts": {(r["model"], r["label"]): text_values(pd.read_csv(r["metrics"], sep="\t"), "ttr")
                           for r in bias_runs},
            "images": per_image}


def run_scale(config: dict, runs: dict[str, str]) -> pd.DataFrame:
    """The scale table of a run from its config and each model's main training run (run.json)."""
    from .paths import RUN_FACTS, run_file
    from .runner import read_json

    info = {m: read_json(run_file(path, RUN_FACTS)) for m, path in runs.items()}
    return scale_table(config, {m: i["parameters"] for m, i in info.items()},
                       {m: i["windows"] for m, i in info.items()}, {m: i["setting"]["updates"] for m, i in info.items()})


def claims_markdown(table: pd.DataFrame, scale: pd.DataFrame) -> str:
    counts = verdict_counts(table)
    head = ", ".join(f"{n} {v}" for v, n in counts.items())
    return ("## Claims\n\n" + page_table(table).to_markdown(index=False) + f"\n\nVerdicts: {head}.\n\n"
            "## Scale of this run\n\n" + scale.to_markdown(index=False) + "\n\n" + CLAIMS_NOTES)


# ------------------------------------------------------------------------------------------ the figure
VERDICT_COLOURS = {HOLDS: "#1a7f37", FAILS: "#cf222e", INCONCLUSIVE: "#9a6700"}


def _region_bounds(text: str) -> tuple[float, float]:
    if text.startswith("<"):
        return -math.inf, float(text[1:])
    if text.startswith(">"):
        return float(text[1:]), math.inf
    low, high = text[len("in ["):-1].split(",")
    return float(low), float(high)


def claims_figure(table: pd.DataFrame):
    """One strip per claim, each on its own scale: the claimed region shaded, this run's estimate and 95%
    interval coloured by its verdict (a hollow marker: no interval), the paper's value (diamond) or range (bar)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    n = max(len(table), 1)
    height = 0.7 * n + 1.0
    fig, axes = plt.subplots(n, 1, figsize=(11, height), squeeze=False)
    for ax, (_, r) in zip(axes[:, 0], table.iterrows()):
        values = [v for v in (r["estimate"], r["ci_low"], r["ci_high"], r["paper_value"], r["paper_low"],
                              r["paper_high"]) if not math.isnan(v)]
        low, high = _region_bounds(r["region"])
        values += [v for v in (low, high) if not math.isinf(v)]
        lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
        pad = (hi - lo) * 0.15 or abs(hi) * 0.2 or 0.1
        lo, hi = lo - pad, hi + pad
        ax.axvspan(max(low, lo), min(high, hi), color="#dafbe1", zorder=0)
        colour = VERDICT_COLOURS[r["verdict"]]
        if not math.isnan(r["paper_value"]):
            ax.plot([r["paper_value"]], [0], "D", color="#0969da", ms=6, zorder=3)
        elif not math.isnan(r["paper_low"]):
            ax.plot([r["paper_low"], r["paper_high"]], [0, 0], "-", color="#0969da", lw=6, alpha=0.5, zorder=2)
        if not math.isnan(r["estimate"]):
            has_ci = not math.isnan(r["ci_low"])
            if has_ci:
                ax.plot([r["ci_low"], r["ci_high"]], [0, 0], "-", color=colour, lw=2, zorder=4)
            ax.plot([r["estimate"]], [0], "o", color=colour, mfc=colour if has_ci else "white", ms=7, zorder=5)
        else:
            ax.text(0.5, 0, "not measured: " + r["needs"], transform=ax.get_yaxis_transform(), ha="center",
                    va="center", fontsize=7, color=colour)
        ax.set_xlim(lo, hi)
        ax.set_ylim(-1, 1)
        ax.set_yticks([])
        ax.tick_params(axis="x", labelsize=7, pad=1)
        ax.set_ylabel(f"{r['claim']}\n({r['model']}; {r['verdict']})", rotation=0, ha="right", va="center",
                      fontsize=7, color=colour)
        ax.text(0.005, 0.93, r["measure"], transform=ax.transAxes, ha="left", va="top", fontsize=6, color="#57606a")
        ax.grid(axis="x", alpha=0.3)
    handles = [Line2D([], [], marker="o", ls="-", color=c, label=v) for v, c in VERDICT_COLOURS.items()]
    handles += [Line2D([], [], marker="D", ls="", color="#0969da", label="paper's value (bar: range)"),
                Line2D([], [], lw=6, color="#dafbe1", label="claimed region")]
    fig.legend(handles=handles, loc="upper center", ncol=5, fontsize=7, frameon=False, bbox_to_anchor=(0.5, 1))
    fig.suptitle("Claims: this run's estimate and 95% interval (hollow: no interval) against the paper's value",
                 fontsize=9, y=1 - 0.3 / height)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.45 / height))
    return fig
