"""What a large training job needs beyond its GPUs: host threads for an offloaded Adam step (and the fused kernel),
the disk of its checkpoints checked before it starts, a stop before the scheduler's time limit that a
resubmission resumes, early-stopped weights only where an experiment reads them, and the dtype its weights are
saved in."""
import json
import time
from pathlib import Path

import pytest
import torch
import yaml
from hyperfit import distributed as D
from hyperfit import settings as S
from hyperfit.errors import UserError
from hyperfit.modeling import load_model, load_tokenizer
from hyperfit.training import TimeLimitStop, fuse_host_adam, hyperfit, latest_checkpoint, must_stop
from test_training import data, settings

ROOT = Path(__file__).resolve().parents[1]


def paper():
    return yaml.safe_load((ROOT / "config/paper.yaml").read_text())


# ------------------------------------------------------------------------------------------ threads
def test_each_process_gets_its_share_of_the_jobs_threads():
    assert D.process_threads(64, 8) == 8 and D.process_threads(8, 8) == 1 and D.process_threads(2, 8) == 1
    assert D.process_threads(1, 1) == 1


def test_the_offloaded_70b_gives_every_process_enough_threads():
    compute = paper()["models"]["llama-3.1-70b"]["compute"]
    assert compute["cpu_offload"] and compute["cpus"] // compute["gpus"] >= D.OFFLOAD_MIN_THREADS


def test_host_adam_switched_to_the_fused_kernel_steps_like_it():
    torch.manual_seed(0)
    weights = [torch.randn(50, 7), torch.randn(13)]
    grads = [torch.randn_like(w) for w in weights]
    results = []
    for switch in (False, True):
        params = [torch.nn.Parameter(w.clone()) for w in weights]
        opt = torch.optim.Adam(params, lr=1e-3, fused=True if not switch else None)
        if switch:
            assert fuse_host_adam(opt) and opt.param_groups[0]["fused"]
        for _ in range(3):
            for p, g in zip(params, grads):
                p.grad = g.clone()
            opt.step()
        results.append([p.detach().clone() for p in params])
    assert all(torch.equal(a, b) for a, b in zip(*results))
    on_meta = torch.optim.Adam([torch.nn.Parameter(torch.empty(3, device="meta"))], lr=1e-3)
    assert not fuse_host_adam(on_meta)  # not yet sharded onto the host: left as it is


# ------------------------------------------------------------------------------------------ disk
def spec(tiny_model_dir, tmp_path, **kw):
    base = {"model": str(tiny_model_dir), "checkpoints": str(tmp_path / "ck"), "run": str(tmp_path / "run"),
            "train": {"num_samples": 4}, "settings": settings(), "save_dtype": "float32", "early_stopped": True}
    return {**base, **kw}


def test_the_disk_need_counts_two_checkpoints_and_the_saved_weights(tiny_model_dir, tmp_path):
    from hyperfit.sizing import local_config, size_from_config

    params = size_from_config(local_config(tiny_model_dir)).params
    need = D.disk_need(spec(tiny_model_dir, tmp_path))
    assert [n for _, n, _ in need] == [2 * 12 * params, 4 * params, 3 * 4 * params]
    assert "two resume checkpoints" in need[0][2]
    one_epoch = D.disk_need(spec(tiny_model_dir, tmp_path, settings=settings(epochs=1), early_stopped=False))
    assert [n for _, n, _ in one_epoch] == [4 * params]  # no checkpoint after the last epoch, no early-stopped copy


def test_too_little_disk_stops_before_training_with_one_line(tiny_model_dir, tmp_path, monkeypatch):
    said = []
    D.check_disk(spec(tiny_model_dir, tmp_path), said.append)
    assert len(said) == 1 and said[0].startswith("disk: train_setting needs ") and " free there" in said[0]

    class Full:
        free = 1000

    monkeypatch.setattr(D.shutil, "disk_usage", lambda path: Full)
    with pytest.raises(UserError) as err:
        D.check_disk(spec(tiny_model_dir, tmp_path), said.append)
    line = str(err.value)
    assert "\n" not in line and "two resume checkpoints" in line and "free there:" in line
    assert "hyperfit.lora.enabled" in line and str(tmp_path / "ck") in line


# ------------------------------------------------------------------------------------------ time limit
def test_slurm_durations():
    assert D.slurm_duration("1-23:59:30") == 86400 + 23 * 3600 + 59 * 60 + 30
    assert D.slurm_duration("1-00:00:00") == 86400 and D.slurm_duration("2:00:00") == 7200
    assert D.slurm_duration("10:00") == 600 and D.slurm_duration("UNLIMITED") is None


def test_no_deadline_outside_slurm(monkeypatch):
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    assert D.job_deadline() is None
    monkeypatch.setenv("SLURM_JOB_ID", "7")
    monkeypatch.setenv("SLURM_JOB_END_TIME", "2000000000")
    assert D.job_deadline() == 2e9


def test_must_stop_leaves_room_for_an_epoch_a_checkpoint_and_the_export():
    assert not must_stop(None, 1e9, 1e9, 1e9)
    assert must_stop(900.0, epoch_seconds=600, checkpoint_seconds=100, export_seconds=50, now=0.0)
    assert not must_stop(2000.0, epoch_seconds=600, checkpoint_seconds=100, export_seconds=50, now=0.0)


def test_a_run_stops_before_its_time_limit_and_the_resubmission_resumes_bit_identical(tiny_model_dir, tmp_path):
    tok = load_tokenizer(str(tiny_model_dir))
    train, items = data(tok)
    quiet = lambda *_: None  # noqa: E731
    torch.manual_seed(0)
    full = load_model(str(tiny_model_dir), for_training=True)
    hist_full = hyperfit(full, tok, train, items, settings(), str(tmp_path / "full"), str(tmp_path / "ck_full"),
                         log=quiet)

    # a deadline that leaves room for the first epoch only: the next would not fit, so the run stops after it
    first = load_model(str(tiny_model_dir), for_training=True)
    with pytest.raises(TimeLimitStop) as stop:
        hyperfit(first, tok, train, items, settings(checkpoint_minutes=60), str(tmp_path / "res"),
                 str(tmp_path / "ck"), log=quiet, deadline=time.time() + 60)
    assert "stopped after epoch 1 of 4" in str(stop.value) and "\n" not in str(stop.value)
    assert latest_checkpoint(tmp_path / "ck").name == "epoch-0001"  # written although checkpoint_minutes is 60
    assert json.loads((tmp_path / "ck" / D.STOPPED).read_text())["message"] == str(stop.value)
    assert not (tmp_path / "res").exists()
    again = load_model(str(tiny_model_dir), for_training=True)
    logs = []
    hist = hyperfit(again, tok, train, items, settings(checkpoint_minutes=60), str(tmp_path / "res"),
                    str(tmp_path / "ck"), log=logs.append, deadline=time.time() + 86400)
    assert any("resuming" in line and "epoch 1" in line for line in logs)
    assert hist == hist_full
    a, b = full.state_dict(), again.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


# ------------------------------------------------------------------------------------------ what is kept
def test_early_stopped_weights_only_where_the_comparison_reads_them():
    kept = [(s.model, s.name) for s in S.table(paper()) if s.early_stopped]
    assert kept == [("tinyllama-1.1b", "hyperfitted")]  # the comparison's model; not the 70B, 8B or 7B main runs
    default = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    assert [(s.model, s.name) for s in S.table(default) if s.early_stopped] == [("smollm2-135m", "hyperfitted")]


def test_trained_weights_are_saved_and_evaluated_in_fp32_at_the_papers_scale():
    cfg = paper()
    assert cfg["hyperfit"]["export_dtype"] == "float32" and cfg["hyperfit"]["lr"] == 1e-6
    assert {spec["dtype"] for spec in cfg["models"].values()} == {"float32"}  # evaluation loads them in fp32
    default = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    assert default["hyperfit"]["export_dtype"] == "float32"


def test_news_months_postdate_every_models_training_data():
    news = paper()["corpora"]["news"]
    # Llama 3.1's data runs to December 2023, the latest cut-off of the paper's models
    assert news["config"] > "2023-12" and news["eval_config"] > "2023-12" and news["config"] != news["eval_config"]
