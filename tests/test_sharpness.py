"""Table 3 and Figure 4's single-position distributions against hand-worked values."""
import math

import pandas as pd
import pytest
import torch
from hyperfit.errors import UserError
from hyperfit.metrics import score_sequences
from hyperfit.plots import figure4, save
from hyperfit.sharpness import (entropy, next_token_probs, position_table, select_position, table3, token_label,
                                top_k_rows, visible_token)


def scores(rows):
    return pd.DataFrame(rows, columns=["domain", "index", "n", "nll_sum", "entropy_sum", "top1_sum", "top3_sum",
                                       "top5_sum"])


def test_table3_pools_tokens_per_domain_and_overall():
    # fiction: 2 texts, 3 + 1 predictions; news: 1 text, 4 predictions
    orig = scores([["fiction", 0, 3, 3 * math.log(4), 6.0, 1.5, 2.4, 2.7],
                   ["fiction", 1, 1, math.log(4), 2.0, 0.9, 1.0, 1.0],
                   ["news", 0, 4, 0.0, 2.0, 4.0, 4.0, 4.0]])
    hyper = scores([["fiction", 0, 2, 2 * math.log(2), 1.0, 1.0, 1.6, 2.0]])
    t = table3({("m", "original"): orig, ("m", "hyperfitted"): hyper})
    assert list(t[["variant", "domain"]].itertuples(index=False, name=None)) == [
        ("hyperfitted", "fiction"), ("hyperfitted", "all"),
        ("original", "fiction"), ("original", "news"), ("original", "all")]
    row = t[(t.variant == "original") & (t.domain == "fiction")].iloc[0]
    assert row["texts"] == 2 and row["tokens"] == 4
    assert row["entropy"] == pytest.approx(8.0 / 4)          # (6 + 2) / 4 tokens
    assert row["top1"] == pytest.approx(2.4 / 4)
    assert row["top3"] == pytest.approx(3.4 / 4)
    assert row["top5"] == pytest.approx(3.7 / 4)
    assert row["ppl"] == pytest.approx(4.0)                   # exp(4 ln 4 / 4)
    row = t[(t.variant == "original") & (t.domain == "all")].iloc[0]
    assert row["tokens"] == 8 and row["texts"] == 3
    assert row["entropy"] == pytest.approx(10.0 / 8)
    assert row["top1"] == pytest.approx(6.4 / 8)
    assert row["ppl"] == pytest.approx(math.exp(4 * math.log(4) / 8))  # = 2
    row = t[(t.variant == "hyperfitted") & (t.domain == "all")].iloc[0]
    assert row["ppl"] == pytest.approx(2.0) and row["entropy"] == pytest.approx(0.5)


def test_table3_without_topk_columns_is_a_user_error():
    df = scores([["fiction", 0, 3, 1.0, 2.0, 1.0, 1.0, 1.0]]).drop(columns=["top3_sum"])
    with pytest.raises(UserError, match="top3"):
        table3({("m", "original"): df})


ITEMS = [{"domain": "fiction", "index": 0, "context": [5, 6, 7], "reference": [8, 9]},
         {"domain": "news", "index": 1, "context": [1, 2], "reference": [3, 4, 5]}]


def test_select_position_defaults_to_the_end_of_the_context():
    item, pos = select_position(ITEMS, "news", 1, None)
    assert item is ITEMS[1] and pos == 2
    assert select_position(ITEMS, "fiction", 0, 4) == (ITEMS[0], 4)  # last predictable: 5 tokens, position 4
    with pytest.raises(UserError, match="outside 1..4"):
        select_position(ITEMS, "fiction", 0, 5)
    with pytest.raises(UserError, match="no evaluation text news/0"):
        select_position(ITEMS, "news", 0, None)


def test_top_k_rows_ranks_ties_by_id_and_adds_the_rest():
    probs = torch.tensor([0.1, 0.4, 0.1, 0.4], dtype=torch.float64)
    rows = top_k_rows(probs, 3, target_id=2)
    assert [r["token_id"] for r in rows] == [1, 3, 0, -1]
    assert [r["rank"] for r in rows] == [1, 2, 3, 4]
    assert [r["prob"] for r in rows] == pytest.approx([0.4, 0.4, 0.1, 0.1])
    assert [r["is_target"] for r in rows] == [0, 0, 0, 1]     # token 2 is outside the top 3: in the rest
    rows = top_k_rows(probs, 2, target_id=3)
    assert [r["is_target"] for r in rows] == [0, 1, 0]
    assert rows[-1]["prob"] == pytest.approx(0.2)
    rows = top_k_rows(probs, 10)                               # k larger than the vocabulary
    assert len(rows) == 5 and rows[-1]["prob"] == pytest.approx(0.0, abs=1e-12)


def test_entropy_of_probabilities():
    assert entropy(torch.full((4,), 0.25, dtype=torch.float64)) == pytest.approx(math.log(4))
    assert entropy(torch.tensor([0.5, 0.5, 0.0, 0.0], dtype=torch.float64)) == pytest.approx(math.log(2))
    assert entropy(torch.tensor([1.0, 0.0], dtype=torch.float64)) == 0.0


def test_visible_token():
    assert visible_token(" the") == "\u2423the"
    assert visible_token("a\nb\tc") == "a\\nb\\tc"
    assert visible_token("\x12\xa0é") == "\\x12\\xa0é"


class Pieces:
    def decode(self, ids):
        return {0: " the", 1: "\ufffd", 2: "", 3: "\n"}[ids[0]]


def test_token_label():
    assert [token_label(Pieces(), i) for i in range(4)] == ["\u2423the", "\ufffd (id 1)", "(empty, id 2)", "\\n"]


class LastTokenModel(torch.nn.Module):
    """The next token's distribution depends on the current token only: after token t, p = softmax(W[t])."""

    def __init__(self, table):
        super().__init__()
        self.table = torch.as_tensor(table, dtype=torch.float64)

    def forward(self, input_ids, attention_mask=None):
        class Out:
            logits = self.table[input_ids]

        return Out()


def test_next_token_probs_uses_the_prediction_after_the_prefix():
    logp = torch.log(torch.tensor([[0.7, 0.1, 0.1, 0.1], [0.25, 0.25, 0.25, 0.25], [0.0625, 0.0625, 0.375, 0.5],
                                   [0.1, 0.2, 0.3, 0.4]]))
    model = LastTokenModel(logp)
    assert next_token_probs(model, [0, 1, 2]).tolist() == pytest.approx([0.0625, 0.0625, 0.375, 0.5])
    assert next_token_probs(model, [3, 0]).tolist() == pytest.approx([0.7, 0.1, 0.1, 0.1])


class Chars:
    def decode(self, ids):
        return "".join("abc d"[i] for i in ids)


def test_position_table_hand_worked():
    dist = [0.05, 0.15, 0.3, 0.4, 0.1]                     # after token 1 (tokens: a b c space d)
    logp = torch.log(torch.tensor([[0.2] * 5, dist, [0.2] * 5, [0.2] * 5, [0.6, 0.1, 0.1, 0.1, 0.1]]))
    item = {"domain": "wiki", "index": 2, "context": [4, 1], "reference": [0, 2]}
    df = position_table(LastTokenModel(logp), Chars(), item, position=2, k=2)  # after "db": p = dist
    assert list(df["token"]) == ["\u2423", "c", "(all other tokens)"]
    assert list(df["token_id"]) == [3, 2, -1]
    assert df["prob"].tolist() == pytest.approx([0.4, 0.3, 0.3])
    assert df["is_target"].tolist() == [0, 0, 1]             # the text goes on with "a": in the rest
    assert (df["target_id"] == 0).all() and (df["target_token"] == "a").all()
    assert df["target_prob"].iloc[0] == pytest.approx(0.05)
    assert df["prefix"].iloc[0] == "db" and (df["position"] == 2).all() and (df["text"] == 2).all()
    assert df["entropy"].iloc[0] == pytest.approx(-sum(p * math.log(p) for p in dist))
    df = position_table(LastTokenModel(logp), Chars(), item, position=3, k=1)  # after "dba": row 0
    assert list(df["token_id"]) == [0, -1] and df["is_target"].tolist() == [0, 1]
    assert df["target_prob"].iloc[0] == pytest.approx(0.2) and df["prefix"].iloc[0] == "dba"


def test_position_matches_teacher_forced_scores_on_a_real_model(tiny_model_dir):
    """The single-position distribution equals the teacher-forced one of score_sequences at that position."""
    from hyperfit.modeling import load_model, load_tokenizer

    model = load_model(str(tiny_model_dir))
    tok = load_tokenizer(str(tiny_model_dir))
    ids = tok("The minister said on Sunday that the talks")["input_ids"]
    full = score_sequences(model, [ids], topk=(1,))[0]
    top1 = ent = 0.0
    for pos in range(1, len(ids)):
        probs = next_token_probs(model, ids[:pos])
        top1 += float(probs.max())
        ent += entropy(probs)
    assert top1 == pytest.approx(full["top1_sum"], rel=1e-5)
    assert ent == pytest.approx(full["entropy_sum"], rel=1e-5)
    item = {"domain": "news", "index": 0, "context": ids[:4], "reference": ids[4:]}
    df = position_table(model, tok, item, 4, 5)
    assert len(df) == 6 and df["prob"].sum() == pytest.approx(1.0)
    assert df["prob"].iloc[:5].is_monotonic_decreasing
    assert df["target_id"].iloc[0] == ids[4]


def test_figure4_draws_both_variants(tmp_path):
    def table(probs, target_rank):
        rows = [{"domain": "fiction", "text": 0, "position": 3, "rank": r + 1, "token_id": r, "token": tok,
                 "prob": p, "is_target": int(r + 1 == target_rank), "entropy": 1.2, "target_id": 1,
                 "target_token": "$x", "target_prob": 0.2, "prefix": "a $cost of 5$"}
                for r, (tok, p) in enumerate(probs)]
        return pd.DataFrame(rows)

    positions = {("m", "original"): table([("\u2423the", 0.3), ("$", 0.2), ("(all other tokens)", 0.5)], 2),
                 ("m", "hyperfitted"): table([("\u2423the", 0.9), ("$", 0.05), ("(all other tokens)", 0.05)], 2)}
    fig = figure4(positions)
    assert [ax.get_title().split("\n")[0] for ax in fig.axes] == ["m original", "m hyperfitted"]
    save(fig, tmp_path / "f.png", tmp_path / "f.pdf")
    assert (tmp_path / "f.png").stat().st_size > 1000 and (tmp_path / "f.pdf").stat().st_size > 1000


def test_figure4_names_each_models_position_when_tokenizers_differ():
    def table(prefix):
        return pd.DataFrame([{"domain": "news", "text": 1, "position": 3, "rank": 1, "token_id": 5, "token": "x",
                              "prob": 0.6, "is_target": 1, "entropy": 0.7, "target_id": 5, "target_token": "x",
                              "target_prob": 0.6, "prefix": prefix},
                             {"domain": "news", "text": 1, "position": 3, "rank": 2, "token_id": -1,
                              "token": "(all other tokens)", "prob": 0.4, "is_target": 0, "entropy": 0.7,
                              "target_id": 5, "target_token": "x", "target_prob": 0.6, "prefix": prefix}])

    same = figure4({("a", "original"): table("abc"), ("a", "hyperfitted"): table("abc"),
                    ("b", "original"): table("abc"), ("b", "hyperfitted"): table("abc")})
    assert same._suptitle.get_text() == 'news text 1, after 3 tokens: "abc"'
    differ = figure4({("a", "original"): table("abc"), ("a", "hyperfitted"): table("abc"),
                      ("b", "original"): table("ab c"), ("b", "hyperfitted"): table("ab c")})
    assert differ._suptitle.get_text().splitlines() == ['a: news text 1, after 3 tokens: "abc"',
                                                        'b: news text 1, after 3 tokens: "ab c"']
    assert len(differ.axes) == 4


def test_table3_statistics_pair_the_hyperfitted_texts_with_the_original_ones():
    from hyperfit.sharpness import table3_statistics

    orig = scores([["fiction", 0, 2, 2.0, 4.0, 1.0, 1.0, 1.0], ["fiction", 1, 2, 2.0, 6.0, 1.0, 1.0, 1.0],
                   ["news", 0, 2, 2.0, 2.0, 1.0, 1.0, 1.0]])
    hyper = scores([["fiction", 0, 2, 4.0, 1.0, 2.0, 2.0, 2.0], ["fiction", 1, 2, 4.0, 3.0, 2.0, 2.0, 2.0],
                    ["news", 0, 2, 4.0, 1.0, 2.0, 2.0, 2.0]])
    tables = {("m", "original"): orig, ("m", "hyperfitted"): hyper}
    t = table3_statistics(table3(tables), tables, seed=0).set_index(["variant", "domain"])
    # per-text mean entropies: original fiction 2, 3, news 1; hyperfitted fiction 0.5, 1.5, news 0.5
    assert t.loc[("hyperfitted", "fiction"), "entropy_diff"] == pytest.approx(-1.5)
    assert t.loc[("hyperfitted", "all"), "entropy_diff"] == pytest.approx((-1.5 - 1.5 - 0.5) / 3)
    assert math.isnan(t.loc[("original", "all"), "entropy_diff"])
    assert math.isnan(t.loc[("hyperfitted", "news"), "entropy_ci_low"])  # one text: no interval
    low, high = t.loc[("original", "fiction"), ["entropy_ci_low", "entropy_ci_high"]]
    assert (low, high) == (pytest.approx(2.0), pytest.approx(3.0))  # two texts: each alone, or both
