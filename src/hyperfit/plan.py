"""The plan of a config, built once per Snakemake invocation: the settings table (hyperfit.settings), every run
list a product reads, and which targets read each setting. The workflow's first job writes it as
results/plan/settings.tsv (one row per model x setting: what it trains on, its training values, the experiments
and targets that read it, whether early-stopped weights are kept) and results/plan/runs.tsv (one row per file a
target reads: which model, setting, weights, decoding and length), for users to open as they would a sample
sheet; the rules and input functions read the same object.
"""
from __future__ import annotations

from functools import cached_property

import pandas as pd

from . import settings as S

# Which run lists each target of the Snakefile reads (a target reads the settings of every run in them). The
# follow-up's layer table reads the main run of the follow-up's models; its overrides table their hyperfitted
# greedy continuations (and the original model); Figure 2 the main run of every model.
TARGET_RUNS = {
    "figure2": ("main_trains",), "table1": ("main", "variants"), "figure1": ("figure1",),
    "figure9": ("main_top",), "table2": ("main",), "figure3": ("main",), "table3": ("variants",),
    "figure4": ("variants",), "figure5": ("shuffle", "shuffle_original", "quantity", "quantity_original"),
    "table4": ("data_type", "data_type_original", "data_type_scores", "data_type_original_scores"),
    "comparison": ("comparison",), "followup_bias": ("bias", "references"),
    "followup_layers": ("followup_trains",), "followup_overrides": ("overrides",), "human_packets": ("human",),
    "human_results": ("human",),
    "table_mmlu": ("variants",), "table_glue": ("variants",), "figure_downstream": ("variants",),
}
TRAINING_COLUMNS = ("train_domain", "num_samples", "seq_len", "updates", "batch_size", "lr", "weight_decay",
                    "seed", "order", "swap")


# The tables with MAUVE columns: the run lists whose generation files each shows.
MAUVE_TABLES = {"table1": ("main",), "comparison": ("comparison",), "table4": ("data_type", "data_type_original")}


def _mauve_list(config: dict, name: str) -> list[dict]:
    d = config["comparison"]["decoding"]
    return {"main": lambda: S.main_runs(config), "comparison": lambda: S.comparison_runs(config),
            "data_type": lambda: S.sweep_runs(config, "data_type", d),
            "data_type_original": lambda: S.sweep_original(config, "data_type", d)}[name]()


def mauve_runs(config: dict, model: str, table: str, runs: dict[str, list[dict]] | None = None) -> list[dict]:
    """The generation files of `model` whose MAUVE against the human continuations `table` shows, each once."""
    found: dict[str, dict] = {}
    for name in MAUVE_TABLES[table]:
        listed = runs[name] if runs else _mauve_list(config, name)
        for r in listed:
            if r["model"] == model:
                found.setdefault(r["texts"], {k: r[k] for k in ("model", "setting", "weights", "method", "length",
                                                                 "texts")})
    return list(found.values())


class Plan:
    """Everything the rules ask the settings table for, computed once."""

    def __init__(self, config: dict):
        self.config = config
        self.table = S.table(config)
        self.settings = {(s.model, s.name): s for s in self.table}
        self.models = S.models(config)

    # ------------------------------------------------------------------------------------------ run lists
    @cached_property
    def runs(self) -> dict[str, list[dict]]:
        """Every run list a product reads, by name (hyperfit.settings builds each)."""
        c, d = self.config, self.config["comparison"]["decoding"]
        followup = S.experiment_models(c, "followup")
        return {
            "main": S.main_runs(c), "main_top": S.main_runs(c, [S.top_length(c)]), "variants": S.variant_runs(c),
            "figure1": S.figure1_runs(c),
            "main_trains": [S.run(m, S.MAIN) for m in self.models],
            "followup_trains": [S.run(m, S.MAIN) for m in followup],
            "shuffle": S.sweep_runs(c, "shuffle"), "shuffle_original": S.sweep_original(c, "shuffle"),
            "quantity": S.sweep_runs(c, "quantity", d), "quantity_original": S.sweep_original(c, "quantity", d),
            "data_type": S.sweep_runs(c, "data_type", d), "data_type_original": S.sweep_original(c, "data_type", d),
            "data_type_scores": S.sweep_runs(c, "data_type"),
            "data_type_original_scores": S.sweep_original(c, "data_type"),
            "comparison": S.comparison_runs(c), "bias": S.bias_runs(c), "references": S.reference_runs(c),
            "overrides": [r for r in S.reference_runs(c) if r["setting"] == S.MAIN],
            "human": S.human_runs(c),
        }

    def target_runs(self, target: str) -> list[dict]:
        return [r for name in TARGET_RUNS.get(target, ()) for r in self.runs[name]]

    def target_settings(self, target: str) -> set[tuple[str, str]]:
        """The (model, setting) pairs a target's rows show; a comparison row also reads the run whose
        entropy or validation curve it is matched to (its `hyperfitted` setting)."""
        out = set()
        for r in self.target_runs(target):
            out.add((r["model"], r["setting"]))
            if r.get("hyperfitted"):
                out.add((r["model"], r["hyperfitted"]))
        if target in ("followup_bias", "followup_overrides"):  # the bias: hyperfitted minus original logits; the
            # overrides: the hyperfitted greedy path teacher-forced through the original
            out |= {(m, s) for m in S.experiment_models(self.config, "followup") for s in (S.ORIGINAL, S.MAIN)}
        return out

    def target_trainings(self, target: str) -> set[tuple[str, str]]:
        return {k for k in self.target_settings(target) if self.settings[k].trained}

    @cached_property
    def generations(self) -> list[dict]:
        return S.generations(self.config)

    @cached_property
    def methods(self) -> list[str]:
        return S.methods(self.config)

    def mauve_runs(self, model: str, table: str) -> list[dict]:
        return mauve_runs(self.config, model, table, self.runs)

    # ------------------------------------------------------------------------------------------ per job
    def setting(self, model: str, name: str) -> S.Setting:
        return self.settings[(model, name)]

    def generation_seed(self, model: str, name: str, method: str) -> int:
        return S.generation_seed(self.config, model, name, method, self.settings)

    def check_generation(self, model: str, name: str, weights: str, method: str) -> None:
        S.check_generation(self.config, model, name, weights, method, self.settings)

    # ------------------------------------------------------------------------------------------ as files
    def settings_frame(self) -> pd.DataFrame:
        """results/plan/settings.tsv: one row per model x setting, in the table's order."""
        reads: dict[tuple[str, str], list[str]] = {}
        for target in TARGET_RUNS:
            for key in sorted(self.target_settings(target)):
                reads.setdefault(key, []).append(target)
        rows = []
        for s in self.table:
            t = s.train or {}
            lora = t.get("lora")
            rows.append({"model": s.model, "setting": s.name, "trained": s.trained,
                         **{k: t.get(k, "") for k in TRAINING_COLUMNS},
                         "lora": f"r{lora['r']} {lora['name']}" if lora else "",
                         "experiments": ",".join(s.uses), "targets": ",".join(reads.get((s.model, s.name), [])),
                         "early_stopped": s.early_stopped,
                         "folder": S.train_dir(s.model, s.name) if s.trained
                         else S.base_model_dir(self.config, s.model)})
        return pd.DataFrame(rows)

    def runs_frame(self) -> pd.DataFrame:
        """results/plan/runs.tsv: per target, every run it reads with the files it reads of it."""
        rows = []
        for target in TARGET_RUNS:
            for name in TARGET_RUNS[target]:
                for r in self.runs[name]:
                    rows.append({"target": target, "list": name, "model": r["model"], "setting": r["setting"],
                                 "weights": r["weights"], "method": r.get("method", ""),
                                 "length": r.get("length", ""), "label": r.get("label", r.get("variant", "")),
                                 "texts": r.get("texts", ""), "scores": r["scores"]})
        return pd.DataFrame(rows)
