"""A hostile-but-fair new user's broken configs: every overlay below is refused before any job runs, with one line
that names the key (wrong types, out-of-range values, misspelt keys, inconsistent keys, missing files, unknown
sources). What only a job can find (a corrupted asset, an empty or binary corpus file, a hub id offline) is in
test_inputs.py; a pin changed after the download is caught by the asset check there too."""
from __future__ import annotations

import pytest
from hyperfit.config import problems, schema_error
from snakemake.utils import validate
from test_config import SCHEMA
from test_workflow import snakemake, with_changes, write_config

# (overlay of dotted keys, the key the one line must name)
OVERLAYS = [
    ({"seed": "zero"}, "seed"),
    ({"seed": -1}, "seed"),
    ({"hyperfit.epochs": 0}, "hyperfit.epochs"),
    ({"hyperfit.epochs": 2.5}, "hyperfit.epochs"),
    ({"hyperfit.lr": "1e-4"}, "hyperfit.lr"),
    ({"hyperfit.lr": -0.1}, "hyperfit.lr"),
    ({"hyperfit.lrr": 0.1}, "hyperfit"),
    ({"hyperfit.batch_size": 32}, "hyperfit.batch_size"),
    ({"hyperfit.lora": {"enabled": True, "r": 0}}, "hyperfit.lora.r"),
    ({"data.num_samples": "many"}, "data.num_samples"),
    ({"data.num_sample": 8}, "data"),
    ({"data.train_domain": "poetry"}, "data.train_domain"),
    ({"data.eval_domains": []}, "data.eval_domains"),
    ({"data.contexts_per_domain": 0}, "data.contexts_per_domain"),
    ({"data.words_per_token": 0}, "data.words_per_token"),
    ({"generation.lengths": [0]}, "generation.lengths"),
    ({"generation.decodings.top_p.top_p": 1.5}, "generation.decodings.top_p.top_p"),
    ({"generation.decodings.top_p.top_k": -5}, "generation.decodings.top_p.top_k"),
    ({"generation.decodings.top_p.temperature": 0}, "generation.decodings.top_p.temperature"),
    ({"generation.decodings.greedy_blocked.blocker.ngram": 1}, "generation.decodings.greedy_blocked.blocker.ngram"),
    ({"generation.decodings.greedy_blocked.blocker.ngram": 40}, "generation.decodings.greedy_blocked.blocker.ngram"),
    ({"metrics.ttr_window": 200}, "metrics.ttr_window"),
    ({"metrics.overlap_threshold": -1}, "metrics.overlap_threshold"),
    ({"models": {"m": {"source": "somewhere"}}}, "models.m.source"),
    ({"models": {"m": {"source": "local", "path": "/nonexistent"}}}, "models.m"),
    ({"models": {"m": {"source": "hub"}}}, "models.m"),
    ({"models.smollm2-135m.asset": "nope"}, "models.smollm2-135m"),
    ({"models.smollm2-135m.compute.gpus": 3}, "models.smollm2-135m.compute.gpus"),
    ({"assets.brotli.sha256": "not-a-hash"}, "assets.brotli.sha256"),
    ({"corpora.fiction.reader": "ftp"}, "corpora.fiction.reader"),
    ({"corpora.wiki": {"reader": "text_files", "paths": ["/nonexistent.txt"]}}, "corpora.wiki"),
    ({"corpora.news.encoding": 5}, "corpora.news.encoding"),
    ({"figure1.text": 10}, "figure1.text"),
    ({"figure4.domain": "poetry"}, "figure4.domain"),
    ({"human.ratings_per_pair": 4}, "human.ratings_per_pair"),
    ({"human.annotations": ["/nonexistent/rater1.csv"]}, "human.annotations"),
    ({"sweeps.seeds": []}, "sweeps.seeds"),
    ({"sweeps.quantity.num_samples": [2, 8]}, "sweeps"),
    ({"sweeps.models": ["nope"]}, "sweeps.models"),
    ({"comparison.temperature.low": 10}, "comparison.temperature"),
    ({"downstream.suites": ["squad"]}, "downstream.suites"),
    ({"downstream.mmlu.shots": 5}, "downstream.mmlu.shots"),
    ({"image.figure_images": 100}, "image.figure_images"),
    ({"followup.models": ["nope"]}, "followup.models"),
    ({"followup.bias_strengths": []}, "followup.bias_strengths"),
    ({"data.separate_documents": "sometimes"}, "data.separate_documents"),
    ({"corpora.wiki.eval_split": "test"}, "corpora.wiki.eval_split"),
    ({"corpora.news.eval_path": ["x.txt"]}, "corpora.news.eval_path"),
    ({"data.eval_domains": ["fiction", "wiki", "wiki"]}, "data.eval_domains"),
    ({"followup.lora.variants": [{"name": "all", "label": "a", "layers": None},
                                 {"name": "all", "label": "b", "layers": [-1]}]}, "followup.lora.variants"),
]


def refusal(changes: dict) -> list[str]:
    """The lines a config is refused with (schema first, then the cross-key checks), as the workflow prints
    them before any job runs."""
    cfg = with_changes(changes)
    try:
        validate(cfg, str(SCHEMA))
    except Exception as exc:  # snakemake's WorkflowError around jsonschema's ValidationError
        return [schema_error(exc.__context__)]
    return problems(cfg)


@pytest.mark.parametrize("changes, key", OVERLAYS, ids=[k for _, k in OVERLAYS])
def test_a_broken_config_is_refused_with_one_line_naming_the_key(changes, key):
    lines = refusal(changes)
    assert lines and all("\n" not in line for line in lines)
    assert any(line.startswith(key) or f"{key}" in line for line in lines), lines


def test_the_workflow_prints_those_lines_and_runs_nothing(tmp_path):
    res = snakemake("-n", "all", "--configfile", str(write_config(tmp_path, {"generation.decodings.top_p.top_p": 1.5})))
    assert res.returncode != 0 and "Job stats" not in res.stdout
    assert "Config error: generation.decodings.top_p.top_p: 1.5 is greater than the maximum of 1" in res.stdout + res.stderr


def test_a_key_given_twice_stops_the_dry_run_with_one_line(tmp_path):
    """YAML keeps the last of two equal keys silently (a second model or decoding of one name would vanish)."""
    from test_workflow import ROOT

    text = (ROOT / "config/config.yaml").read_text()
    path = tmp_path / "twice.yaml"
    path.write_text(text + "seed: 1\n")
    res = snakemake("-n", "all", "--configfile", str(path))
    lines = [line for line in (res.stdout + res.stderr).splitlines() if line.startswith("Config error:")]
    first = next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith("seed:"))
    assert res.returncode != 0 and lines == [
        f"Config error: seed: given twice in {path} (lines {first} and {len(text.splitlines()) + 1}); YAML keeps only "
        "the last: rename or remove one"]
