"""Sweeps: settings and their sharing, sweep data, statistics, temperature matching, tables (hand-worked)."""
import copy
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from hyperfit import settings as S
from hyperfit.data import select_pools, setting_windows
from hyperfit.errors import UserError
from hyperfit.metrics import score_sequences
from hyperfit.modeling import load_model
from hyperfit.stats import mean_ci, top1_agreement
from hyperfit.sweeptables import comparison_row, data_type_table, quantity_table, shuffle_table, summarize, table4_human
from hyperfit.temperature import bracket, entropy_nll_at_temperatures, geometric_grid, interpolate, match_temperature

ROOT = Path(__file__).resolve().parents[1]


def default_config():
    return yaml.safe_load((ROOT / "config/config.yaml").read_text())


# ------------------------------------------------------------------------------------------ settings
def test_default_table_has_each_setting_once_with_the_experiments_that_use_it():
    cfg = default_config()
    table = S.table(cfg)
    names = [s.name for s in table]
    base = "fiction-n8-L64-u24-b4-lr0.0002-wd0-s0-o0"
    assert names[:2] == ["original", "hyperfitted"] and len(names) == len(set(names)) == 11
    by = {s.name: s for s in table}
    assert not by["original"].trained and set(by["original"].uses) == set(S.EXPERIMENTS)
    assert by["hyperfitted"].train == S.main_train(cfg) and by["hyperfitted"].uses == ("main", "comparison")
    assert by["hyperfitted"].early_stopped and not by[base].early_stopped
    assert set(by[base].uses) == {"shuffle", "quantity", "data_type"}  # one training for three sweeps
    assert {base + "-swap", base.replace("-o0", "-o1"), base.replace("-n8-", "-n4-"), base.replace("-n8-", "-n16-"),
            base.replace("fiction", "wiki"), base.replace("fiction", "news")} <= set(names)
    lora = "fiction-n8-L64-u24-b4-lr0.002-wd0-s0-o0-lora16-"  # the base setting as LoRA adapters (the follow-up)
    assert by[lora + "all"].uses == ("lora",) and by[lora + "last5"].train["lora"]["layers"] == [-5, -4, -3, -2, -1]
    assert S.spelled_name({**S.base_train(cfg, 0), "swap": True}).endswith("-o0-swap")


def test_a_sweep_setting_equal_to_the_main_run_is_the_main_model():
    cfg = default_config()
    cfg["sweeps"]["base"].update(num_samples=16, seq_len=128, updates=48, batch_size=4, lr=1e-4)
    by = {s.name: s for s in S.table(cfg)}
    assert set(by["hyperfitted"].uses) == {"main", "shuffle", "quantity", "data_type", "comparison"}
    assert S.base_train(cfg, 0) == S.main_train(cfg)
    cfg["sweeps"]["seeds"] = [0, 1]
    by1 = {s.name: s for s in S.table(cfg)}
    replica = S.spelled_name(S.main_train(cfg, 1))
    assert by1[replica].early_stopped and "comparison" in by1[replica].uses  # another seed: a replica
    assert len(by1) == 2 * len(by) - 1  # every trained setting per seed, one original


def test_training_settings_fix_the_updates_and_skip_per_epoch_generation():
    cfg = default_config()
    setting = S.Setting("m", "x", {**S.base_train(cfg, 3), "order": 2, "swap": True}, ("shuffle",), False)
    t = S.training_settings(cfg, setting)
    assert t["updates"] == 24 and t["epochs"] is None and t["monitor_new_tokens"] == 0
    assert t["monitor_epochs"] == "ends"
    assert S.training_settings(cfg, S.Setting("m", "x", setting.train, (), True))["monitor_epochs"] == "all"
    assert (t["seed"], t["order"], t["swap"], t["lr"], t["batch_size"]) == (3, 2, True, 2e-4, 4)
    assert t["eval_batch_size"] == cfg["hyperfit"]["eval_batch_size"]
    main = S.training_settings(cfg, S.lookup(cfg)[("smollm2-135m", "hyperfitted")])
    assert main == {**cfg["hyperfit"], "seed": 0, "ttr_window": 96}  # the main run: the hyperfit block as given


def test_every_generation_and_scoring_is_listed_once():
    cfg = default_config()
    gens = S.generations(cfg)
    # Table 1 (5), Figure 5 right and Table 4 (5), the comparison (4: repetition penalty, matched temperature sampled
    # and greedy, early-stopped; + 2 LoRA), the fixed bias (5 strengths; the top-500 bias at the 4 nonzero ones)
    assert len(gens) == len({g["texts"] for g in gens}) == 5 + 5 + 4 + 2 + 5 + 4
    assert len(S.scorings(cfg)) == 10
    blocked = [g for g in gens if g["method"] == "greedy_blocked"]
    assert [g["setting"] for g in blocked] == ["hyperfitted"]  # never on the original model
    assert S.generation("m", "original", "model", "greedy", 96) == "results/eval/m/original/model/greedy-96.jsonl"
    with pytest.raises(ValueError, match="no training data"):
        S.check_generation(cfg, "smollm2-135m", "original", "model", "greedy_blocked")
    with pytest.raises(ValueError, match="keeps no early-stopped weights"):
        S.check_generation(cfg, "smollm2-135m", "fiction-n8-L64-u24-b4-lr0.0002-wd0-s0-o0", "early_stopped", "greedy")


def test_comparison_rows_in_order_with_the_original_rows_once():
    cfg = default_config()
    cfg["sweeps"]["seeds"] = [0, 1]
    rows = S.comparison_runs(cfg)
    labels = [r["label"] for r in rows if r["seed"] == 0]
    assert labels == ["original greedy", "original Top-P", "original greedy + repetition penalty 1.2",
                      "original, sampled at the entropy-matched temperature",
                      "original, greedy at the entropy-matched temperature (= original greedy)", "early-stopped greedy",
                      "hyperfitted greedy", "hyperfitted Top-P", "hyperfitted greedy + citation blocker",
                      "full fine-tune, sweeps' base setting greedy", "LoRA on all layers, sweeps' base setting greedy",
                      "LoRA on the last 5 layers, sweeps' base setting greedy"]
    assert [r["label"] for r in rows if r["seed"] == 1][0] == "original, sampled at the entropy-matched temperature"
    matched = [r for r in rows if r["method"].startswith(S.MATCHED) and not r["method"].startswith(S.MATCHED_GREEDY)]
    assert [S.generation_seed(cfg, r["model"], r["setting"], r["method"]) for r in matched] == [0, 1]
    # the greedy sanity row: greedy at the same matched temperature, read from the same file as the sampled row
    greedy = [r for r in rows if r["method"].startswith(S.MATCHED_GREEDY)]
    assert [r["temperature"] for r in greedy] == [r["temperature"] for r in matched]
    assert S.method_decoding(cfg, greedy[0]["method"]) == {"do_sample": False, "temperature": "matched"}


# ------------------------------------------------------------------------------------------ data
def corpus(doc, words):
    return {"id": doc, "text": " ".join(f"{doc}{i}" for i in range(words))}


def test_pools_nest_avoid_the_evaluation_texts_and_start_with_the_main_windows():
    corpora = {"fiction": [corpus("a", 400)], "news": [corpus("n", 200)]}
    # main selection: two 10-word training windows and one evaluation passage per domain
    selection = {"train_domain": "fiction",
                 "train": [{"doc": "a", "start": 0, "end": 10, "text": "x"}, {"doc": "a", "start": 300, "end": 310,
                                                                               "text": "y"}],
                 "eval": {"fiction": [{"doc": "a", "start": 100, "end": 200}],
                          "news": [{"doc": "n", "start": 0, "end": 300}]}}
    needs = {"fiction": {0: 6, 1: 3}, "news": {0: 4}}
    pools = select_pools(corpora, selection, needs, {"fiction": 10, "news": 10}, main_seed=0)
    main0 = pools["fiction"]["0"]
    assert len(main0) == 6 and {p["start"] for p in main0[:2]} == {0, 300}  # the main windows come first
    for p in main0 + pools["fiction"]["1"]:
        end = p["end"]
        assert not (p["start"] < 200 and 100 < end)  # never inside the evaluation passage
    assert len({(p["doc"], p["start"]) for p in main0}) == 6
    assert all(p["start"] >= 300 for p in pools["news"]["0"])  # the news evaluation passage covers 0..300
    again = select_pools(corpora, selection, needs, {"fiction": 10, "news": 10}, main_seed=0)
    assert again == pools  # deterministic
    with pytest.raises(UserError, match="the settings need 40"):
        select_pools(corpora, selection, {"news": {0: 40}}, {"news": 10}, main_seed=0)


def test_setting_windows_take_the_first_n_of_the_pool_in_text_order():
    tokens = {"pools": {"fiction": {"0": [{"doc": "b", "start": 5, "ids": [1, 2, 3, 4]},
                                         {"doc": "a", "start": 9, "ids": [5, 6, 7]},
                                         {"doc": "a", "start": 1, "ids": [8, 9, 10]}]}}}
    s = {"train_domain": "fiction", "seed": 0, "num_samples": 2, "seq_len": 3}
    assert setting_windows(tokens, s) == [[5, 6, 7], [1, 2, 3]]  # a@9 before b@5; cut to 3 tokens
    assert setting_windows(tokens, {**s, "num_samples": 3}) == [[8, 9, 10], [5, 6, 7], [1, 2, 3]]
    with pytest.raises(UserError, match="fewer than its setting's window of 4"):
        setting_windows(tokens, {**s, "seq_len": 4})
    with pytest.raises(UserError, match="no training passages for domain 'news'"):
        setting_windows(tokens, {**s, "train_domain": "news"})


def test_pool_needs_are_the_largest_sample_per_domain_and_seed():
    cfg = default_config()
    assert S.pool_needs(cfg) == {"fiction": {0: 16}, "news": {0: 8}, "wiki": {0: 8}}
    assert S.pool_seq_len(cfg) == {"fiction": 128, "news": 64, "wiki": 64}  # the main run's windows are longest


# ------------------------------------------------------------------------------------------ statistics
def test_mean_ci_is_a_student_t_interval():
    r = mean_ci([1.0, 2.0, 3.0])
    half = 4.302652729911275 / math.sqrt(3)  # t(0.975, df=2) * sd 1 / sqrt(3)
    assert r["mean"] == 2.0 and r["ci_low"] == pytest.approx(2 - half) and r["ci_high"] == pytest.approx(2 + half)
    one = mean_ci([0.5])
    assert one["mean"] == 0.5 and math.isnan(one["ci_low"]) and one["seeds"] == 1


def test_top1_agreement_pools_positions_over_texts():
    assert top1_agreement([[1, 2, 3], [4]], [[1, 0, 3], [5]]) == 0.5
    with pytest.raises(ValueError):
        top1_agreement([[1, 2]], [[1]])


def test_temperature_search_helpers():
    assert geometric_grid(0.1, 10, 3) == pytest.approx([0.1, 1.0, 10.0])
    curve = [{"temperature": 0.5, "entropy": 1.0, "nll": 3.0}, {"temperature": 1.0, "entropy": 2.0, "nll": 2.0},
             {"temperature": 2.0, "entropy": 4.0, "nll": 2.5}]
    lo, hi = bracket(curve, 3.0)
    assert (lo["temperature"], hi["temperature"]) == (1.0, 2.0)
    assert interpolate(lo, hi, 3.0) == {"temperature": 1.5, "entropy": 3.0, "nll": 2.25}
    assert bracket(curve, 5.0) is None


def test_entropy_at_temperature_one_equals_the_scored_entropy(tiny_model_dir):
    model = load_model(str(tiny_model_dir))
    seqs = [[5, 9, 14, 3, 7, 7], [11, 4, 2]]
    curve = entropy_nll_at_temperatures(model, seqs, [0.5, 1.0, 2.0], pad_id=0, batch_size=2)
    scored = score_sequences(model, seqs, batch_size=2, pad_id=0)
    n = sum(s["n"] for s in scored)
    assert curve[1]["entropy"] == pytest.approx(sum(s["entropy_sum"] for s in scored) / n, rel=1e-5)
    assert curve[1]["nll"] == pytest.approx(sum(s["nll_sum"] for s in scored) / n, rel=1e-5)
    assert curve[0]["entropy"] < curve[1]["entropy"] < curve[2]["entropy"]


def test_match_temperature_recovers_a_known_temperature(tiny_model_dir):
    model = load_model(str(tiny_model_dir))
    seqs = [[5, 9, 14, 3, 7, 7, 21, 40], [11, 4, 2, 8, 8, 30]]
    target = entropy_nll_at_temperatures(model, seqs, [0.37], pad_id=0)[0]["entropy"]
    found = match_temperature(model, seqs, target, 0, 0.05, 5.0, 16)
    assert found["matched"] and found["temperature"] == pytest.approx(0.37, rel=0.01)
    assert found["entropy"] == target and found["ppl"] == pytest.approx(math.exp(found["nll"]))
    too_low = match_temperature(model, seqs, 0.0, 0, 0.05, 5.0, 4)
    assert not too_low["matched"] and too_low["temperature"] == pytest.approx(0.05)


# ------------------------------------------------------------------------------------------ tables
def test_comparison_row_measures_by_hand():
    metrics = pd.DataFrame({"ttr": [3 / 6, 1.0], "overlap": [3, 2], "unique2": [2, 9], "total2": [3, 9],
                            "unique3": [2, 2], "total3": [2, 2], "unique4": [1, 0], "total4": [1, 0]})
    scores = [{"n": 2, "nll_sum": 2.0, "entropy_sum": 1.0}, {"n": 2, "nll_sum": 2.0, "entropy_sum": 3.0}]
    row = comparison_row(metrics, scores, threshold=2)
    assert row["ttr"] == pytest.approx((3 / 6 + 1) / 2)
    # "a b a b" (bigrams ab, ba, ab) and 10 distinct words: pooled 1 - (2 + 9) / (3 + 9) = 1/12, not the mean of
    # 1/3 and 0 (1/6)
    assert row["rep2"] == pytest.approx(1 / 12)
    assert row["rep4"] == 0.0  # the second text has no 4-gram: adds nothing
    assert row["overlap_mean"] == 2.5 and row["overlap_share_gt"] == 0.5  # 3 > 2
    assert row["entropy"] == 1.0 and row["ppl"] == pytest.approx(math.e) and math.isnan(row["temperature"])
    assert math.isnan(row["early_stop_epoch"])
    history = pd.DataFrame({"epoch": [0, 1, 2], "val_loss": [3.0, 2.5, 2.9]})
    matched = comparison_row(metrics, scores, 2, temperature={"entropy": 2.5, "ppl": 9.0, "temperature": 0.8},
                             history=history)
    assert (matched["entropy"], matched["ppl"], matched["temperature"]) == (2.5, 9.0, 0.8)
    assert matched["early_stop_epoch"] == 1


def test_shuffle_table_includes_the_original_and_averages_seeds():
    runs = [{"model": "m", "seed": s, "label": lab, "scores": f"{s}/{lab}"} for s in (0, 1) for lab in ("o0", "swap")]
    argmax = {"0/o0": [[1, 2]], "0/swap": [[1, 3]], "1/o0": [[1, 2]], "1/swap": [[1, 2]]}
    per_seed, summary = shuffle_table(runs, argmax, {"m": [[0, 2]]})
    pair = summary[(summary["a"] == "o0") & (summary["b"] == "swap")].iloc[0]
    assert pair["agreement"] == 0.75 and pair["seeds"] == 2  # seeds: 0.5 and 1.0
    orig = summary[(summary["a"] == "original") & (summary["b"] == "o0")].iloc[0]
    assert orig["agreement"] == 0.5
    assert len(per_seed) == 2 * 9


def test_quantity_table_reads_ttr_epochs_and_final_loss():
    hist = pd.DataFrame({"epoch": [0, 1, 2], "step": [0, 2, 4], "train_loss": [3.0, 1.0, 0.25]})
    runs = [{"model": "m", "seed": 0, "label": 4, "texts": "t", "train": "h"}]
    texts = {"t": [{"generated_ids": [1, 1, 2, 3]}, {"generated_ids": [4, 5, 6, 7]}]}
    _, summary = quantity_table(runs, texts, {"h": hist}, {"m": 0.3}, window=4)
    row = summary.iloc[0]
    assert (row["num_samples"], row["epochs"], row["updates"]) == (4, 2, 4)
    assert row["ttr"] == pytest.approx((0.75 + 1) / 2) and row["final_train_loss"] == 0.25
    assert row["original_ttr"] == 0.3


def test_data_type_table_per_evaluation_domain():
    def recs(ids_by_domain):
        return [{"domain": d, "generated_ids": ids} for d, ids in ids_by_domain]

    def scores(nll):
        return [{"domain": d, "n": 1, "nll_sum": nll, "entropy_sum": 0.0} for d in ("f", "w")]

    original = {"m": {"texts": recs([("f", [1, 1]), ("w", [1, 1])]), "scores": scores(0.0)}}
    runs = [{"model": "m", "seed": 0, "label": "w", "texts": "t", "scores": "s"}]
    human = {("m", "w"): {"human_f": "40.0", "human_all": "45.0"}}
    table = data_type_table(runs, {"t": recs([("f", [1, 2]), ("w", [1, 1])])}, {"s": scores(math.log(2))}, original,
                            window=2, human=human)
    assert table["train_data"].tolist() == ["none (original model)", "w"]
    hf = table.iloc[1]
    assert (hf["ttr_f"], hf["ttr_w"], hf["ttr_average"]) == (1.0, 0.5, 0.75)
    assert hf["ppl_f"] == pytest.approx(2.0) and table.iloc[0]["ppl_w"] == 1.0
    assert [c for c in table.columns if "_ci_" not in c][2:7] == ["ttr_f", "ttr_w", "ttr_average", "ppl_f", "ppl_w"]
    assert table["human_f"].tolist() == ["not collected", "40.0"] and table["human_all"].tolist()[1] == "45.0"
    assert (table["human_w"] == "not collected").all()


def test_table4_human_reads_the_study_kits_rows():
    pref = pd.DataFrame({"model": ["m"] * 5, "variant": ["trained on w (Table 4)"] * 3 + ["original"] * 2,
                         "decoding": ["greedy"] * 5, "length": [96, 96, 128, 96, 96],
                         "domain": ["f", "all", "f", "f", "all"],
                         "preferred_or_equal": ["40.0", "45.0", "99.0", "10.0", "not collected"]})
    spec = {"variants": {"w": "trained on w (Table 4)"}, "decoding": "greedy", "length": 96,
            "original": {"variant": "original"}}
    got = table4_human(pref, spec)
    assert got == {("m", "w"): {"human_f": "40.0", "human_all": "45.0"},
                   ("m", "none (original model)"): {"human_f": "10.0", "human_all": "not collected"}}


def test_summarize_keeps_group_order():
    df = pd.DataFrame({"k": ["b", "a", "b"], "v": [1.0, 5.0, 3.0]})
    out = summarize(df, ["k"], ["v"])
    assert out["k"].tolist() == ["b", "a"] and out["v"].tolist() == [2.0, 5.0] and out["seeds"].tolist() == [2, 1]


def test_default_config_is_not_mutated_by_the_table():
    cfg = default_config()
    before = copy.deepcopy(cfg)
    S.table(cfg)
    S.generations(cfg)
    S.comparison_runs(cfg)
    assert cfg == before


def test_each_experiment_runs_on_its_own_models():
    paper = yaml.safe_load((ROOT / "config/paper.yaml").read_text())
    assert {r["model"] for r in S.sweep_runs(paper, "shuffle")} == {"llama-3.1-8b"}  # the paper's Figure 5 left
    assert {r["model"] for r in S.sweep_runs(paper, "quantity")} == {"tinyllama-1.1b"}
    assert {r["model"] for r in S.comparison_runs(paper)} == {"tinyllama-1.1b"}
    by = S.lookup(paper)
    assert "shuffle" in by[("llama-3.1-8b", "hyperfitted")].uses  # order 0 is Llama's own main run
    assert ("llama-3.1-8b", S.spelled_name({**S.main_train(paper), "swap": True})) in by


def test_match_temperature_agrees_with_an_independent_root_finder(tiny_model_dir):
    """The matched temperature against plain numpy: logits of a hand-made forward pass, entropy of
    softmax(logits / T) in float64, and scipy's brentq solving entropy(T) = target."""
    import numpy as np
    from scipy.optimize import brentq

    model = load_model(str(tiny_model_dir))
    seqs = [[5, 9, 14, 3, 7, 7, 21, 40], [11, 4, 2, 8, 8, 30]]
    logits = np.concatenate([model(input_ids=torch.tensor([s])).logits[0, :-1].detach().double().numpy()
                             for s in seqs])

    def entropy(t):
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        return float(-(p * np.log(np.clip(p, 1e-300, None))).sum(axis=1).mean())

    target = 0.6 * entropy(1.0)
    expected = brentq(lambda t: entropy(t) - target, 0.05, 5.0, xtol=1e-10)
    found = match_temperature(model, seqs, target, 0, 0.05, 5.0, 16)
    assert found["matched"] and found["temperature"] == pytest.approx(expected, rel=2e-3)
    assert entropy(found["temperature"]) == pytest.approx(target, rel=2e-3)


# ------------------------------------------------------------------------------------------ over texts
def test_bootstrap_interval_brackets_the_mean_and_is_seeded():
    from hyperfit.stats import bootstrap_ci

    rng = np.random.default_rng(0)
    x = rng.normal(0.5, 0.1, 200)
    low, high = bootstrap_ci(x, seed=1)
    assert low < x.mean() < high and (low, high) == bootstrap_ci(x, seed=1)
    half = 1.96 * x.std(ddof=1) / math.sqrt(len(x))  # the normal approximation, for a large sample
    assert (high - low) / 2 == pytest.approx(half, rel=0.1)
    assert bootstrap_ci([0.3, 0.3, 0.3], seed=0) == (0.3, 0.3)
    assert all(math.isnan(v) for v in bootstrap_ci([0.3], seed=0))


def test_pooled_ratio_interval_resamples_whole_texts():
    from hyperfit.stats import bootstrap_ratio_ci

    nll, n = [2.0, 4.0, 3.0, 5.0], [2, 2, 3, 5]
    low, high = bootstrap_ratio_ci(nll, n, seed=0, transform=np.exp)
    assert low <= math.exp(sum(nll) / sum(n)) <= high
    assert low >= math.exp(min(a / b for a, b in zip(nll, n))) - 1e-12  # never below the smallest text


def test_paired_difference_finds_a_known_shift_and_no_shift():
    from hyperfit.stats import paired_difference

    rng = np.random.default_rng(3)
    base = rng.normal(0.3, 0.05, 30)
    shifted = paired_difference(base + 0.2 + rng.normal(0, 0.01, 30), base, seed=0)
    assert shifted["diff"] == pytest.approx(0.2, abs=0.01) and shifted["diff_ci_low"] > 0.18
    assert shifted["p_value"] < 0.001  # 30 positive differences: about 2 / 2**30 exactly
    same = paired_difference(base + rng.normal(0, 0.01, 30), base, seed=0)
    assert same["diff_ci_low"] < 0 < same["diff_ci_high"] and same["p_value"] > 0.05
    # tiny exact case: one pair differs by +1, the rest are equal: all 2**n sign flips give |mean| = 1/n or 0
    exact = paired_difference([1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], seed=0)
    assert exact["diff"] == 0.25 and exact["p_value"] == pytest.approx(1.0)


def test_comparison_text_statistics_pair_rows_with_original_greedy_per_text():
    from hyperfit.sweeptables import comparison_text_statistics

    table = pd.DataFrame({"model": ["m"] * 3, "method": ["original greedy", "hyperfitted greedy", "early-stopped"]})
    ttrs = {("m", "original greedy"): [pd.Series([0.2, 0.4, 0.3])],
            ("m", "hyperfitted greedy"): [pd.Series([0.6, 0.8, 0.5]), pd.Series([0.4, 0.6, 0.5])],  # two seeds
            ("m", "early-stopped"): [pd.Series([0.2, 0.4, 0.3])]}
    out = comparison_text_statistics(table, ttrs, seed=0).set_index("method")
    assert out.loc["hyperfitted greedy", "ttr_diff"] == pytest.approx(0.8 / 3)  # 0.3, 0.3, 0.2
    assert out.loc["early-stopped", "ttr_diff"] == 0.0
    assert out.loc["early-stopped", "ttr_diff_p"] == 1.0  # identical texts: no evidence of a difference
    assert math.isnan(out.loc["original greedy", "ttr_diff"])
    assert out.loc["original greedy", "ttr_text_ci_low"] <= 0.3 <= out.loc["original greedy", "ttr_text_ci_high"]


def test_comparison_row_measures_top1_agreement_with_the_original_model():
    metrics = pd.DataFrame({"ttr": [1.0], "overlap": [0], "unique2": [1], "total2": [1], "unique3": [0],
                            "total3": [0], "unique4": [0], "total4": [0]})
    scores = [{"n": 4, "nll_sum": 1.0, "entropy_sum": 1.0, "argmax": [1, 2, 3, 4]}]
    original = [{"n": 4, "nll_sum": 1.0, "entropy_sum": 1.0, "argmax": [1, 2, 0, 0]}]
    assert comparison_row(metrics, scores, 2, original=original)["top1_agreement"] == 0.5
    assert comparison_row(metrics, original, 2, original=original)["top1_agreement"] == 1.0


def test_table4_statistics_pair_each_trained_row_with_the_original_model():
    from hyperfit.sweeptables import table4_statistics

    def recs(ids):
        return [{"domain": d, "index": i, "generated_ids": g} for (d, i), g in zip([("f", 0), ("f", 1), ("w", 0)], ids)]

    original = {"m": {"texts": recs([[1, 1], [1, 1], [1, 2]])}}
    runs = [{"model": "m", "seed": 0, "label": "w", "texts": "t"}]
    table = pd.DataFrame({"model": ["m", "m"], "train_data": ["none (original model)", "w"]})
    out = table4_statistics(table, runs, {"t": recs([[1, 2], [1, 2], [1, 2]])}, original, window=2, seed=0)
    assert out["ttr_diff"].iloc[1] == pytest.approx((0.5 + 0.5 + 0) / 3)
    assert math.isnan(out["ttr_diff"].iloc[0]) and out["ttr_all_ci_low"].iloc[1] == 1.0


def test_bias_table_rows_and_spearman():
    from hyperfit.sweeptables import bias_table

    def m(ttr):
        return pd.DataFrame({"ttr": [ttr], "unique2": [1], "total2": [2], "unique3": [1], "total3": [1],
                             "unique4": [0], "total4": [0]})

    runs = [{"model": "x", "label": f"s = {s:g}", "strength": s, "texts": f"t{s}", "bias": "all"}
            for s in (0.0, 0.5, 1.0)]
    runs += [{"model": "x", "label": f"s = {s:g}, top 5", "strength": s, "texts": f"k{s}", "bias": "top5"}
             for s in (0.0, 0.5, 1.0)]
    metrics = {"t0.0": m(0.4), "t0.5": m(0.3), "t1.0": m(0.2), "ref": m(0.7), "k0.0": m(0.4), "k0.5": m(0.5),
               "k1.0": m(0.6)}
    entropy = {"x": {"all": {"0": 3.0, "0.5": 2.0, "1": 1.0}, "top5": {"0": 3.0, "0.5": 2.5, "1": 2.0}}}
    refs = [{"model": "x", "label": "hyperfitted greedy", "texts": "ref", "scores": "sc"}]
    t = bias_table(runs, metrics, entropy, refs, {"sc": [{"n": 2, "entropy_sum": 1.0}]}, {"t0.5": 1.5, "ref": 0.25})
    assert t["ttr"].tolist() == [0.4, 0.3, 0.2, 0.4, 0.5, 0.6, 0.7]
    assert t["entropy"].tolist() == [3.0, 2.0, 1.0, 3.0, 2.5, 2.0, 0.5]
    assert t["bias"].tolist() == ["all"] * 3 + ["top5"] * 3 + [""]
    assert t["entropy_own"].iloc[1] == 1.5 and t["entropy_own"].iloc[6] == 0.25 and math.isnan(t["entropy_own"].iloc[0])
    assert t["rep2"].iloc[0] == 0.5 and math.isnan(t["rep4"].iloc[0])
    # per bias: TTR falls as s rises with the full bias and rises with the restricted one
    assert t["spearman_rho_strength_ttr"].tolist()[:6] == pytest.approx([-1.0] * 3 + [1.0] * 3)
