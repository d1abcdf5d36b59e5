"""Hyperfitting loop: loss goes down, history columns, and a killed run resumes bit-identically."""
import pytest
import torch
from hyperfit.modeling import load_model, load_tokenizer
from hyperfit.training import HISTORY_COLUMNS, epoch_order, hyperfit, monitor_subset


class Killed(Exception):
    pass


def settings(**kw):
    base = dict(epochs=4, batch_size=2, lr=3e-3, weight_decay=0.0, seed=0, shuffle=True, eval_batch_size=4,
                monitor_new_tokens=8, ttr_window=8, keep_checkpoint=False)
    return {**base, **kw}


def data(tok):
    texts = ["the cat sat on the mat and looked at the dog", "a bird flew over the house in the morning",
             "rain fell on the town all day and all night", "she read the paper and drank her tea slowly"]
    train = [tok(t)["input_ids"][:8] for t in texts]
    items = [{"domain": "d", "index": i, "context": tok(t)["input_ids"][:4], "reference": tok(t)["input_ids"][4:8]}
             for i, t in enumerate(texts)]
    return train, items


def test_epoch_order_depends_only_on_seed_and_epoch():
    assert epoch_order(10, 3, 2) == epoch_order(10, 3, 2)
    assert sorted(epoch_order(10, 3, 2)) == list(range(10))
    assert epoch_order(10, 3, 2) != epoch_order(10, 3, 3)


def test_monitor_subset_takes_first_per_domain():
    items = [{"domain": d, "index": i} for d in "ab" for i in range(3)]
    assert [(it["domain"], it["index"]) for it in monitor_subset(items, 2)] == [("a", 0), ("a", 1), ("b", 0), ("b", 1)]


def test_resume_is_bit_identical(tiny_model_dir, tmp_path):
    tok = load_tokenizer(str(tiny_model_dir))
    train, items = data(tok)

    torch.manual_seed(0)
    full = load_model(str(tiny_model_dir), for_training=True)
    hist_full = hyperfit(full, tok, train, items, settings(), str(tmp_path / "full"), str(tmp_path / "ck_full"),
                         log=lambda *_: None)
    assert [r["epoch"] for r in hist_full] == [0, 1, 2, 3, 4]
    assert set(HISTORY_COLUMNS) == set(hist_full[0])
    assert hist_full[-1]["train_loss"] < hist_full[1]["train_loss"]

    def kill_after_2(epoch):
        if epoch == 2:
            raise Killed

    m1 = load_model(str(tiny_model_dir), for_training=True)
    with pytest.raises(Killed):
        hyperfit(m1, tok, train, items, settings(), str(tmp_path / "res"), str(tmp_path / "ck"),
                 log=lambda *_: None, on_epoch_end=kill_after_2)
    assert (tmp_path / "ck" / "last.pt").exists()
    assert not (tmp_path / "res").exists()  # no finished output from a killed run
    logs = []
    m2 = load_model(str(tiny_model_dir), for_training=True)
    hist_res = hyperfit(m2, tok, train, items, settings(), str(tmp_path / "res"), str(tmp_path / "ck"),
                        log=logs.append)
    assert any("resuming" in line and "epoch 2" in line for line in logs)
    assert hist_res == hist_full
    a, b = full.state_dict(), m2.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not (tmp_path / "ck" / "last.pt").exists()  # removed after success (keep_checkpoint: false)


def test_checkpoint_for_other_settings_is_ignored(tiny_model_dir, tmp_path):
    tok = load_tokenizer(str(tiny_model_dir))
    train, items = data(tok)
    m = load_model(str(tiny_model_dir), for_training=True)
    hyperfit(m, tok, train, items, settings(epochs=1, keep_checkpoint=True), str(tmp_path / "a"), str(tmp_path / "ck"),
             log=lambda *_: None)
    logs = []
    m = load_model(str(tiny_model_dir), for_training=True)
    hyperfit(m, tok, train, items, settings(epochs=1, lr=1e-3), str(tmp_path / "b"), str(tmp_path / "ck"),
             log=logs.append)
    assert any("ignoring" in line for line in logs)
