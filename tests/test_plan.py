"""The plan as a file (results/plan/settings.tsv, runs.tsv) and every target's DAG against the settings its
rows show: a target trains exactly the settings of the rows it shows, no more."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from hyperfit import settings as S
from hyperfit.plan import TARGET_RUNS, Plan
from test_workflow import dry_run

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
MODEL = next(iter(DEFAULT["models"]))


def dag_jobs(stdout: str) -> list[dict]:
    """The jobs of a `snakemake -n` listing: rule, inputs, outputs and wildcards of each."""
    jobs = []
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", stdout):
        head = re.match(r"(?:local)?rule (\w+):", block)
        if not head:
            continue
        fields = dict(re.findall(r"^\s+(input|output|wildcards): (.*)$", block, re.M))
        jobs.append({"rule": head.group(1),
                     "input": fields["input"].split(", ") if "input" in fields else [],
                     "output": fields["output"].split(", ") if "output" in fields else [],
                     "wildcards": dict(w.split("=", 1) for w in fields.get("wildcards", "").split(", ") if w)})
    return jobs


def trainings_of_each(targets: list[str]) -> dict[str, set[tuple[str, str]]]:
    """The (model, setting) of every train_setting job each target needs: one `snakemake -n --forceall` of all the
    targets on the default, each target's job followed back from its inputs through the jobs that write them (its
    own DAG: the DAG has no checkpoints, so what a target needs does not depend on what else is asked for)."""
    res = dry_run(*targets)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    jobs = dag_jobs(res.stdout)
    writer = {path: job for job in jobs for path in job["output"]}
    found = {}
    for target in targets:
        (job,) = [j for j in jobs if j["rule"] == target]
        seen, stack, trainings = set(), list(job["input"]), set()
        while stack:
            path = stack.pop()
            if path in seen or path not in writer:
                continue
            seen.add(path)
            source = writer[path]
            if source["rule"] == "train_setting":
                trainings.add((source["wildcards"]["model"], source["wildcards"]["setting"]))
            stack.extend(source["input"])
        found[target] = trainings
    return found


@pytest.fixture(scope="module")
def target_trainings() -> dict[str, set[tuple[str, str]]]:
    """Every target rule of the Snakefile, from one dry run of them all on the default."""
    return trainings_of_each(re.findall(r"^rule (\w+):", (ROOT / "Snakefile").read_text(), re.M))


def test_table1_trains_only_the_main_run(target_trainings):
    """Hand-stated: Table 1's rows are the original and the main run of each model; nothing else trains (the
    Table 4 models of the human study and the comparison's LoRA rows did before the plan)."""
    assert target_trainings["table1"] == {(MODEL, S.MAIN)}
    assert target_trainings["figure2"] == target_trainings["table3"] == {(MODEL, S.MAIN)}
    assert target_trainings["figure6"] == target_trainings["image_repetition"] == set()  # the image branch
    # Table 4: the base setting trained on each domain; the main domain's is the base setting itself
    base = S.setting_name(DEFAULT, S.base_train(DEFAULT, DEFAULT["sweeps"]["seeds"][0]))
    wiki = S.setting_name(DEFAULT, {**S.base_train(DEFAULT, DEFAULT["sweeps"]["seeds"][0]), "train_domain": "wiki"})
    assert base in {s for _, s in target_trainings["table4"]} and (MODEL, wiki) in target_trainings["table4"]
    assert (MODEL, S.MAIN) not in target_trainings["table4"]


def test_every_target_trains_exactly_the_settings_its_rows_show(target_trainings):
    plan = Plan(DEFAULT)
    for target in TARGET_RUNS:
        assert target_trainings[target] == plan.target_trainings(target), target
    every = {(s.model, s.name) for s in plan.table if s.trained}
    assert target_trainings["all"] == target_trainings["train_all"] == every
    shown = set().union(*(plan.target_trainings(t) for t in ("table1", "figure2", "table2", "table3", "figure5",
                                                             "comparison", "followup_bias", "followup_layers",
                                                             "table_mmlu", "table_glue")))
    assert target_trainings["claims"] == shown  # the claims read those tables and nothing else


def test_the_plan_is_written_as_files(tmp_path):
    """`snakemake plan` writes settings.tsv (checked against the config by hand) and runs.tsv."""
    res = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path),
                          "--cores", "1", "plan"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    table = pd.read_csv(tmp_path / "results/plan/settings.tsv", sep="\t", keep_default_na=False)
    assert table["setting"].tolist()[:2] == [S.ORIGINAL, S.MAIN] and len(table) == 1 + 10
    main = table.set_index("setting").loc[S.MAIN]
    data, hf = DEFAULT["data"], DEFAULT["hyperfit"]
    assert (main["train_domain"], int(main["num_samples"]), int(main["seq_len"])) == \
        (data["train_domain"], data["num_samples"], data["seq_len"])
    # the paper's loop: every epoch passes over all windows once, in batches
    assert int(main["updates"]) == hf["epochs"] * -(-data["num_samples"] // hf["batch_size"])
    assert main["folder"] == f"results/train/{MODEL}/{S.MAIN}" and main["early_stopped"] in (True, "True")
    assert {"table1", "figure2", "comparison", "human_packets"} <= set(main["targets"].split(","))
    # early-stopped weights only where the comparison reads them (its replica of the main run: the main run)
    assert table.loc[table["early_stopped"].astype(str) == "True", "setting"].tolist() == [S.MAIN]
    lora = table[table["lora"] != ""]
    assert len(lora) == 2 and set(lora["experiments"]) == {"lora"} and set(lora["targets"]) == {"comparison"}
    runs = pd.read_csv(tmp_path / "results/plan/runs.tsv", sep="\t", keep_default_na=False)
    t1 = runs[runs["target"] == "table1"]
    assert set(t1["setting"]) == {S.ORIGINAL, S.MAIN}
    assert set(t1["texts"]) - {""} == {r["texts"] for r in S.main_runs(DEFAULT)}
