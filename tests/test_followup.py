"""The 2026 follow-up's analyses by hand: effective dimension of a hand-made covariance, the fixed-bias decoding on
a tiny model against a step-by-step computation, ranks and the top-K bias, layer rows, the overrides table, and
MAUVE's wiring on tiny features."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from hyperfit.followup import (BiasProcessor, biased_entropy, layer_rows, logit_bias, mauve_score, overrides_table,
                               participation_ratio, text_features, token_ranks, top_k_bias)
from hyperfit.modeling import load_model, load_tokenizer


def test_participation_ratio_of_hand_made_spectra():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((20000, 3))
    z = (z - z.mean(0)) / z.std(0)
    # variances 4, 1, 1 along three axes: (4 + 1 + 1)^2 / (16 + 1 + 1) = 2
    assert participation_ratio(z * np.array([2.0, 1.0, 1.0])) == pytest.approx(2.0, rel=0.02)
    # equal variances in 5 dimensions: 5; all variance on one line: 1
    assert participation_ratio(rng.standard_normal((20000, 5))) == pytest.approx(5.0, rel=0.02)
    line = np.outer(rng.standard_normal(100), [1.0, 2.0, -1.0])
    assert participation_ratio(line) == pytest.approx(1.0)
    assert participation_ratio(np.ones((4, 3))) == 0.0  # no variance at all


def test_layer_rows_distance_and_dimension():
    a = [torch.tensor([[0.0, 0.0], [2.0, 0.0]]), torch.tensor([[1.0, 1.0], [1.0, -1.0]])]
    b = [torch.tensor([[3.0, 4.0], [2.0, 0.0]]), torch.tensor([[1.0, 1.0], [1.0, -1.0]])]
    rows = layer_rows(a, b)
    assert rows[0]["l2_distance"] == pytest.approx(2.5)  # (5 + 0) / 2
    assert rows[1]["l2_distance"] == 0.0 and rows[1]["effective_dim_change"] == 0.0
    assert rows[0]["norm_original"] == pytest.approx(1.0) and rows[0]["layer"] == 0


def test_layer_rows_cosine_similarity_by_hand():
    a = [(0, "embeddings", torch.tensor([[1.0, 0.0], [0.0, 2.0]])), (1, "block output", torch.tensor([[3.0, 4.0]]))]
    b = [(0, "embeddings", torch.tensor([[1.0, 1.0], [0.0, -5.0]])), (1, "block output", torch.tensor([[6.0, 8.0]]))]
    rows = layer_rows(a, b)
    assert rows[0]["cosine_similarity"] == pytest.approx((1 / math.sqrt(2) + -1.0) / 2)  # 45 degrees, opposite
    assert rows[1]["cosine_similarity"] == pytest.approx(1.0)  # same direction, twice as long
    assert rows[1]["l2_distance"] == pytest.approx(5.0) and rows[1]["stage"] == "block output"
    assert [r["positions"] for r in rows] == [2, 1]


def test_token_ranks_and_the_top_k_bias_by_hand():
    # logits 0.5, 2.0, 2.0, -1.0: token 1 and 2 tie for the top (the lower id first, as argmax), then 0, then 3
    assert token_ranks(torch.tensor([[0.5, 2.0, 2.0, -1.0]])).tolist() == [[3, 1, 2, 4]]
    bias = torch.tensor([0.1, -0.2, 0.3, 0.4, -0.5], dtype=torch.float64)
    rise = torch.tensor([1.0, 5.0, -2.0, 5.0, 0.5], dtype=torch.float64)
    top, ids = top_k_bias(bias, rise, 3)
    assert ids == [1, 3, 0]  # rises 5, 5 (tie: the lower id first), 1
    assert top.tolist() == [0.1, -0.2, 0.0, 0.4, 0.0]
    assert top_k_bias(bias, rise, 50)[0].tolist() == bias.tolist()  # K above the vocabulary: every token


def test_overrides_table_by_hand():
    per_text = pd.DataFrame({"domain": ["a", "a", "b"], "index": [0, 1, 0], "steps": [10, 10, 20],
                             "overrides": [4, 0, 6], "rank_2": [2, 0, 1], "rank_3_5": [1, 0, 1], "rank_6_10": [0, 0, 1],
                             "rank_11_100": [1, 0, 2], "rank_gt100": [0, 0, 1]})
    t = overrides_table({"m": per_text}, seed=0).set_index("domain")
    assert t.loc["all", "override_rate"] == pytest.approx(10 / 40)  # pooled over texts, not (0.4 + 0 + 0.3) / 3
    assert t.loc["all", "share_rank_2"] == pytest.approx(3 / 10) and t.loc["all", "share_rank_gt10"] == pytest.approx(4 / 10)
    assert t.loc["a", "override_rate"] == pytest.approx(4 / 20) and t.loc["b", "share_rank_gt100"] == pytest.approx(1 / 6)
    assert t.loc["all", "override_rate_ci_low"] <= 0.25 <= t.loc["all", "override_rate_ci_high"]
    assert t.loc["all", "steps"] == 40 and t.loc["all", "texts"] == 3


def test_bias_decoding_on_a_tiny_model_by_hand(tiny_model_dir):
    """logit_bias is the mean logit difference; greedy decoding with the bias processor picks, at every step,
    the argmax of the original logits plus s x bias, computed here step by step without the cache."""
    from hyperfit.generation import generate_batched
    from transformers import LogitsProcessorList

    original = load_model(str(tiny_model_dir))
    torch.manual_seed(1)
    other = load_model(str(tiny_model_dir))
    with torch.no_grad():
        for p in other.parameters():
            p.add_(0.05 * torch.randn_like(p))
    items = [{"context": [5, 9, 14, 3], "reference": [7, 7, 21, 40]}, {"context": [11, 4, 2], "reference": [8, 8]}]
    bias = logit_bias(other, original, items, pad_id=0)
    diffs = []
    for it in items:
        ids = torch.tensor([it["context"] + it["reference"]])
        with torch.no_grad():
            diffs.append((other(ids).logits[0, :-1] - original(ids).logits[0, :-1]).double())
    assert torch.allclose(bias, torch.cat(diffs).mean(0), atol=1e-6)

    s = 3.0
    got = generate_batched(original, [[5, 9, 14, 3]], 6, pad_id=0,
                           logits_processor=LogitsProcessorList([BiasProcessor(bias.float(), s)]))[0]
    seq = [5, 9, 14, 3]
    for _ in range(6):
        with torch.no_grad():
            logits = original(torch.tensor([seq])).logits[0, -1].double()
        logits[original.config.eos_token_id] = -math.inf  # generate_batched keeps EOS out until the length
        seq.append(int((logits + s * bias).argmax()))
    assert got == seq[4:]
    entropy = biased_entropy(original, items, bias, [0.0, s], pad_id=0)
    logp = torch.log_softmax(torch.cat([original(torch.tensor([it["context"] + it["reference"]])).logits[0, :-1]
                                        for it in items]).double().detach() + s * bias, -1)
    assert entropy[s] == pytest.approx(float(-(logp.exp() * logp).sum(-1).mean()), rel=1e-6)
    assert entropy[0.0] != entropy[s]


def test_mauve_wiring_on_tiny_features(tiny_model_dir):
    rng = np.random.default_rng(0)
    p = rng.standard_normal((40, 8)).astype(np.float32)
    near = p + 0.01 * rng.standard_normal((40, 8)).astype(np.float32)
    far = rng.standard_normal((40, 8)).astype(np.float32) + 6.0
    assert mauve_score(p, near, seed=0) > 0.9 > mauve_score(p, far, seed=0)
    assert mauve_score(p, near, seed=0) == mauve_score(p, near, seed=0)  # seeded
    assert math.isnan(mauve_score(p[:1], near, seed=0))
    model, tok = load_model(str(tiny_model_dir)), load_tokenizer(str(tiny_model_dir))
    feats = text_features(model, tok, ["the cat sat", "a bird flew over the house", ""], max_tokens=4)
    assert feats.shape == (3, model.config.hidden_size) and feats.dtype == np.float32
    # the features of a text are its last kept token's final hidden state
    ids = tok("a bird flew over the house")["input_ids"][:4]
    with torch.no_grad():
        h = model(torch.tensor([ids]), output_hidden_states=True).hidden_states[-1][0, -1]
    assert np.allclose(feats[1], h.numpy(), atol=1e-5)
