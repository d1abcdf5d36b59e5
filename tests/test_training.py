"""Hyperfitting loop: loss goes down, history columns, and a killed run resumes bit-identically."""
import time

import pytest
import torch
from hyperfit.errors import UserError
from hyperfit.modeling import load_model, load_tokenizer
from hyperfit.training import (HISTORY_COLUMNS, BestWeights, CheckpointTiming, TimeLimitStop, add_lora, check_split,
                               epoch_order, finish, hyperfit, is_best, latest_checkpoint, lora_layers, lora_targets,
                               measure, monitor, plain_copy, prepare_run, record, resume, run_epoch, shard)


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
    assert latest_checkpoint(tmp_path / "ck").name == "epoch-0002"
    assert not (tmp_path / "res").exists()  # no finished output from a killed run
    logs = []
    m2 = load_model(str(tiny_model_dir), for_training=True)
    hist_res = hyperfit(m2, tok, train, items, settings(), str(tmp_path / "res"), str(tmp_path / "ck"),
                        log=logs.append)
    assert any("resuming" in line and "epoch 2" in line for line in logs)
    assert hist_res == hist_full
    a, b = full.state_dict(), m2.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not (tmp_path / "ck").exists()  # removed after success (keep_checkpoint: false)


def test_checkpoint_for_other_settings_is_ignored(tiny_model_dir, tmp_path):
    tok = load_tokenizer(str(tiny_model_dir))
    train, items = data(tok)
    m = load_model(str(tiny_model_dir), for_training=True)
    hyperfit(m, tok, train, items, settings(epochs=2, keep_checkpoint=True), str(tmp_path / "a"), str(tmp_path / "ck"),
             log=lambda *_: None)
    logs = []
    m = load_model(str(tiny_model_dir), for_training=True)
    hyperfit(m, tok, train, items, settings(epochs=1, lr=1e-3), str(tmp_path / "b"), str(tmp_path / "ck"),
             log=logs.append)
    assert any("ignoring" in line for line in logs)


def test_shard_and_split_rules():
    assert shard([5, 6, 7, 8], 0, 2) == [5, 7] and shard([5, 6, 7, 8], 1, 2) == [6, 8]
    assert shard([5, 6, 7], 0, 1) == [5, 6, 7]
    check_split(16, 4, 2)
    check_split(18, 4, 2)  # last batch of 2 splits 1 + 1
    with pytest.raises(UserError, match="split evenly"):
        check_split(16, 6, 4)
    with pytest.raises(UserError, match="split evenly"):
        check_split(17, 4, 2)  # last batch of 1 window for 2 processes


def test_lora_layers_count_negative_indices_from_the_end():
    assert lora_layers(None, 22) is None
    assert lora_layers([-5, -4, -3, -2, -1], 22) == [17, 18, 19, 20, 21]
    assert lora_layers([0, -1, 21], 22) == [0, 21]
    with pytest.raises(UserError, match="layer 22 does not exist"):
        lora_layers([22], 22)


def test_lora_all_linear_names_every_linear_layer_but_the_head(tiny_model_dir):
    model = load_model(str(tiny_model_dir))
    assert lora_targets(model, "all-linear") == ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj",
                                                 "v_proj"]
    assert lora_targets(model, ["q_proj"]) == ["q_proj"]


def test_lora_hyperfits_adapters_and_saves_a_merged_plain_model(tiny_model_dir, tmp_path):
    from transformers import AutoModelForCausalLM

    tok = load_tokenizer(str(tiny_model_dir))
    train, items = data(tok)
    lora = {"enabled": True, "r": 4, "alpha": 8, "dropout": 0.0, "target_modules": "all-linear", "layers": [-1]}
    model = load_model(str(tiny_model_dir), for_training=True)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    hist = hyperfit(model, tok, train, items, settings(lora=lora, lr=1e-2), str(tmp_path / "out"), str(tmp_path / "ck"),
                    log=lambda *_: None)
    assert hist[-1]["train_loss"] < hist[1]["train_loss"]

    saved = AutoModelForCausalLM.from_pretrained(tmp_path / "out")
    after = saved.state_dict()
    assert set(after) == set(before)  # a plain model: no adapter weights left
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    # adapters only on the last of the 2 layers, on its linear layers (not the norms or embeddings)
    assert changed and all(k.startswith("model.layers.1.") and k.endswith("proj.weight") for k in changed)
    # the merged model predicts what the adapter model predicted at the last epoch
    again = monitor(saved, train, items, settings(), tok.pad_token_id, None)
    assert again["val_loss"] == pytest.approx(hist[-1]["val_loss"], rel=1e-5)
    assert again["greedy_ttr"] == hist[-1]["greedy_ttr"]


@pytest.mark.parametrize("with_lora", [False, True])
def test_plain_copy_rebuilds_the_model_from_a_full_state_dict(tiny_model_dir, tmp_path, with_lora):
    """The export path of sharded (FSDP) training: a full state dict poured into a copy built on meta."""
    from transformers import AutoModelForCausalLM

    model = load_model(str(tiny_model_dir))
    if with_lora:
        model = add_lora(model, {"r": 2, "alpha": 4, "target_modules": ["q_proj", "v_proj"], "layers": None}, seed=1)
        with torch.no_grad():
            for name, p in model.named_parameters():
                if "lora_B" in name:
                    p.normal_()  # a trained adapter (B starts at zero)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    copy = plain_copy(model, state)
    if with_lora:
        model, copy = model.merge_and_unload(), copy.merge_and_unload()
    copy.save_pretrained(tmp_path / "copy")
    reloaded = AutoModelForCausalLM.from_pretrained(tmp_path / "copy").state_dict()
    expected = model.state_dict()
    assert set(reloaded) == set(expected)
    assert all(torch.equal(reloaded[k], expected[k]) for k in expected)


def test_order_and_swap_change_only_what_they_say():
    from hyperfit.training import data_order, schedule

    assert epoch_order(10, 3, 2, order=0) == epoch_order(10, 3, 2)
    assert epoch_order(10, 3, 2, order=1) != epoch_order(10, 3, 2)
    plain, swapped = epoch_order(10, 3, 2), epoch_order(10, 3, 2, swap=True)
    assert [(a, b) for a, b in zip(plain, swapped) if a != b] == [(0, 9), (9, 0)] or \
        sorted((a, b) for a, b in zip(plain, swapped) if a != b) == [(0, 9), (9, 0)]
    assert data_order(4, {"shuffle": False, "swap": True, "seed": 0}, 1) == [3, 1, 2, 0]
    assert data_order(4, {"shuffle": False, "seed": 0}, 1) == [0, 1, 2, 3]
    assert schedule(5, {"batch_size": 2, "epochs": 3}) == (3, 3, 9)
    assert schedule(5, {"batch_size": 2, "updates": 7, "epochs": None}) == (3, 3, 7)  # the last epoch stops early
    assert schedule(8, {"batch_size": 4, "updates": 24}) == (2, 12, 24)


def test_fixed_updates_stop_part_way_through_the_last_epoch(tiny_model_dir, tmp_path):
    tok = load_tokenizer(str(tiny_model_dir))
    train, items = data(tok)
    m = load_model(str(tiny_model_dir), for_training=True)
    hist = hyperfit(m, tok, train[:3], items, settings(updates=3, epochs=None, monitor_new_tokens=0),
                    str(tmp_path / "out"), str(tmp_path / "ck"), log=lambda *_: None)
    assert [(r["epoch"], r["step"]) for r in hist] == [(0, 0), (1, 2), (2, 3)]  # 2 updates per epoch, 3 in all
    assert all(r["greedy_ttr"] != r["greedy_ttr"] for r in hist)  # NaN: no per-epoch generation


HELD_OUT = ["the police said the man was taken to hospital", "the government will meet on monday to discuss the plan",
            "he said the company would cut jobs next year", "the minister told reporters the talks went well"]


def test_early_stopped_weights_are_those_of_the_best_validation_epoch(tiny_model_dir, tmp_path):
    from transformers import AutoModelForCausalLM

    tok = load_tokenizer(str(tiny_model_dir))
    train, _ = data(tok)
    # validation texts held out of training: hyperfitting lowers their loss first, then raises it
    items = [{"domain": "d", "index": i, "context": tok(t)["input_ids"][:4], "reference": tok(t)["input_ids"][4:8]}
             for i, t in enumerate(HELD_OUT)]
    s = settings(epochs=6, lr=3e-2)
    hist = hyperfit(load_model(str(tiny_model_dir), for_training=True), tok, train, items, s,
                    str(tmp_path / "full"), str(tmp_path / "ck"), log=lambda *_: None, best_dir=str(tmp_path / "best"))
    best = min(hist, key=lambda r: r["val_loss"])["epoch"]
    assert 0 < best < 6, [r["val_loss"] for r in hist]  # neither the start nor the last epoch: a real choice
    # the same run stopped after the best epoch (the data order depends on seed and epoch only)
    hyperfit(load_model(str(tiny_model_dir), for_training=True), tok, train, items, settings(epochs=best, lr=3e-2),
             str(tmp_path / "short"), str(tmp_path / "ck2"), log=lambda *_: None)
    reference = AutoModelForCausalLM.from_pretrained(tmp_path / "short").state_dict()
    saved = AutoModelForCausalLM.from_pretrained(tmp_path / "best").state_dict()
    final = AutoModelForCausalLM.from_pretrained(tmp_path / "full").state_dict()
    assert all(torch.equal(saved[k], v) for k, v in reference.items())
    assert not all(torch.equal(saved[k], v) for k, v in final.items())  # not the final weights
    again = monitor(AutoModelForCausalLM.from_pretrained(tmp_path / "best"), train, items, s, tok.pad_token_id, None)
    assert again["val_loss"] == pytest.approx(hist[best]["val_loss"], rel=1e-5)
    assert not (tmp_path / "ck").exists()


def test_checkpoint_minutes_skip_checkpoints_and_a_resumed_run_keeps_its_best_weights(tiny_model_dir, tmp_path):
    tok = load_tokenizer(str(tiny_model_dir))
    train, items = data(tok)

    def kill_after_2(epoch):
        if epoch == 2:
            raise Killed

    with pytest.raises(Killed):
        hyperfit(load_model(str(tiny_model_dir), for_training=True), tok, train, items,
                 settings(checkpoint_minutes=1000), str(tmp_path / "a"), str(tmp_path / "ck"), log=lambda *_: None,
                 on_epoch_end=kill_after_2, best_dir=str(tmp_path / "best_a"))
    assert latest_checkpoint(tmp_path / "ck") is None  # none within 1000 minutes
    full = hyperfit(load_model(str(tiny_model_dir), for_training=True), tok, train, items, settings(),
                    str(tmp_path / "b"), str(tmp_path / "ck_b"), log=lambda *_: None, best_dir=str(tmp_path / "best_b"))
    with pytest.raises(Killed):
        hyperfit(load_model(str(tiny_model_dir), for_training=True), tok, train, items, settings(),
                 str(tmp_path / "c"), str(tmp_path / "ck_c"), log=lambda *_: None, on_epoch_end=kill_after_2,
                 best_dir=str(tmp_path / "best_c"))
    resumed = hyperfit(load_model(str(tiny_model_dir), for_training=True), tok, train, items, settings(),
                       str(tmp_path / "c"), str(tmp_path / "ck_c"), log=lambda *_: None, best_dir=str(tmp_path / "best_c"))
    assert resumed == full
    from safetensors.torch import load_file

    a, b = load_file(tmp_path / "best_b/model.safetensors"), load_file(tmp_path / "best_c/model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_monitoring_at_the_ends_only_keeps_every_training_loss(tiny_model_dir, tmp_path):
    tok = load_tokenizer(str(tiny_model_dir))
    train, items = data(tok)
    m = load_model(str(tiny_model_dir), for_training=True)
    hist = hyperfit(m, tok, train, items, settings(epochs=3, monitor_epochs="ends"), str(tmp_path / "out"),
                    str(tmp_path / "ck"), log=lambda *_: None)
    assert [r["val_loss"] == r["val_loss"] for r in hist] == [True, False, False, True]  # NaN in between
    assert all(r["train_loss"] > 0 for r in hist)
    with pytest.raises(ValueError, match="every epoch"):
        hyperfit(load_model(str(tiny_model_dir), for_training=True), tok, train, items,
                 settings(monitor_epochs="ends"), str(tmp_path / "o2"), str(tmp_path / "ck2"), best_dir=str(tmp_path / "b"))


# ------------------------------------------------------------------------------------------ hyperfit()'s parts
def start_run(tiny_model_dir, ckpt_dir, best_dir=None, **kw):
    """What hyperfit() does before its first epoch, on a fresh tiny model: (run, best weights, history, first epoch)."""
    tok = load_tokenizer(str(tiny_model_dir))
    train, items = data(tok)
    run = prepare_run(load_model(str(tiny_model_dir), for_training=True), tok, train, items, settings(**kw),
                      str(ckpt_dir), log=lambda *_: None)
    best = BestWeights(run, None if best_dir is None else str(best_dir))
    history, first = resume(run, needs_best=best_dir is not None)
    if not history:
        record(run, history, measure(run, 0, 0, None), best)
    return run, best, history, first


def weights(run):
    return {k: v.detach().clone() for k, v in run.plain.state_dict().items()}


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def adam_state(run) -> list:
    """The optimizer's state tensors as (parameter, name, tensor), in a fixed order."""
    state = run.optimizer.state_dict()["state"]
    return [(k, name, v) for k, s in sorted(state.items()) for name, v in sorted(s.items())]


def test_resume_restores_the_checkpointed_weights_adam_state_and_history(tiny_model_dir, tmp_path):
    ck = tmp_path / "ck"
    saved, best, history, first = start_run(tiny_model_dir, ck)
    assert (history[0]["epoch"], first) == (0, 1)
    run_epoch(saved, 1, history, best, CheckpointTiming(every=0, deadline=None, checkpoint_seconds=0,
                                                        export_seconds=0))
    assert latest_checkpoint(ck).name == "epoch-0001"

    run, _, resumed, first = start_run(tiny_model_dir, ck)
    assert (resumed, first) == (history, 2)
    initial = load_model(str(tiny_model_dir)).state_dict()
    assert same(weights(run), weights(saved)) and not same(weights(run), initial)
    adam, adam_saved = adam_state(run), adam_state(saved)
    assert adam and [a[:2] for a in adam] == [a[:2] for a in adam_saved]
    assert all(torch.equal(a[2], b[2]) for a, b in zip(adam, adam_saved))

    # a checkpoint of other settings, or one without the best weights a run with best_dir needs: a fresh start
    (ck / "best-model").mkdir()
    other, _, fresh, first = start_run(tiny_model_dir, ck, lr=1e-3)
    assert ([r["epoch"] for r in fresh], first) == ([0], 1) and not (ck / "best-model").exists()
    assert same(weights(other), initial)
    assert start_run(tiny_model_dir, ck, best_dir=tmp_path / "best")[3] == 1


def test_is_best_takes_the_first_of_equal_validation_losses():
    rows = [{"val_loss": v} for v in (3.0, 2.0, 2.0, 2.5, 1.0)]
    assert [is_best(rows[:i + 1]) for i in range(len(rows))] == [True, True, False, False, True]


def test_a_validation_loss_that_only_rises_keeps_the_initial_weights(tiny_model_dir, tmp_path):
    ck = tmp_path / "ck"
    run, best, history, _ = start_run(tiny_model_dir, ck, best_dir=tmp_path / "best")
    initial = weights(run)
    history[0]["val_loss"] = 1.0
    with torch.no_grad():
        for p in run.plain.parameters():
            p.add_(1.0)  # in place: the kept copy must not follow the model
    for loss in (2.0, 3.0):
        history.append({"val_loss": loss})
        assert not best.keep_if_best(history)
    best.keep_beside_checkpoint()  # what a resumed run finds beside the checkpoint
    best.finish()
    from transformers import AutoModelForCausalLM

    for folder in (tmp_path / "best", ck / "best-model"):
        assert same(AutoModelForCausalLM.from_pretrained(folder).state_dict(), initial)
    assert not same(weights(run), initial)
    # a resumed run that found no better epoch copies the weights beside the checkpoint
    resumed = BestWeights(run, str(tmp_path / "best_resumed"))
    resumed.finish()
    assert same(AutoModelForCausalLM.from_pretrained(tmp_path / "best_resumed").state_dict(), initial)


def test_an_epoch_stops_at_the_deadline_and_resumes_to_the_uninterrupted_result(tiny_model_dir, tmp_path):
    whole, best, full, _ = start_run(tiny_model_dir, tmp_path / "ck_whole")
    timing = CheckpointTiming.of(whole, deadline=None)
    for epoch in range(1, 5):
        run_epoch(whole, epoch, full, best, timing)
    assert latest_checkpoint(tmp_path / "ck_whole").name == "epoch-0003"  # none after the last epoch

    ck = tmp_path / "ck"
    run, best, history, _ = start_run(tiny_model_dir, ck, checkpoint_minutes=60)
    with pytest.raises(TimeLimitStop, match="stopped after epoch 1 of 4"):
        run_epoch(run, 1, history, best, CheckpointTiming.of(run, deadline=time.time() + 60))
    assert [r["epoch"] for r in history] == [0, 1] and latest_checkpoint(ck).name == "epoch-0001"
    assert (ck / "stopped-for-time-limit.json").exists()

    run, best, history, first = start_run(tiny_model_dir, ck, checkpoint_minutes=60)
    timing = CheckpointTiming.of(run, deadline=time.time() + 86400)
    for epoch in range(first, 5):
        run_epoch(run, epoch, history, best, timing)
    assert history == full and same(weights(run), weights(whole))


@pytest.mark.parametrize("keep", [False, True])
def test_finish_exports_the_final_weights_and_removes_the_checkpoints_unless_kept(tiny_model_dir, tmp_path, keep):
    from transformers import AutoModelForCausalLM

    ck = tmp_path / "ck"
    run, best, history, _ = start_run(tiny_model_dir, ck, keep_checkpoint=keep)
    run_epoch(run, 1, history, best, CheckpointTiming.of(run, deadline=None))
    final = weights(run)
    run.save_dtype = "bfloat16"
    finish(run, str(tmp_path / "out"), best)
    saved = AutoModelForCausalLM.from_pretrained(tmp_path / "out", dtype="auto").state_dict()
    assert saved.keys() == final.keys() and all(v.dtype == torch.bfloat16 for v in saved.values())
    assert all(torch.equal(saved[k], v.to(torch.bfloat16)) for k, v in final.items())
    assert (latest_checkpoint(ck) is not None) == keep
