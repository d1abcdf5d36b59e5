"""The claims table (hyperfit.claims): the verdict rule, the intervals, and each claim computed from hand-made
tables whose answers are worked out by hand."""
from __future__ import annotations

import math

import pandas as pd
import pytest
from conftest import assert_figure
from hyperfit import claims as C
from hyperfit.claims import FAILS, HOLDS, INCONCLUSIVE, Region, verdict

NAN = math.nan


# ------------------------------------------------------------------------------------------ the rule
@pytest.mark.parametrize("low, high, region, expected", [
    (0.1, 0.3, Region(low=0.0), HOLDS),
    (-0.3, -0.1, Region(low=0.0), FAILS),
    (-0.1, 0.1, Region(low=0.0), INCONCLUSIVE),
    (0.0, 0.1, Region(low=0.0), INCONCLUSIVE),          # touching the boundary is not inside it
    (-0.2, -0.1, Region(high=0.0), HOLDS),
    (0.01, 0.2, Region(high=0.0), FAILS),
    (-0.02, 0.03, Region(-0.05, 0.05), HOLDS),
    (0.06, 0.10, Region(-0.05, 0.05), FAILS),
    (-0.10, -0.06, Region(-0.05, 0.05), FAILS),
    (0.00, 0.08, Region(-0.05, 0.05), INCONCLUSIVE),
    (-0.2, 0.2, Region(-0.05, 0.05), INCONCLUSIVE),     # wider than the region on both sides
    (0.2, 0.2, Region(high=1.0), HOLDS),                # an exact count: a degenerate interval
    (NAN, NAN, Region(low=0.0), INCONCLUSIVE),          # no interval
])
def test_the_interval_decides(low, high, region, expected):
    assert verdict(0.5, low, high, region) == expected


def test_the_point_estimate_never_decides():
    assert verdict(-5.0, 0.1, 0.2, Region(low=0.0)) == HOLDS
    assert verdict(5.0, -0.2, -0.1, Region(low=0.0)) == FAILS
    assert verdict(NAN, 0.1, 0.2, Region(low=0.0)) == INCONCLUSIVE  # nothing measured


def test_a_reversed_interval_is_an_error():
    with pytest.raises(ValueError):
        verdict(0.0, 0.2, 0.1, Region(low=0.0))


def test_region_text():
    assert Region(low=0.0).text() == "> 0" and Region(high=0.02).text() == "< 0.02"
    assert Region(-0.05, 0.05).text() == "in [-0.05, 0.05]"


def test_intervals_worked_by_hand():
    assert C.difference_interval(0.5, 0.7, 0.2, 0.3) == pytest.approx((0.2, 0.5))
    # 1.96 * sqrt(0.5 * 0.5 / 100 + 0.6 * 0.4 / 100) = 1.96 * 0.07 = 0.1372
    assert C.proportion_difference_interval(0.5, 0.6, 100, 100) == pytest.approx((0.1 - 0.1372, 0.1 + 0.1372),
                                                                                 abs=1e-4)
    # Clopper-Pearson for 0 of n: [0, 1 - 0.025 ** (1 / n)]
    assert C.share_interval(0.0, 30) == pytest.approx((0.0, 1 - 0.025 ** (1 / 30)))
    assert C.share_interval(0.0, 30)[1] == pytest.approx(0.1157, abs=1e-4)
    assert all(math.isnan(v) for v in C.share_interval(0.1, 0))


# ------------------------------------------------------------------------------------------ the claims
def by_id(rows: list[dict]) -> dict[str, dict]:
    return {r["id"]: r for r in rows}


def history(train: list[float], val: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"epoch": range(len(train)), "train_loss": train, "val_loss": val})


def test_figure2_over_seeds():
    # final train losses 0.05, 0.051: mean 0.0505, sd 0.000707, t(0.975, 1) = 12.706: half 0.00635 -> < 0.1
    # rises (final minus lowest validation loss): 3.5 - 2.5 = 1.0 and 3.2 - 2.0 = 1.2: mean 1.1, half 1.2706
    rows = by_id(C.figure2_claims({"m": [history([3, 1, 0.05], [3.0, 2.5, 3.5]),
                                         history([3, 1, 0.051], [3.0, 2.0, 3.2])]}))
    train, rise = rows["fig2_train_loss"], rows["fig2_val_rise"]
    assert train["estimate"] == pytest.approx(0.0505)
    assert (train["ci_low"], train["ci_high"]) == pytest.approx((0.0505 - 0.006353, 0.0505 + 0.006353), abs=1e-5)
    assert train["verdict"] == HOLDS and train["needs"] == ""
    assert rise["estimate"] == pytest.approx(1.1)
    assert (rise["ci_low"], rise["ci_high"]) == pytest.approx((1.1 - 1.2706, 1.1 + 1.2706), abs=1e-3)
    assert rise["verdict"] == INCONCLUSIVE  # two seeds disagree too much to exclude no rise
    assert rise["paper_value"] == pytest.approx(2.5)


def test_figure2_with_one_seed_asks_for_a_second():
    rows = by_id(C.figure2_claims({"m": [history([3, 1, 0.02], [3.0, 2.5, 3.5])]}))
    for r in rows.values():
        assert r["verdict"] == INCONCLUSIVE and r["needs"] == C.SEED_NEEDS and math.isnan(r["ci_low"])
    assert rows["fig2_train_loss"]["estimate"] == pytest.approx(0.02)
    assert rows["fig2_val_rise"]["estimate"] == pytest.approx(1.0)


def table1(human: bool = False) -> pd.DataFrame:
    rows = [("original greedy", 0.2, 0.15, 0.25, NAN, NAN, NAN),
            ("original Top-P", 0.3, 0.25, 0.35, NAN, NAN, NAN),
            ("hyperfitted greedy", 0.6, 0.55, 0.65, 0.4, 0.35, 0.45),
            ("hyperfitted greedy + citation blocker", 0.58, 0.52, 0.64, 0.38, 0.3, 0.46)]
    t = pd.DataFrame(rows, columns=["method", "ttr", "ttr_ci_low", "ttr_ci_high", "ttr_diff", "ttr_diff_ci_low",
                                    "ttr_diff_ci_high"]).assign(model="m", length=96)
    t["human_pref_or_equal"] = "not collected"
    if human:
        t["human_pref_or_equal"] = [10.0, 20.0, 40.0, 40.0]
        t["human_pref_or_equal_lo"] = [5.0, 15.0, 35.0, 35.0]
        t["human_pref_or_equal_hi"] = [15.0, 25.0, 45.0, 45.0]
    return t


def test_table1_claims():
    rows = by_id(C.table1_claims(table1()))
    assert rows["table1_greedy_ttr"]["estimate"] == pytest.approx(0.4)
    assert rows["table1_greedy_ttr"]["verdict"] == HOLDS
    vs = rows["table1_vs_top_p_ttr"]  # 0.6 - 0.3; [0.55 - 0.35, 0.65 - 0.25]
    assert (vs["estimate"], vs["ci_low"], vs["ci_high"]) == pytest.approx((0.3, 0.2, 0.4))
    assert vs["verdict"] == HOLDS and vs["paper_value"] == pytest.approx(0.318)
    blocker = rows["table2_blocker_ttr"]  # 0.58 - 0.6; [0.52 - 0.65, 0.64 - 0.55]: crosses -0.05
    assert (blocker["estimate"], blocker["ci_low"], blocker["ci_high"]) == pytest.approx((-0.02, -0.13, 0.09))
    assert blocker["verdict"] == INCONCLUSIVE
    human = rows["table1_vs_top_p_human"]
    assert math.isnan(human["estimate"]) and human["verdict"] == INCONCLUSIVE and human["needs"] == C.HUMAN_NEEDS


def test_table1_human_claim_once_rated():
    human = by_id(C.table1_claims(table1(human=True)))["table1_vs_top_p_human"]
    assert (human["estimate"], human["ci_low"], human["ci_high"]) == pytest.approx((20.0, 10.0, 30.0))
    assert human["verdict"] == HOLDS and human["needs"] == ""
    assert human["paper_value"] == pytest.approx(13.2)


def test_table1_uses_the_longest_length():
    t = pd.concat([table1().assign(length=32, ttr_diff=-0.1, ttr_diff_ci_low=-0.2, ttr_diff_ci_high=-0.05),
                   table1()])
    assert by_id(C.table1_claims(t))["table1_greedy_ttr"]["verdict"] == HOLDS


def test_table2_overlap_claim():
    def t2(texts):
        return pd.DataFrame([{"model": "m", "variant": "hyperfitted", "decoding": "greedy", "length": 96,
                              "texts": texts, "overlap_share_gt10": 0.0},
                             {"model": "m", "variant": "original", "decoding": "greedy", "length": 96,
                              "texts": texts, "overlap_share_gt10": 0.5}])
    few = C.table2_claims(t2(30), 10)[0]  # 0 of 30: the interval reaches 0.116, above 2%
    assert (few["estimate"], few["ci_low"], few["ci_high"]) == pytest.approx((0.0, 0.0, 0.1157), abs=1e-4)
    assert few["verdict"] == INCONCLUSIVE
    many = C.table2_claims(t2(300), 10)[0]  # 0 of 300: 1 - 0.025 ** (1 / 300) = 0.0122 < 0.02
    assert many["ci_high"] == pytest.approx(0.01222, abs=1e-4) and many["verdict"] == HOLDS


def test_table3_claims():
    t3 = pd.DataFrame([
        {"model": "m", "variant": "hyperfitted", "domain": "all", "entropy": 1.5, "top1": 0.7, "top1_ci_low": 0.68,
         "top1_ci_high": 0.72, "entropy_diff": -1.5, "entropy_diff_ci_low": -1.6, "entropy_diff_ci_high": -1.4},
        {"model": "m", "variant": "original", "domain": "all", "entropy": 3.0, "top1": 0.4, "top1_ci_low": 0.38,
         "top1_ci_high": 0.42, "entropy_diff": NAN, "entropy_diff_ci_low": NAN, "entropy_diff_ci_high": NAN},
        {"model": "m", "variant": "hyperfitted", "domain": "wiki", "entropy": 9.0, "top1": 0.1, "top1_ci_low": 0.0,
         "top1_ci_high": 0.2, "entropy_diff": 6.0, "entropy_diff_ci_low": 5.0, "entropy_diff_ci_high": 7.0}])
    rows = by_id(C.table3_claims(t3))
    assert rows["table3_entropy"]["estimate"] == pytest.approx(-1.5) and rows["table3_entropy"]["verdict"] == HOLDS
    top1 = rows["table3_top1"]  # 0.7 - 0.4; [0.68 - 0.42, 0.72 - 0.38]
    assert (top1["estimate"], top1["ci_low"], top1["ci_high"]) == pytest.approx((0.3, 0.26, 0.34))
    assert top1["verdict"] == HOLDS and top1["paper_value"] == pytest.approx(0.26)


def shuffle_table(agreement=0.7, low=0.65, high=0.75, seeds=2) -> pd.DataFrame:
    labels = ["original", "order 0", "order 0, one swap"]
    rows = []
    for a in labels:
        for b in labels:
            value = 1.0 if a == b else (agreement if {a, b} == {"order 0", "order 0, one swap"} else 0.5)
            lo, hi = (value, value) if a == b else ((low, high) if value == agreement else (0.4, 0.6))
            rows.append({"model": "m", "a": a, "b": b, "agreement": value, "agreement_ci_low": lo,
                         "agreement_ci_high": hi, "seeds": seeds})
    return pd.DataFrame(rows)


def test_shuffle_claim():
    r = C.shuffle_claims(shuffle_table())[0]  # 1 - 0.7, interval [1 - 0.75, 1 - 0.65]
    assert (r["estimate"], r["ci_low"], r["ci_high"]) == pytest.approx((0.3, 0.25, 0.35))
    assert r["verdict"] == HOLDS and "one swap" in r["measure"]
    far = C.shuffle_claims(shuffle_table(0.95, 0.93, 0.97))[0]  # 5% differ: [0.03, 0.07], below [0.2, 0.4]
    assert far["verdict"] == FAILS
    one = C.shuffle_claims(shuffle_table(0.7, NAN, NAN, seeds=1))[0]
    assert one["verdict"] == INCONCLUSIVE and one["needs"] == C.SEED_NEEDS


def test_quantity_claim():
    q = pd.DataFrame([{"model": "m", "num_samples": 16, "ttr": 0.52, "ttr_ci_low": 0.50, "ttr_ci_high": 0.54,
                       "seeds": 2},
                      {"model": "m", "num_samples": 4, "ttr": 0.5, "ttr_ci_low": 0.45, "ttr_ci_high": 0.55,
                       "seeds": 2}])
    r = C.quantity_claims(q)[0]  # 4 windows minus 16: -0.02, [0.45 - 0.54, 0.55 - 0.50]
    assert (r["estimate"], r["ci_low"], r["ci_high"]) == pytest.approx((-0.02, -0.09, 0.05))
    assert r["verdict"] == INCONCLUSIVE and "4 minus with 16" in r["measure"]


def test_downstream_claims():
    mmlu = pd.DataFrame([{"model": "m", "category": "overall", "questions": 100, "original": 0.5,
                          "hyperfitted": 0.6, "difference": 0.1},
                         {"model": "m", "category": "stem", "questions": 10, "original": 0.5, "hyperfitted": 0.5,
                          "difference": 0.0}])
    glue = pd.DataFrame([{"model": "m", "task": "sst2", "metric": "acc", "examples": 10000, "original": 0.8,
                          "hyperfitted": 0.8, "difference": 0.0},
                         {"model": "m", "task": "cola", "metric": "mcc", "examples": 100, "original": 0.1,
                          "hyperfitted": 0.1, "difference": 0.0},
                         {"model": "m", "task": "rte", "metric": "acc", "examples": None, "original": NAN,
                          "hyperfitted": NAN, "difference": NAN}])
    rows = by_id(C.downstream_claims(mmlu, glue))
    assert set(rows) == {"mmlu", "glue_sst2_acc", "glue_cola_mcc"}  # skipped tasks are not claims
    assert (rows["mmlu"]["ci_low"], rows["mmlu"]["ci_high"]) == pytest.approx((-0.0372, 0.2372), abs=1e-4)
    assert rows["mmlu"]["verdict"] == INCONCLUSIVE
    # 1.96 * sqrt(2 * 0.16 / 10000) = 0.0111: inside +-0.05
    assert rows["glue_sst2_acc"]["ci_high"] == pytest.approx(0.01109, abs=1e-4)
    assert rows["glue_sst2_acc"]["verdict"] == HOLDS
    assert rows["glue_cola_mcc"]["verdict"] == INCONCLUSIVE and "interval" in rows["glue_cola_mcc"]["needs"]
    assert C.downstream_claims(None, None) == []


def test_image_claim_pairs_the_images():
    per_image = {"original": pd.DataFrame({"identical_row_share": [1.0, 1.0, 0.5, 1.0]}),
                 "hyperfitted": pd.DataFrame({"identical_row_share": [0.0, 0.5, 0.0, 0.0]})}
    r = C.image_claims(per_image, "digits", seed=0)[0]  # per-image differences -1, -0.5, -0.5, -1
    assert r["estimate"] == pytest.approx(-0.75)
    assert -1.0 <= r["ci_low"] <= r["ci_high"] <= -0.5 and r["verdict"] == HOLDS


def comparison() -> pd.DataFrame:
    rows = [("original greedy", 0.2, 0.15, 0.25, NAN, NAN, NAN, NAN),
            ("original, sampled at the entropy-matched temperature", 0.4, 0.35, 0.45, 0.2, 0.1, 0.3, NAN),
            ("hyperfitted greedy", 0.6, 0.55, 0.65, 0.4, 0.3, 0.5, 5000),
            ("LoRA on all layers, sweeps' base setting greedy", 0.5, 0.45, 0.55, 0.3, 0.2, 0.4, 1000),
            ("LoRA on the last 5 layers, sweeps' base setting greedy", 0.48, 0.44, 0.52, 0.1, 0.05, 0.15, 200)]
    return pd.DataFrame(rows, columns=["method", "ttr", "ttr_text_ci_low", "ttr_text_ci_high", "ttr_diff",
                                       "ttr_diff_ci_low", "ttr_diff_ci_high", "trainable_parameters"]).assign(model="m")


LORA = [{"name": "all", "label": "LoRA on all layers", "layers": None},
        {"name": "last5", "label": "LoRA on the last 5 layers", "layers": [-5, -4, -3, -2, -1]}]


def test_temperature_claim():
    r = C.temperature_claims(comparison())[0]  # 0.6 - 0.4; [0.55 - 0.45, 0.65 - 0.35]
    assert (r["estimate"], r["ci_low"], r["ci_high"]) == pytest.approx((0.2, 0.1, 0.3))
    assert r["verdict"] == HOLDS and r["paper_value"] == pytest.approx(0.287)


def test_lora_claims():
    rows = by_id(C.lora_claims(comparison(), LORA))
    assert rows["followup_late_lora_ttr"]["estimate"] == pytest.approx(0.1)
    assert rows["followup_late_lora_ttr"]["verdict"] == HOLDS
    vs = rows["followup_late_lora_vs_full"]  # 0.48 - 0.5; [0.44 - 0.55, 0.52 - 0.45]
    assert (vs["estimate"], vs["ci_low"], vs["ci_high"]) == pytest.approx((-0.02, -0.11, 0.07))
    assert vs["verdict"] == INCONCLUSIVE
    params = rows["followup_late_lora_parameters"]  # 200 / 1000, exact
    assert (params["estimate"], params["ci_low"], params["ci_high"]) == pytest.approx((0.2, 0.2, 0.2))
    assert params["verdict"] == HOLDS
    assert C.lora_claims(comparison(), LORA[:1]) == []  # no late-stage variant configured


def test_bias_claim_pairs_the_texts():
    bias = pd.DataFrame([{"model": "m", "decoding": "s = 0", "strength": 0.0, "ttr": 0.3},
                         {"model": "m", "decoding": "s = 0.5", "strength": 0.5, "ttr": 0.2},
                         {"model": "m", "decoding": "original greedy", "strength": NAN, "ttr": 0.3},
                         {"model": "m", "decoding": "hyperfitted greedy", "strength": NAN, "ttr": 0.6}])
    per_text = {("m", "s = 0"): [0.2, 0.3, 0.4], ("m", "s = 0.5"): [0.1, 0.2, 0.3],
                ("m", "original greedy"): [0.2, 0.3, 0.4], ("m", "hyperfitted greedy"): [0.5, 0.6, 0.7]}
    r = C.bias_claims(bias, per_text, seed=0)[0]  # the best strength (s = 0) minus hyperfitted: -0.3 on every text
    assert (r["estimate"], r["ci_low"], r["ci_high"]) == pytest.approx((-0.3, -0.3, -0.3))
    assert r["verdict"] == HOLDS and "s = 0)" in r["measure"]
    assert r["paper_value"] == pytest.approx(0.409 - 0.684)


def test_layer_claims_have_no_interval():
    layers = pd.DataFrame({"model": "m", "layer": [0, 1, 2], "l2_distance": [1.0, 2.0, 8.0],
                           "effective_dim_change": [0.0, -1.0, 5.0]})
    rows = by_id(C.layer_claims(layers))
    assert rows["followup_last_layer_dimension"]["estimate"] == 5.0
    assert rows["followup_last_layer_distance"]["estimate"] == pytest.approx(4.0)
    for r in rows.values():
        assert r["verdict"] == INCONCLUSIVE and "interval" in r["needs"]


# ------------------------------------------------------------------------------------------ assembly
def all_tables() -> dict:
    t2 = pd.DataFrame([{"model": "m", "variant": "hyperfitted", "decoding": "greedy", "length": 96, "texts": 300,
                        "overlap_share_gt10": 0.0}])
    t3 = pd.DataFrame([{"model": "m", "variant": v, "domain": "all", "top1": t, "top1_ci_low": t - 0.01,
                        "top1_ci_high": t + 0.01, "entropy_diff": d, "entropy_diff_ci_low": d - 0.1,
                        "entropy_diff_ci_high": d + 0.1} for v, t, d in (("original", 0.4, NAN),
                                                                       ("hyperfitted", 0.7, -1.0))])
    q = pd.DataFrame([{"model": "m", "num_samples": n, "ttr": 0.5, "ttr_ci_low": NAN, "ttr_ci_high": NAN,
                       "seeds": 1} for n in (4, 16)])
    bias = pd.DataFrame([{"model": "m", "decoding": "s = 0", "strength": 0.0, "ttr": 0.3},
                         {"model": "m", "decoding": "hyperfitted greedy", "strength": NAN, "ttr": 0.6}])
    layers = pd.DataFrame({"model": "m", "layer": [0, 1], "l2_distance": [1.0, 3.0], "effective_dim_change": [0, 2]})
    return {"table1": table1(), "table2": t2, "table3": t3, "figure5_shuffle": shuffle_table(),
            "figure5_quantity": q, "comparison": comparison(), "followup_bias": bias, "followup_layers": layers}


def test_claims_table_in_order_and_its_outputs(tmp_path):
    per_image = {"original": pd.DataFrame({"identical_row_share": [1.0, 0.5]}),
                 "hyperfitted": pd.DataFrame({"identical_row_share": [0.0, 0.0]})}
    table = C.claims_table(all_tables(), {"m": [history([3, 0.05], [3, 4])]},
                           {("m", "s = 0"): [0.3, 0.3], ("m", "hyperfitted greedy"): [0.6, 0.6]}, per_image, "digits",
                           LORA, threshold=10, seed=0)
    assert table["id"].tolist() == [
        "fig2_train_loss", "fig2_val_rise", "table1_greedy_ttr", "table1_vs_top_p_ttr", "table1_vs_top_p_human",
        "table2_blocker_ttr", "table2_overlap", "table3_entropy", "table3_top1", "fig5_shuffle", "fig5_quantity",
        "fig6_image_repetition", "followup_temperature", "followup_bias", "followup_last_layer_dimension",
        "followup_last_layer_distance", "followup_late_lora_ttr", "followup_late_lora_vs_full",
        "followup_late_lora_parameters"]
    assert list(table.columns) == C.COLUMNS
    counts = C.verdict_counts(table)
    assert sum(counts.values()) == len(table) and counts[HOLDS] == 11
    scale = C.scale_table({"data": {"seq_len": 128, "contexts_per_domain": 10},
                           "hyperfit": {"epochs": 12, "batch_size": 4, "lr": 1e-4},
                           "generation": {"lengths": [96]},
                           "sweeps": {"seeds": [0], "base": {"num_samples": 8, "seq_len": 64, "updates": 24}}},
                          {"m": 134_515_008}, {"m": 16}, {"m": 48})
    assert dict(zip(scale["scale"], scale["this run"]))["parameters"] == "134,515,008"
    shown = scale["this run"].tolist()
    assert "16 x 128 tokens" in shown and "12, 48 (batch 4, lr 0.0001)" in shown and "8 x 64 tokens, 24 updates" in shown
    md = C.claims_markdown(table, scale)
    assert f"Verdicts: {counts[HOLDS]} holds, {counts[FAILS]} does not hold, {counts[INCONCLUSIVE]} inconclusive" in md
    assert "Verdict rule" in md and "## Scale of this run" in md
    page = C.page_table(table)
    assert list(page.columns) == ["claim", "paper", "this run [95% interval]", "verdict"]
    assert page.loc[0, "this run [95% interval]"] == "final training loss (nats): 0.05 (no interval); claimed < 0.1"
    assert page.loc[4, "this run [95% interval]"].endswith(": not measured; claimed > 0")
    assert page.loc[4, "verdict"] == f"inconclusive (needs {C.HUMAN_NEEDS})"
    assert page.loc[2, "paper"] == "greedy TTR 0.24 -> ~0.65 (TinyLlama, Figure 2) (paper, Figure 2 (and Table 1))"
    from hyperfit.plots import save

    save(C.claims_figure(table), tmp_path / "claims.png")
    assert_figure(tmp_path / "claims.png")
