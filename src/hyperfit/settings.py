"""The settings table: every model the config asks for, trained or not, and what each experiment reads.

A *setting* is everything that decides a trained model: training domain, number of windows, window
length, optimizer updates, batch size, learning rate, weight decay, seed (which windows are drawn and
their order), data order and swap. It is the one unit of the workflow, as a sample sheet is in other
Snakemake workflows: one row per (model, setting), `original` (the base model, no training) and the main
hyperfitting run (`hyperfitted`: config data + hyperfit) included, each with the experiments that use it.
Every distinct setting is trained once and evaluated once per weights, decoding and length, whichever
experiments ask for it.

Paths are hyperfit.paths' patterns, filled in by the functions under "paths" below. {weights} is `model` (the
final weights) or `early_stopped` (the same run at its lowest validation loss); {method} is a decoding of
generation.decodings, `repetition_penalty`, `matched_<setting>` (sampling at the temperature whose entropy
matches that setting's), `matched_greedy_<setting>` (greedy at that temperature: a sanity row, equal to greedy),
`logit_bias_<s>` (the follow-up's fixed bias) or `logit_bias_top<K>_<s>` (that bias on its K tokens of largest
rank rise).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from . import paths as P

ORIGINAL = "original"       # the base model (no training)
MAIN = "hyperfitted"        # the main hyperfitting run (config data + hyperfit)
WEIGHTS = ("model", "early_stopped")
REPETITION_PENALTY = "repetition_penalty"
MATCHED = "matched_"        # method prefix: sampling at the temperature matched to a setting's entropy
MATCHED_GREEDY = "matched_greedy_"  # method prefix: greedy at that matched temperature (= greedy: a sanity row)
BIAS = "logit_bias_"        # method prefix: greedy with logits + s x the hyperfitted-minus-original bias
BIAS_TOP = "logit_bias_top"  # method prefix: the same with the bias on its K tokens of largest rank rise only
TRAIN_KEYS = ("train_domain", "num_samples", "seq_len", "updates", "batch_size", "lr", "weight_decay", "seed",
              "order", "swap", "lora")
EXPERIMENTS = ("main", "shuffle", "quantity", "data_type", "comparison", "lora")


@dataclass(frozen=True)
class Setting:
    """One row of the table: a model's setting. train is None for the original model."""
    model: str
    name: str
    train: dict | None
    uses: tuple[str, ...] = field(default=())
    early_stopped: bool = False   # the run keeps its weights at the lowest validation loss

    @property
    def trained(self) -> bool:
        return self.train is not None


# ------------------------------------------------------------------------------------------ settings
def updates_per_epoch(num_samples: int, batch_size: int) -> int:
    return (num_samples + batch_size - 1) // batch_size


def main_train(config: dict, seed: int | None = None) -> dict:
    """The main hyperfitting run (config data + hyperfit) as a setting; another seed gives its replica."""
    data, hf = config["data"], config["hyperfit"]
    return {"train_domain": data["train_domain"], "num_samples": data["num_samples"], "seq_len": data["seq_len"],
            "updates": hf["epochs"] * updates_per_epoch(data["num_samples"], hf["batch_size"]),
            "batch_size": hf["batch_size"], "lr": float(hf["lr"]), "weight_decay": float(hf["weight_decay"]),
            "seed": config["seed"] if seed is None else seed, "order": 0, "swap": False}


def base_train(config: dict, seed: int) -> dict:
    """The setting every sweep varies one thing of (sweeps.base), under `seed`."""
    b = config["sweeps"]["base"]
    return {"train_domain": b["train_domain"], "num_samples": b["num_samples"], "seq_len": b["seq_len"],
            "updates": b["updates"], "batch_size": b["batch_size"], "lr": float(b["lr"]),
            "weight_decay": float(config["hyperfit"]["weight_decay"]), "seed": seed, "order": 0, "swap": False}


def spelled_name(train: dict) -> str:
    """A readable, unique folder name: fiction-n8-L64-u24-b4-lr0.0002-wd0-s0-o0 (+ -swap, + -lora16-last5)."""
    lora = train.get("lora")
    return (f"{train['train_domain']}-n{train['num_samples']}-L{train['seq_len']}-u{train['updates']}"
            f"-b{train['batch_size']}-lr{train['lr']:g}-wd{train['weight_decay']:g}-s{train['seed']}"
            f"-o{train['order']}" + ("-swap" if train["swap"] else "")
            + (f"-lora{lora['r']}-{lora['name']}" if lora else ""))


def setting_name(config: dict, train: dict | None) -> str:
    """`original` for no training, `hyperfitted` for the main run, else the spelled-out name."""
    if train is None:
        return ORIGINAL
    return MAIN if train == main_train(config) else spelled_name(train)


def models(config: dict) -> list[str]:
    return list(config["models"])


def experiment_models(config: dict, experiment: str) -> list[str]:
    """The models an experiment runs on: its own list (sweeps.<experiment>.models, comparison.models), else
    sweeps.models, else every model."""
    if experiment in ("lora", "followup"):
        return list(config["followup"]["models"] or experiment_models(config, "comparison"))
    own = (config["comparison"] if experiment == "comparison" else config["sweeps"][experiment]).get("models")
    return list(own or config["sweeps"]["models"] or config["models"])


def lora_train(config: dict, seed: int, variant: dict) -> dict:
    """A setting trained as LoRA adapters (the follow-up's 'Late-Stage LoRA' and full LoRA): the main run's, or
    the sweeps' base setting (followup.lora.setting)."""
    lo = config["followup"]["lora"]
    full = main_train(config, seed) if lo["setting"] == "main" else base_train(config, seed)
    return {**full, "lr": float(lo["lr"]),
            "lora": {"name": variant["name"], "r": lo["r"], "alpha": lo["alpha"], "layers": variant["layers"]}}


def seeds(config: dict) -> list[int]:
    return list(config["sweeps"]["seeds"])


def experiments(config: dict) -> dict:
    """Per sweep experiment and seed, the (label, training setting) pairs it compares.

    shuffle: the base setting, the same with two windows swapped, and further data orders;
    quantity: the base setting with each sweeps.quantity.num_samples (same number of updates);
    data_type: the base setting trained on each sweeps.data_type.domains;
    comparison: the main setting (replicated under each seed);
    lora: the main setting trained as LoRA adapters, one setting per followup.lora.variants."""
    sw = config["sweeps"]
    out: dict = {"shuffle": {}, "quantity": {}, "data_type": {}, "comparison": {}, "lora": {}}
    for seed in sw["seeds"]:
        base = base_train(config, seed)
        shuffle = [("order 0", base)]
        if sw["shuffle"]["swap"]:
            shuffle.append(("order 0, one swap", {**base, "swap": True}))
        shuffle += [(f"order {k}", {**base, "order": k}) for k in range(1, sw["shuffle"]["orders"])]
        out["shuffle"][seed] = shuffle
        out["quantity"][seed] = [(n, {**base, "num_samples": n}) for n in sw["quantity"]["num_samples"]]
        out["data_type"][seed] = [(d, {**base, "train_domain": d}) for d in sw["data_type"]["domains"]]
        out["comparison"][seed] = [("hyperfitted", main_train(config, seed))]
        out["lora"][seed] = [(v["label"], lora_train(config, seed, v)) for v in config["followup"]["lora"]["variants"]]
    return out


def table(config: dict) -> list[Setting]:
    """Every (model, setting) the config asks for, each once: per model `original`, `hyperfitted`, then the
    sweeps' settings by name. A setting used by several experiments lists them all in `uses`; a setting keeps
    early-stopped weights only where an experiment reads them: the comparison's runs (its replicas of the main
    run, the main run itself on the comparison's models). A main run no experiment reads them from keeps none
    (for Llama 3.1 70B each new best would gather 282 GB of fp32 weights on the host and write them to disk)."""
    rows: dict[tuple[str, str], dict] = {}

    def add(model: str, train: dict | None, use: str) -> None:
        name = setting_name(config, train)
        row = rows.setdefault((model, name), {"train": train, "uses": [], "early_stopped": False})
        if use not in row["uses"]:
            row["uses"].append(use)
        row["early_stopped"] |= use == "comparison" and train is not None

    for model in models(config):
        add(model, None, "main")
        add(model, main_train(config), "main")
    for experiment, per_seed in experiments(config).items():
        for model in experiment_models(config, experiment):
            add(model, None, experiment)
            for pairs in per_seed.values():
                for _, train in pairs:
                    add(model, train, experiment)
    order = {ORIGINAL: 0, MAIN: 1}
    keys = sorted(rows, key=lambda k: (models(config).index(k[0]), order.get(k[1], 2), k[1]))
    return [Setting(model, name, rows[(model, name)]["train"], tuple(rows[(model, name)]["uses"]),
                    rows[(model, name)]["early_stopped"]) for model, name in keys]


def lookup(config: dict) -> dict[tuple[str, str], Setting]:
    """The table by (model, setting name)."""
    return {(s.model, s.name): s for s in table(config)}


def trained_names(config: dict) -> list[str]:
    return sorted({s.name for s in table(config) if s.trained})


def windows_setting(config: dict, setting: Setting) -> dict:
    """The training windows a setting's texts are compared with (overlap, Dataset BLEU, the blocker): its
    own; for the original model, the main run's (what the paper compares the original model with)."""
    return setting.train if setting.trained else main_train(config)


def training_settings(config: dict, setting: Setting) -> dict:
    """The training loop's settings of a trained setting. The main run: the hyperfit block as given, with
    Figure 2's numbers (loss, entropy, greedy TTR) after every epoch. Every other setting: its own values
    and a fixed number of updates, no per-epoch generation; the validation loss after every epoch where
    early-stopped weights are kept, else before and after training only (short sweep epochs would spend
    more time measuring than training)."""
    hf = {**config["hyperfit"], "ttr_window": config["metrics"]["ttr_window"]}
    if setting.name == MAIN:
        return {**hf, "seed": config["seed"]}
    s = setting.train
    out = {**hf, **{k: s[k] for k in ("batch_size", "lr", "weight_decay", "seed", "order", "swap")}}
    out.update(updates=s["updates"], epochs=None, monitor_new_tokens=0,
               monitor_epochs="all" if setting.early_stopped else "ends")
    if s.get("lora"):
        lo = s["lora"]
        out["lora"] = {**hf["lora"], "enabled": True, "r": lo["r"], "alpha": lo["alpha"], "layers": lo["layers"]}
    return out


# ------------------------------------------------------------------------------------------ data needs
def pool_needs(config: dict) -> dict[str, dict[int, int]]:
    """Windows each (domain, seed) pool of training passages must hold: the largest num_samples of a trained
    setting there."""
    needs: dict[str, dict[int, int]] = {}
    for s in table(config):
        if s.trained:
            d, seed = s.train["train_domain"], s.train["seed"]
            needs.setdefault(d, {})[seed] = max(needs.get(d, {}).get(seed, 0), s.train["num_samples"])
    return {d: dict(sorted(v.items())) for d, v in sorted(needs.items())}


def pool_seq_len(config: dict) -> dict[str, int]:
    """Tokens each domain's training passages are cut to: the longest seq_len of its trained settings."""
    out: dict[str, int] = {}
    for s in table(config):
        if s.trained:
            d = s.train["train_domain"]
            out[d] = max(out.get(d, 0), s.train["seq_len"])
    return dict(sorted(out.items()))


def data_plan(config: dict) -> dict:
    """What the data step selects: the main run's windows, the evaluation texts, every setting's pool of
    training passages, each as passages of whole words (data.words_per_token words per needed token). The
    main domain's passages are cut on one grid, so the main run's windows begin its main-seed pool."""
    import math

    data = config["data"]
    per_token = data.get("words_per_token", 1.0)
    return {"train_domain": data["train_domain"], "num_samples": data["num_samples"],
            "eval_domains": list(data["eval_domains"]), "contexts_per_domain": data["contexts_per_domain"],
            "eval_words": math.ceil((data["context_len"] + data["reference_len"]) * per_token),
            "needs": pool_needs(config), "seed": int(config["seed"]),
            "validation": {d: data["validation_texts"] for d in pool_needs(config)},
            "separate_documents": data["separate_documents"],
            "pool_words": {d: math.ceil(n * per_token) for d, n in pool_seq_len(config).items()}}


def corpus_domains(config: dict) -> list[str]:
    """Domains whose corpora the data step reads: training domains of every setting and evaluation domains."""
    return sorted({config["data"]["train_domain"], *config["data"]["eval_domains"], *pool_needs(config)})


# ------------------------------------------------------------------------------------------ paths
# The patterns are hyperfit.paths'; these fill them for one setting.
def base_model_dir(config: dict, model: str) -> str:
    spec = config["models"][model]
    return spec["path"] if spec["source"] == "local" else P.MODEL.format(model=model)


def train_dir(model: str, name: str) -> str:
    return P.TRAIN.format(model=model, setting=name)


def weights_dir(config: dict, model: str, name: str, weights: str = "model") -> str:
    """The folder of a setting's weights: the base model for `original`, else inside its training run."""
    if name == ORIGINAL:
        if weights != "model":
            raise ValueError("the original model has no early-stopped weights")
        return base_model_dir(config, model)
    return P.run_file(train_dir(model, name), weights)


def history(model: str, name: str) -> str:
    return P.run_file(train_dir(model, name), P.RUN_HISTORY)


def eval_dir(model: str, name: str, weights: str = "model") -> str:
    return P.EVAL.format(model=model, setting=name, weights=weights)


def generation(model: str, name: str, weights: str, method: str, length: int) -> str:
    return P.GENERATION.format(model=model, setting=name, weights=weights, method=method, length=length)


def text_table(model: str, name: str, weights: str, method: str, length: int) -> str:
    return P.TEXT_METRICS.format(model=model, setting=name, weights=weights, method=method, length=length)


def quality_file(model: str, table: str) -> str:
    """Per-text scorer perplexity and coherence of the generation files of `model` that `table` shows (table1,
    comparison, table4: the files MAUVE reads) and of the human continuations cut to each of their lengths (the
    reference point of every row of that model and length); hyperfit.quality.QualityTables reads it."""
    return P.QUALITY.format(model=model, table=table)


def mauve_file(model: str, table: str) -> str:
    """MAUVE of the generation files of `model` that `table` shows (table1, comparison)."""
    return P.MAUVE.format(model=model, table=table)


def scores(model: str, name: str, weights: str = "model") -> str:
    return P.SCORES.format(model=model, setting=name, weights=weights)


def figure4_position(model: str, name: str) -> str:
    return P.FIGURE4_POSITION.format(model=model, setting=name)


def lmeval_result(model: str, name: str, suite: str) -> str:
    return P.LMEVAL.format(model=model, setting=name, suite=suite)


def logit_bias_file(model: str) -> str:
    """The mean hyperfitted-minus-original logits of a model (the follow-up's fixed bias)."""
    return P.LOGIT_BIAS.format(model=model)


def logit_bias_entropy(model: str) -> str:
    """The original model's entropy under each bias strength."""
    return P.LOGIT_BIAS_ENTROPY.format(model=model)


def logit_bias_top_file(model: str) -> str:
    """The same bias restricted to its followup.bias_top_k tokens of largest rank rise (0 elsewhere)."""
    return P.LOGIT_BIAS_TOP.format(model=model)


def own_entropy_file(model: str) -> str:
    """The entropy of each bias row's and reference row's distribution on its own greedy continuations."""
    return P.OWN_ENTROPY.format(model=model)


def overrides_file(model: str) -> str:
    """Per text, the hyperfitted greedy path's overrides of the original's top-1 and their ranks."""
    return P.OVERRIDES.format(model=model)


def layers_file(model: str) -> str:
    return P.LAYERS.format(model=model)


def temperature(model: str, name: str) -> str:
    """The temperature at which the original model's entropy matches setting `name`'s."""
    return P.TEMPERATURE.format(model=model, setting=name)


def tokens(model: str) -> str:
    return P.TOKENS.format(model=model)


# ------------------------------------------------------------------------------------------ decodings
def is_blocked(config: dict, decoding: str) -> bool:
    """A decoding with the citation blocker (blocker.ngram set): for trained models only."""
    spec = config["generation"]["decodings"].get(decoding) or {}
    return (spec.get("blocker") or {}).get("ngram") is not None


def decodings(config: dict, trained: bool = True) -> list[str]:
    """The decodings generated for a model: all for a trained one, those without the blocker for the original."""
    return [d for d in config["generation"]["decodings"] if trained or not is_blocked(config, d)]


def lengths(config: dict) -> list[int]:
    return [int(n) for n in config["generation"]["lengths"]]


def top_length(config: dict) -> int:
    return max(lengths(config))


def bias_method(s: float, top_k: int | None = None) -> str:
    """The method of the fixed bias at strength s: the full bias, or (top_k) the bias on its top_k tokens of
    largest rank rise; at s = 0 both are the original model's greedy decoding, one method."""
    return f"{BIAS}{s:g}" if top_k is None or float(s) == 0.0 else f"{BIAS_TOP}{int(top_k)}_{s:g}"


def bias_methods(config: dict) -> list[str]:
    f = config["followup"]
    return list(dict.fromkeys(bias_method(s, k) for k in (None, f["bias_top_k"]) for s in f["bias_strengths"]))


def bias_file(model: str, method: str) -> str | None:
    """The bias a generation method adds to the original model's logits: the full one (logit_bias_<s>), the one
    restricted to its top-K tokens (logit_bias_top<K>_<s>), or None for a method without a bias."""
    if method.startswith(BIAS_TOP):
        return logit_bias_top_file(model)
    return logit_bias_file(model) if method.startswith(BIAS) else None


def matched_setting(method: str) -> str | None:
    """The setting whose entropy a matched method's temperature matches (None for other methods)."""
    for prefix in (MATCHED_GREEDY, MATCHED):
        if method.startswith(prefix):
            return method[len(prefix):]
    return None


def methods(config: dict) -> list[str]:
    return [*config["generation"]["decodings"], REPETITION_PENALTY,
            *(MATCHED + name for name in trained_names(config)),
            *(MATCHED_GREEDY + name for name in trained_names(config)), *bias_methods(config)]


def method_decoding(config: dict, method: str) -> dict:
    """Generation settings of a method: a configured decoding, the comparison's decoding with a repetition
    penalty, or pure sampling at the matched temperature (the job reads it from the temperature file)."""
    decs = config["generation"]["decodings"]
    if method in decs:
        return decs[method]
    if method == REPETITION_PENALTY:
        comp = config["comparison"]
        return {**decs[comp["decoding"]], "repetition_penalty": comp["repetition_penalty"]}
    if method.startswith(MATCHED_GREEDY):  # the logits divided by T, then argmax (generation.generate_batched)
        return {"do_sample": False, "temperature": "matched"}
    if method.startswith(MATCHED):
        return {"do_sample": True, "top_p": 1.0, "top_k": 0, "temperature": "matched"}
    if method.startswith(BIAS_TOP):  # the job reads the restricted bias (rules/common.smk: get_bias_inputs)
        k, s = method[len(BIAS_TOP):].split("_", 1)
        return {"do_sample": False, "logit_bias": float(s), "bias_top_k": int(k)}
    if method.startswith(BIAS):
        return {"do_sample": False, "logit_bias": float(method[len(BIAS):])}
    raise ValueError(f"unknown method {method!r}")


def generation_seed(config: dict, model: str, name: str, method: str,
                    settings: dict[tuple[str, str], Setting] | None = None) -> int:
    """Sampling seed: the setting's training seed (the master seed for the original model); for a matched-
    temperature row, the seed of the setting whose entropy is matched."""
    name = matched_setting(method) or name
    s = (settings or lookup(config))[(model, name)]
    return s.train["seed"] if s.trained else int(config["seed"])


def check_generation(config: dict, model: str, name: str, weights: str, method: str,
                     settings: dict[tuple[str, str], Setting] | None = None) -> None:
    """Raise for a generation that cannot exist (asked for by hand): blocker or early-stopped weights on the
    original model, or a setting the config does not have."""
    s = (settings or lookup(config)).get((model, name))
    if s is None:
        raise ValueError(f"{model}/{name} is not a setting of this config")
    if not s.trained and (weights != "model" or (method in config["generation"]["decodings"]
                                                 and is_blocked(config, method))):
        raise ValueError(f"{model}/original has neither early-stopped weights nor the citation blocker "
                         f"(it has no training data): ask for a trained setting instead")
    if weights == "early_stopped" and not s.early_stopped:
        raise ValueError(f"{model}/{name} keeps no early-stopped weights")


# ------------------------------------------------------------------------------------------ experiments
def run(model: str, name: str, weights: str = "model", method: str | None = None, length: int | None = None,
        **labels) -> dict:
    """One evaluated (model, setting, weights[, method, length]) with its file paths and display labels."""
    out = {"model": model, "setting": name, "weights": weights, **labels,
           "train": None if name == ORIGINAL else train_dir(model, name), "scores": scores(model, name, weights)}
    if method is not None:
        out.update(method=method, length=int(length), texts=generation(model, name, weights, method, length),
                   metrics=text_table(model, name, weights, method, length))
    return out


def main_runs(config: dict, length_list: list[int] | None = None) -> list[dict]:
    """Table 1, Table 2, Figures 3 and 9: every model, original and hyperfitted, every decoding (the blocked
    ones for the hyperfitted model only) and length."""
    return [run(model, name, "model", d, n, variant=name, decoding=d)
            for model in models(config)
            for name in (ORIGINAL, MAIN)
            for d in decodings(config, trained=name != ORIGINAL)
            for n in (length_list or lengths(config))]


def variant_runs(config: dict) -> list[dict]:
    """Table 3, Figure 4, lm-eval: every model, original and hyperfitted."""
    return [run(model, name, variant=name) for model in models(config) for name in (ORIGINAL, MAIN)]


def figure1_runs(config: dict) -> list[dict]:
    d = config["figure1"]["decoding"]
    return [run(model, name, "model", d, top_length(config), variant=name, decoding=d)
            for model in models(config) for name in (ORIGINAL, MAIN)]


def sweep_runs(config: dict, experiment: str, method: str | None = None) -> list[dict]:
    """The trained settings of a sweep experiment, per sweep model and seed, with their labels; `method`
    adds its generation at the longest length."""
    top = top_length(config)
    return [run(model, setting_name(config, train), "model", method, top if method else None, seed=seed,
                label=label)
            for model in experiment_models(config, experiment)
            for seed, pairs in experiments(config)[experiment].items()
            for label, train in pairs]


def sweep_original(config: dict, experiment: str, method: str | None = None) -> list[dict]:
    """The original model of each of an experiment's models (its reference row)."""
    top = top_length(config)
    return [run(model, ORIGINAL, "model", method, top if method else None, label=ORIGINAL)
            for model in experiment_models(config, experiment)]


def comparison_runs(config: dict) -> list[dict]:
    """Every row of the baselines comparison, per sweep model and seed: the original model with each
    decoding, with a repetition penalty, and sampled at the entropy-matched temperature; the run stopped at
    its best validation loss; the hyperfitted model with each decoding (the blocked ones last); the same run
    trained as LoRA adapters (followup.lora.variants), with comparison.decoding."""
    from .tables import decoding_kind

    comp, top, first = config["comparison"], top_length(config), seeds(config)[0]
    decs = config["generation"]["decodings"]
    kind = lambda d: decoding_kind(decs[d])  # noqa: E731
    main = comp["decoding"]
    out = []
    for model in experiment_models(config, "comparison"):
        for seed, pairs in experiments(config)["comparison"].items():
            name = setting_name(config, pairs[0][1])
            rows = [(f"original {kind(d)}", ORIGINAL, "model", d, False) for d in decodings(config, trained=False)]
            rows += [(f"original {kind(main)} + repetition penalty {comp['repetition_penalty']:g}", ORIGINAL,
                      "model", REPETITION_PENALTY, False),
                     ("original, sampled at the entropy-matched temperature", ORIGINAL, "model", MATCHED + name,
                      True),
                     ("original, greedy at the entropy-matched temperature (= original greedy)", ORIGINAL, "model",
                      MATCHED_GREEDY + name, True),
                     (f"early-stopped {kind(main)}", name, "early_stopped", main, True)]
            rows += [(f"hyperfitted {kind(d)}", name, "model", d, True)
                     for d in sorted(decs, key=lambda d: is_blocked(config, d))]
            if model in experiment_models(config, "lora"):
                where = "" if config["followup"]["lora"]["setting"] == "main" else ", sweeps' base setting"
                if where:  # the full fine-tune of that setting beside its LoRA rows
                    rows.append((f"full fine-tune{where} {kind(main)}", setting_name(config, base_train(config, seed)),
                                 "model", main, True))
                rows += [(f"{label}{where} {kind(main)}", setting_name(config, train), "model", main, True)
                         for label, train in experiments(config)["lora"][seed]]
            for label, setting, weights, method, per_seed in rows:
                if not per_seed and seed != first:
                    continue  # the original model's own rows do not depend on the training seed
                r = run(model, setting, weights, method, top, seed=seed, label=label, hyperfitted=name)
                r["temperature"] = temperature(model, name) if matched_setting(method) else None
                r["history"] = history(model, name)
                r["hyperfitted_train"] = train_dir(model, name)
                out.append(r)
    return out


def human_runs(config: dict) -> list[dict]:
    """Generations the human study pairs with the human continuation: human.comparisons for every model,
    then (human.table4) Table 4's models, first seed, comparison.decoding, longest length."""
    out = [run(model, comp["variant"], "model", comp["decoding"], length, variant=comp["variant"],
               decoding=comp["decoding"])
           for comp in config["human"]["comparisons"]
           for model in models(config)
           for length in comp.get("lengths") or lengths(config)]
    if config["human"]["table4"]:
        decoding = config["comparison"]["decoding"]
        out += [{**r, "variant": table4_variant(r["label"]), "decoding": decoding}
                for r in sweep_runs(config, "data_type", decoding) if r["seed"] == seeds(config)[0]]
    return out


def bias_runs(config: dict) -> list[dict]:
    """The follow-up's fixed-bias decoding: the original model, greedy with logits + s x bias for every
    followup.bias_strengths s, at the longest length, per follow-up model; first the full bias (`bias`: all),
    then the bias on its followup.bias_top_k tokens of largest rank rise (`bias`: top<K>; at s = 0 the same
    generation as the full bias's, both being the original model's greedy decoding)."""
    f = config["followup"]
    k = int(f["bias_top_k"])
    return [run(model, ORIGINAL, "model", bias_method(s, top), top_length(config), strength=float(s),
                label=f"s = {s:g}" if top is None else f"s = {s:g}, top {k}", bias="all" if top is None else f"top{k}")
            for model in experiment_models(config, "followup") for top in (None, k) for s in f["bias_strengths"]]


def reference_runs(config: dict, experiment: str = "followup") -> list[dict]:
    """Original and hyperfitted greedy (comparison.decoding) at the longest length: the follow-up's
    reference rows."""
    d = config["comparison"]["decoding"]
    return [run(model, name, "model", d, top_length(config), variant=name, label=f"{name} {d}")
            for model in experiment_models(config, experiment) for name in (ORIGINAL, MAIN)]


def loaded_model_dir(config: dict, name: str, hub_folder: str) -> str:
    """A model loaded beside the studied ones (MAUVE's featurizer, the quality scorer and encoder, the judge): a
    model of the config by `name` (its base weights), else the hub model fetched into `hub_folder`."""
    return base_model_dir(config, name) if name in config["models"] else hub_folder


def featurizer_dir(config: dict) -> str:
    """The MAUVE featurizer: a model of the config (its base weights) or a hub model fetched for it."""
    return loaded_model_dir(config, config["followup"]["mauve"]["featurizer"], P.MAUVE_FEATURIZER)


def quality_model(config: dict, role: str) -> str:
    """The name of the quality scorer (role `scorer`) or coherence encoder (`coherence`): quality.<role>.model, a
    model of models or a hub id; null: the first model of models."""
    return config["quality"][role]["model"] or next(iter(config["models"]))


def quality_model_dir(config: dict, role: str) -> str:
    """The quality scorer (role `scorer`) or the coherence encoder (`coherence`): a model of the config (its
    base weights) or a hub model fetched for it."""
    return loaded_model_dir(config, quality_model(config, role),
                            P.QUALITY_SCORER if role == "scorer" else P.COHERENCE_MODEL)


def judge_model_dir(config: dict) -> str:
    """The LLM judge (hyperfit.judge): a model of the config (its base weights) or a hub model fetched for it."""
    from .judge import judge_model

    return loaded_model_dir(config, judge_model(config), P.JUDGE_MODEL)


def judge_file(model: str, table: str) -> str:
    """The judge's outcome of every pair of `model` that `table` (table1, table4) shows."""
    return P.JUDGE.format(model=model, table=table)


JUDGE_TABLES = ("table1", "table4")  # the tables with judge columns


def judge_runs(config: dict, table: str, model: str | None = None) -> list[dict]:
    """The generation files whose pairs (each continuation against the human one) the judge judges for `table`:
    Table 1, the human study's comparisons (human.comparisons); Table 4, the study's Table 4 pairs (human.table4)
    and the original model's row beside them (comparison.decoding, longest length). Only `model`'s, if given."""
    if table not in JUDGE_TABLES:
        raise ValueError(f"no judge columns in {table!r}")
    runs = human_runs(config)
    table4 = {table4_variant(d) for d in config["sweeps"]["data_type"]["domains"]}
    if table == "table1":
        out = [r for r in runs if r["variant"] not in table4]
    else:
        out = [r for r in runs if r["variant"] in table4]
        decoding, top = config["comparison"]["decoding"], top_length(config)
        out += [run(m, ORIGINAL, "model", decoding, top, variant=ORIGINAL, decoding=decoding)
                for m in dict.fromkeys(r["model"] for r in out)]
    return [r for r in out if model is None or r["model"] == model]


def table4_variant(domain: str) -> str:
    """How the human study names the model hyperfitted on `domain` for Table 4."""
    return f"trained on {domain} (Table 4)"


# ------------------------------------------------------------------------------------------ everything
def generations(config: dict) -> list[dict]:
    """Every generation file the config asks for (each once), in the table's order."""
    found: dict[str, dict] = {}
    lists = [main_runs(config), figure1_runs(config), human_runs(config), comparison_runs(config),
             bias_runs(config), reference_runs(config),
             sweep_runs(config, "quantity", config["comparison"]["decoding"]),
             sweep_runs(config, "data_type", config["comparison"]["decoding"]),
             sweep_original(config, "quantity", config["comparison"]["decoding"]),
             sweep_original(config, "data_type", config["comparison"]["decoding"])]
    for runs in lists:
        for r in runs:
            found.setdefault(r["texts"], {k: r[k] for k in ("model", "setting", "weights", "method", "length",
                                                             "texts", "metrics")})
    return list(found.values())


def scorings(config: dict) -> list[dict]:
    """Every (model, setting, weights) whose evaluation texts are scored (each once)."""
    found: dict[str, dict] = {}
    lists = [variant_runs(config), sweep_runs(config, "shuffle"), sweep_runs(config, "data_type"),
             sweep_original(config, "shuffle"), sweep_original(config, "data_type"), comparison_runs(config)]
    for runs in lists:
        for r in runs:
            found.setdefault(r["scores"], {k: r[k] for k in ("model", "setting", "weights", "scores")})
    return list(found.values())


def targets(config: dict) -> list[str]:
    """The Snakefile's target rules that `all` builds: every figure and table the config asks for."""
    out = ["figure2", "table1", "figure1", "figure9", "table2", "figure3", "table3", "figure4", "figure5",
           "table4", "comparison", "followup_bias", "followup_layers", "followup_overrides", "human_packets",
           "human_results"]
    suites = config["downstream"]["suites"]
    out += [f"table_{suite}" for suite in ("mmlu", "glue") if suite in suites]
    if suites:
        out.append("figure_downstream")
    return out + ["figure6", "image_repetition"]
