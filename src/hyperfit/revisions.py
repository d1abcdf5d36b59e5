"""Hub revisions: which hub repositories a config downloads (each under its config key), the line that names the
commits a result came from, and the lock file that makes a later run resolve to exactly those commits.

A download records {key, kind, repo, revision, commit} beside what it wrote (hyperfit.assets.source_record). The
lock (`results/revisions.lock.yaml`, written by the `revisions` target) maps each key to its commit; a config that
names it under `revisions_lock` gets those commits as its revisions, as the default's PyPI assets get their pinned
sha256s. A lock entry fills a null revision; a revision the config states must equal the locked commit."""
from __future__ import annotations

import os

import yaml

from .assets import COMMIT, HUB_ID
from .errors import UserError
from .lmeval import HUB_DATASETS


def hub_sources(config: dict) -> dict[str, dict]:
    """Every hub repository the config downloads, by config key: {kind, repo, revision}. The revision's key is
    <key>.revision, except the MAUVE featurizer's (followup.mauve.revision)."""
    out = {}
    for name, spec in config["models"].items():
        if spec["source"] == "hub":
            out[f"models.{name}"] = {"kind": "model", "repo": spec["id"], "revision": spec.get("revision"),
                                     "revision_key": f"models.{name}.revision"}
    for domain, spec in config["corpora"].items():
        if spec["reader"] == "hub" and HUB_ID.match(spec.get("dataset", "")) and not os.path.isdir(spec["dataset"]):
            out[f"corpora.{domain}"] = {"kind": "dataset", "repo": spec["dataset"], "revision": spec.get("revision"),
                                        "revision_key": f"corpora.{domain}.revision"}
    image = config["image"]
    if image["source"] == "hub":
        out["image.model"] = {"kind": "model", "repo": image["model"]["id"], "revision": image["model"].get("revision"),
                              "revision_key": "image.model.revision"}
        out["image.dataset"] = {"kind": "dataset", "repo": image["dataset"]["id"],
                                "revision": image["dataset"].get("revision"), "revision_key": "image.dataset.revision"}
    for suite in config["downstream"]["suites"]:
        spec = config["downstream"][suite]
        if spec["source"] == "hub":
            out[f"downstream.{suite}"] = {"kind": "dataset", "repo": HUB_DATASETS[suite],
                                          "revision": spec.get("revision"), "revision_key": f"downstream.{suite}.revision"}
    mauve = config["followup"]["mauve"]
    if mauve["featurizer"] not in config["models"]:
        out["followup.mauve.featurizer"] = {"kind": "model", "repo": mauve["featurizer"],
                                            "revision": mauve.get("revision"), "revision_key": "followup.mauve.revision"}
    for role in ("scorer", "coherence"):  # the quality measures' models (hyperfit.quality)
        spec = (config.get("quality") or {}).get(role)
        if spec and spec["model"] is not None and spec["model"] not in config["models"]:
            out[f"quality.{role}"] = {"kind": "model", "repo": spec["model"], "revision": spec.get("revision"),
                                      "revision_key": f"quality.{role}.revision"}
    judge = config.get("judge") or {}
    if judge.get("model") is not None and judge["model"] not in config["models"]:  # the LLM judge (hyperfit.judge)
        out["judge.model"] = {"kind": "model", "repo": judge["model"], "revision": judge.get("revision"),
                              "revision_key": "judge.revision"}
    return out


def _set_revision(config: dict, key: str, commit: str) -> None:
    if key.startswith("models."):
        config["models"][key[len("models."):]]["revision"] = commit
    elif key.startswith("corpora."):
        config["corpora"][key[len("corpora."):]]["revision"] = commit
    elif key == "image.model":
        config["image"]["model"]["revision"] = commit
    elif key == "image.dataset":
        config["image"]["dataset"]["revision"] = commit
    elif key == "followup.mauve.featurizer":
        config["followup"]["mauve"]["revision"] = commit
    elif key.startswith("downstream."):
        config["downstream"][key[len("downstream."):]]["revision"] = commit
    elif key.startswith("quality."):
        config["quality"][key[len("quality."):]]["revision"] = commit
    elif key == "judge.model":
        config["judge"]["revision"] = commit


def read_lock(path: str) -> dict[str, dict]:
    """A lock file: {key: {repo, commit}}. A missing or malformed file stops with the key to fix."""
    if not os.path.isfile(path):
        raise UserError(f"revisions_lock: {path} does not exist: give the lock file a run wrote "
                        "(results/revisions.lock.yaml, `snakemake revisions`) or set revisions_lock to null")
    try:
        lock = yaml.safe_load(open(path, encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise UserError(f"revisions_lock: {path} is not YAML ({str(exc).splitlines()[0]}): give the file a run "
                        "wrote") from None
    entries = lock.get("revisions") if isinstance(lock, dict) else None
    if not isinstance(entries, dict) or not all(
            isinstance(e, dict) and isinstance(e.get("repo"), str) and COMMIT.match(str(e.get("commit", "")))
            for e in entries.values()):
        raise UserError(f"revisions_lock: {path} is not a lock file (a mapping `revisions: {{key: {{repo, commit}}}}` "
                        "of 40-hex commits): give the file a run wrote (results/revisions.lock.yaml)")
    return entries


def apply_lock(config: dict) -> list[str]:
    """Give every hub download of `config` the commit its revisions lock records (config['revisions_lock']);
    returns the problems, one line each (a conflicting revision, a repository the lock does not name or names
    with another id). Changes config in place."""
    path = config.get("revisions_lock")
    if not path:
        return []
    try:
        lock = read_lock(path)
    except UserError as exc:
        return [str(exc)]
    problems, missing = [], []
    for key, src in hub_sources(config).items():
        entry = lock.get(key)
        if entry is None:
            missing.append(f"{key} ({src['repo']})")
        elif entry["repo"] != src["repo"]:
            problems.append(f"revisions_lock: {path} locks {key} to {entry['repo']}, but the config names "
                            f"{src['repo']}: use the lock of this config, or set revisions_lock to null")
        elif src["revision"] not in (None, entry["commit"]):
            problems.append(f"{src['revision_key']}: {src['revision']!r} conflicts with the locked commit "
                            f"{entry['commit']} ({path}): remove the revision to use the lock's, or set it to "
                            "that commit, or set revisions_lock to null")
        else:
            _set_revision(config, key, entry["commit"])
    if missing:
        problems.append(f"revisions_lock: {path} has no commit for {', '.join(missing)}: write a new lock with a run "
                        "of this config (`snakemake revisions`), or set revisions_lock to null")
    return problems


def records_of(paths) -> list[dict]:
    """The source records in `paths` (JSON files written by the download jobs), hub ones only."""
    import json

    records = []
    for p in paths:
        with open(p, encoding="utf-8") as fh:
            rec = json.load(fh)
        if rec.get("kind") in ("model", "dataset"):
            records.append(rec)
    return records


def revisions_line(paths) -> str:
    """One line naming the hub commits behind a result ('' when nothing came from the hub)."""
    records = records_of(paths)
    if not records:
        return ""
    parts = [f"{r['key']} = {r['repo']}@{r['commit'] or 'unresolved (offline, not in the hub cache)'}"
             for r in sorted(records, key=lambda r: r["key"])]
    return "Revisions (hub commits of the inputs): " + "; ".join(parts) + "."


def revisions_dict(paths) -> dict:
    """{key: {repo, revision, commit}} of the hub records in `paths`, for run.json."""
    return {r["key"]: {"repo": r["repo"], "revision": r["revision"], "commit": r["commit"]}
            for r in records_of(paths)}


def lock_text(paths) -> str:
    """The lock file of a run's recorded downloads."""
    entries = {r["key"]: {"repo": r["repo"], "commit": r["commit"]} for r in records_of(paths)}
    missing = [k for k, e in entries.items() if not e["commit"]]
    if missing:
        raise UserError(f"no commit is recorded for {', '.join(missing)} (read offline from a cache without its "
                        "refs): run their download jobs once where the hub is reachable, then write the lock")
    head = ("# Hub commits this run resolved to (hyperfit.revisions). Set `revisions_lock: <this file>` in a config\n"
            "# (or --config revisions_lock=<this file>) to resolve to exactly these again.\n")
    return head + yaml.safe_dump({"revisions": dict(sorted(entries.items()))}, sort_keys=False)
