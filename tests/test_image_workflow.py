"""Figure 6's paper branch (a pretrained ImageGPT and a hub image dataset, config/paper.yaml) run offline:
without the hub it stops before any training with one line naming the fix; with a filled model folder and a
local dataset in the hub layout it runs through (colour clusters, start token, 1,024 positions)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import assert_figure
from rehearsal.build import fill_imagegpt
from test_workflow import ROOT, job_counts, snakemake

PAPER = ROOT / "config/paper.yaml"


@pytest.fixture
def offline(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


def test_paper_image_branch_offline_stops_before_training(tmp_path, offline):
    work = tmp_path / "work"
    res = snakemake("--cores", "1", "figure6", "--configfile", str(PAPER), "--directory", str(work))
    assert res.returncode != 0
    out = res.stdout + res.stderr
    assert "ERROR in rule get_image_model: model 'openai/imagegpt-large' is not available here" in out
    assert "hf download openai/imagegpt-large" in out
    assert not (work / "results").exists()  # nothing was tokenised or trained


def write_image_dataset(folder, seed: int = 0) -> None:
    """A dataset in CIFAR-10's hub layout (train/test splits, `img` and `label` columns), as local parquet."""
    import datasets
    from PIL import Image

    rng = np.random.default_rng(seed)
    features = datasets.Features({"img": datasets.Image(), "label": datasets.ClassLabel(names=["a", "b"])})
    folder.mkdir(parents=True)
    for split, n in (("train", 6), ("test", 3)):
        # 4x4 blocks of random colours, upscaled to 32x32
        images = [Image.fromarray(np.kron(rng.integers(0, 256, (8, 8, 3)), np.ones((4, 4, 1))).astype(np.uint8))
                  for _ in range(n)]
        datasets.Dataset.from_dict({"img": images, "label": [i % 2 for i in range(n)]},
                                   features=features).to_parquet(str(folder / f"{split}.parquet"))


@pytest.mark.slow
def test_paper_image_branch_runs_with_a_filled_model_folder(tmp_path, offline):
    work = tmp_path / "work"
    clusters = fill_imagegpt(work / "resources/models/imagegpt-large")
    # and its source record, as the download job leaves beside the folder (the commit it resolved to)
    from hyperfit.assets import source_record

    record = source_record("image.model", "model", "openai/imagegpt-large", None, "0" * 40)
    (work / "resources/models/imagegpt-large.source.json").write_text(json.dumps(record))
    write_image_dataset(tmp_path / "cifar")
    cfg = yaml.safe_load(PAPER.read_text())
    image = cfg["image"]
    image["dataset"]["id"] = str(tmp_path / "cifar")
    image.update(num_train=4, num_eval=2, figure_images=2, generation_batch_size=2)
    image["hyperfit"].update(epochs=2, batch_size=2, lr=1e-2, monitor_images=1, eval_batch_size=2,
                             gradient_checkpointing=False)
    path = tmp_path / "paper_image.yaml"
    path.write_text(yaml.safe_dump(cfg))
    res = snakemake("--cores", "1", "figure6", "image_repetition", "--configfile", str(path), "--directory",
                    str(work))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    counts = job_counts(res.stderr)
    assert "get_image_model" not in counts and "pretrain_image_model" not in counts
    assert counts["hyperfit_image_model"] == 1 and counts["complete_images"] == 2

    data = json.loads((work / "results/data/imagegpt-large/images.json").read_text())
    assert data["sos_id"] == 512 and (data["height"], data["width"], data["prompt_rows"]) == (32, 32, 8)
    assert np.allclose(data["clusters"], clusters)
    assert {k: len(v) for k, v in data["splits"].items()} == {"eval": 2, "train": 4}
    table = pd.read_csv(work / "results/tables/image_repetition.tsv", sep="\t")
    assert table["variant"].tolist() == ["original", "hyperfitted", "held-out image"]
    assert (table["generated_pixels"] == 24 * 32).all()  # the last 24 rows, the last pixel included
    assert table["setting"].str.contains("openai/imagegpt-large on").all()
    history = pd.read_csv(work / "results/train/imagegpt-large/hyperfitted/history.tsv", sep="\t")
    assert list(history["epoch"]) == [0, 1, 2] and history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]
    assert_figure(work / "results/figures/figure6.png")
