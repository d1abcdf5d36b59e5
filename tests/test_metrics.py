"""Metrics against hand-worked values."""
import math

import pytest
import torch
from hyperfit.metrics import entropy_from_logits, perplexity, score_sequences, ttr


def test_ttr_whole_and_window():
    ids = [1, 2, 3, 1, 2, 4]
    assert ttr(ids) == pytest.approx(4 / 6)          # types {1,2,3,4}
    assert ttr(ids, last=3) == pytest.approx(3 / 3)  # [1,2,4]
    assert ttr(ids, last=4) == pytest.approx(4 / 4)  # [3,1,2,4]
    assert ttr([1, 2, 1, 2, 1], last=4) == pytest.approx(2 / 4)
    assert ttr([7] * 5) == pytest.approx(1 / 5)
    assert ttr([1, 2], last=96) == 1.0               # shorter than the window: the whole sequence


def test_ttr_empty_raises():
    with pytest.raises(ValueError):
        ttr([])


def test_entropy_uniform_and_peaked():
    logits = torch.tensor([[0.0, 0.0, 0.0, 0.0], [100.0, 0.0, 0.0, 0.0]])
    ent = entropy_from_logits(logits)
    assert float(ent[0]) == pytest.approx(math.log(4))
    assert float(ent[1]) == pytest.approx(0.0, abs=1e-12)
    # p = (1/2, 1/4, 1/4): H = 1/2 ln2 + 2 * 1/4 ln4 = 1.5 ln 2
    two = torch.log(torch.tensor([[0.5, 0.25, 0.25]]))
    assert float(entropy_from_logits(two)[0]) == pytest.approx(1.5 * math.log(2))


def test_perplexity():
    assert perplexity(3 * math.log(4), 3) == pytest.approx(4.0)
    assert perplexity(0.0, 10) == 1.0


class FixedLogits(torch.nn.Module):
    """A 'model' whose next-token distribution is fixed: p = (1/2, 1/4, 1/8, 1/8) over 4 tokens."""

    def __init__(self):
        super().__init__()
        self.logp = torch.log(torch.tensor([0.5, 0.25, 0.125, 0.125]))

    def forward(self, input_ids, attention_mask=None):
        b, t = input_ids.shape

        class Out:
            logits = self.logp.expand(b, t, 4).clone()

        return Out()


def test_score_sequences_hand_worked():
    # sequence [0, 0, 1, 3]: predicted tokens 0, 1, 3 with p = 1/2, 1/4, 1/8 -> nll = ln2 + ln4 + ln8 = 6 ln2
    # second sequence [2, 1] is shorter (right padding): predicted token 1, p = 1/4 -> nll = 2 ln2
    res = score_sequences(FixedLogits(), [[0, 0, 1, 3], [2, 1]], batch_size=2, pad_id=0)
    assert res[0]["n"] == 3 and res[1]["n"] == 1
    assert res[0]["nll_sum"] == pytest.approx(6 * math.log(2))
    assert res[1]["nll_sum"] == pytest.approx(2 * math.log(2))
    h = 0.5 * math.log(2) + 0.25 * math.log(4) + 2 * 0.125 * math.log(8)  # = 1.75 ln 2
    assert res[0]["entropy_sum"] == pytest.approx(3 * h)
    assert res[0]["top1_sum"] == pytest.approx(3 * 0.5)
    assert res[0]["top3_sum"] == pytest.approx(3 * 0.875)
    assert res[1]["top5_sum"] == pytest.approx(1.0)  # all 4 tokens: the whole mass
    assert perplexity(res[0]["nll_sum"], res[0]["n"]) == pytest.approx(4.0)  # exp(2 ln 2)
