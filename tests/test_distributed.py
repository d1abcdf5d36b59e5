"""Hyperfitting in several processes (accelerate launch): the command line, and a real 2-process run on CPUs
(gloo, data parallel) that must train like one process. FSDP's sharding itself needs GPUs."""
import json
import re

import pandas as pd
import pytest
import torch
from hyperfit.distributed import free_port, launch_command, run_job
from hyperfit.modeling import load_tokenizer
from transformers import AutoModelForCausalLM


def test_launch_command_starts_one_fsdp_process_per_gpu():
    cmd = launch_command("/tmp/job.json", 8, bf16=True, cpu_offload=True, port=29511)
    line = " ".join(cmd)
    assert "accelerate.commands.launch" in line and "--num_processes 8" in line and "--main_process_port 29511" in line
    assert "--use_fsdp --fsdp_version 2" in line and "--mixed_precision bf16" in line
    assert "--fsdp_offload_params true" in line and "--fsdp_cpu_ram_efficient_loading true" in line
    assert cmd[-3:] == ["-m", "hyperfit.distributed", "/tmp/job.json"]
    assert "--fsdp_offload_params false" in " ".join(launch_command("j", 2, bf16=False, cpu_offload=False, port=1))


def test_free_port_is_bindable():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", free_port()))


@pytest.mark.slow
def test_two_processes_train_like_one(tiny_model_dir, tmp_path, capfd):
    tok = load_tokenizer(str(tiny_model_dir))
    texts = ["the cat sat on the mat and looked at the dog", "a bird flew over the house in the morning",
             "rain fell on the town all day and all night", "she read the paper and drank her tea slowly"]
    train = [tok(t)["input_ids"][:8] for t in texts]
    items = [{"domain": "d", "index": i, "context": tok(t)["input_ids"][:4], "reference": tok(t)["input_ids"][4:8]}
             for i, t in enumerate(texts)]
    tokens = tmp_path / "tokens.json"
    pool = [{"doc": "d", "start": i, "ids": ids} for i, ids in enumerate(train)]
    tokens.write_text(json.dumps({"pools": {"d": {"0": pool}}, "eval": items, "validation": {"d": items[:2]},
                                  "pad_id": tok.pad_token_id}))
    setting = {"train_domain": "d", "seed": 0, "num_samples": 4, "seq_len": 8}
    settings = dict(epochs=3, batch_size=2, lr=3e-3, weight_decay=0.0, seed=0, shuffle=True, eval_batch_size=4,
                    monitor_new_tokens=8, ttr_window=8, keep_checkpoint=False,
                    lora={"enabled": False})
    out, said = {}, {}
    for n in (1, 2):
        run_job({"tokens": str(tokens), "model": str(tiny_model_dir), "run": str(tmp_path / f"run{n}"),
                 "train": setting, "checkpoints": str(tmp_path / f"ck{n}"), "settings": settings, "processes": n})
        out[n] = (pd.read_csv(tmp_path / f"run{n}/history.tsv", sep="\t"),
                  AutoModelForCausalLM.from_pretrained(tmp_path / f"run{n}/model").state_dict())
        captured = capfd.readouterr()
        said[n] = re.findall(r"training process (\d+) of (\d+): (\d+) windows", captured.out + captured.err)
    # one process saw all 3 epochs x 4 windows; under 2 processes each saw only its half of every batch (two
    # processes that each trained on everything would match the single process's weights too)
    assert said[1] == [("0", "1", "12")]
    assert sorted(said[2]) == [("0", "2", "6"), ("1", "2", "6")]
    (h1, w1), (h2, w2) = out[1], out[2]
    assert list(h2["epoch"]) == [0, 1, 2, 3]
    # each process took one window of each batch; averaged gradients equal the batch mean up to rounding
    assert h2["train_loss"].tolist() == pytest.approx(h1["train_loss"].tolist(), rel=1e-5)
    assert h2["greedy_ttr"].tolist() == h1["greedy_ttr"].tolist()
    assert all(torch.allclose(w1[k], w2[k], atol=1e-5) for k in w1)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir).state_dict()
    assert not torch.allclose(base["model.layers.0.self_attn.q_proj.weight"], w2["model.layers.0.self_attn.q_proj.weight"])
    assert not (tmp_path / "ck2").exists()  # job spec and checkpoints removed after success
