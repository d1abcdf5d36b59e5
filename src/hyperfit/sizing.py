"""What every job needs: host memory, GPU memory per GPU, disk and a runtime estimate, from the model's size.

Each number comes with its arithmetic as text (`Estimate.why`), so bench/job_resources.py and a reader can
check it. Sizes come from the model's config.json where the folder is local (resources/models/<name>, a local
model's path, a trained run), else from `models.<name>.size` (public model cards; config/paper.yaml states
them), else from `compute.default_size` (config/config.yaml: a conservative 8B model). Throughput is an
assumption the config sets (`compute`): a named GPU's dense bf16 peak and HBM bandwidth, the fraction of
both a job reaches (`mfu`), a CPU thread's measured throughput, and a margin on every runtime.

Conventions: 1 GB = 1e9 bytes, 1 MB = 1e6 bytes (Snakemake's mem_mb); bytes per parameter: fp32 4, bf16 and
fp16 2; full fine-tuning holds fp32 master weights 4 + fp32 gradients 4 + Adam's two fp32 moments 8 = 16
bytes per trained parameter; training FLOPs 6 x parameters x tokens (forward 2, backward 4), 8 x with
gradient checkpointing (the forward pass again); inference 2 x parameters x tokens; a greedy decoding step
reads every weight once (memory-bound).

The rules (rules/*.smk) take mem_mb, gpu_mem_mb, disk_mb and runtime from `job()`; an explicit
`models.<name>.compute.mem_mb` (or `image.mem_mb`) is what the training job asks for instead of the estimate
(the user knows the node), and an explicit `compute.gpu_mem_mb` is the GPU memory the training job asks for
and is checked against at job start; the plan flags every estimate above them.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

DTYPE_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}
DTYPE_SHORT = {"float32": "fp32", "bfloat16": "bf16", "float16": "fp16"}
# Dense bf16 tensor-core peak, TFLOP/s (vendor datasheets: A100 312, H100 SXM 989, H200 989), and HBM bandwidth,
# GB/s (A100 80GB SXM 2,039, H100 SXM 3,350, H200 4,800).
GPU_PEAK_TFLOPS = {"A100": 312.0, "H100": 989.0, "H200": 989.0}
GPU_BANDWIDTH_GBS = {"A100": 2039.0, "H100": 3350.0, "H200": 4800.0}
MASTER, GRAD, ADAM = 4, 4, 8          # bytes per trained parameter: fp32 weights, fp32 gradients, two fp32 moments
FULL_FT = MASTER + GRAD + ADAM        # 16
LMEVAL_MAX_TOKENS = 2048              # lm-eval's default max length when padding a batch (_DEFAULT_MAX_LENGTH)
SHARD_BYTES = 5e9                     # save_pretrained's default max_shard_size (5 GB): one shard is built in memory
MB = 1e6
GB = 1e9


# ------------------------------------------------------------------------------------------ formatting
def gb(n: float) -> str:
    return f"{n / GB:.3g} GB" if n >= 0.1 * GB else f"{n / MB:.3g} MB"


def num(x: float) -> str:
    return f"{x:.3g}" if x < 1e4 else f"{x:.3g}".replace("e+0", "e").replace("e+", "e")


class Parts:
    """A sum of named byte counts, each with its arithmetic: total() and text()."""

    def __init__(self):
        self.items: list[tuple[float, str]] = []

    def add(self, n: float, text: str) -> "Parts":
        if n > 0:
            self.items.append((float(n), text))
        return self

    def total(self) -> float:
        return sum(n for n, _ in self.items)

    def text(self) -> str:
        if not self.items:
            return "0"
        body = " + ".join(t for _, t in self.items)
        return body + (f" = {gb(self.total())}" if len(self.items) > 1 else "")


# ------------------------------------------------------------------------------------------ model size
@dataclass(frozen=True)
class Size:
    """A model's size: parameters, decoder layers, hidden size, vocabulary, tied embeddings, and (where known)
    the key/value width (GQA) and the MLP width; `source` says where the numbers came from."""
    params: float
    layers: int
    hidden: int
    vocab: int
    tied_embeddings: bool
    kv_hidden: int | None = None
    intermediate: int | None = None
    source: str = ""
    file_dtype: str = "float32"  # the dtype of its weight files (what a download writes); fp32 if not known

    @property
    def kv(self) -> int:
        return self.kv_hidden or self.hidden  # without GQA facts: as wide as the hidden size (conservative)

    def lora_params(self, r: int, layers: int | None = None) -> float:
        """Trainable parameters of rank-r adapters on every linear layer of `layers` decoder layers (all by
        default): per layer q, o (hidden x hidden), k, v (hidden x kv), gate, up, down (hidden x mlp); an
        adapter of a (d_in x d_out) layer has r x (d_in + d_out) parameters."""
        h, kv, m = self.hidden, self.kv, self.intermediate or 4 * self.hidden
        per_layer = r * (2 * (h + h) + 2 * (h + kv) + 3 * (h + m))
        return per_layer * (self.layers if layers is None else layers)


def size_from_config(cfg: dict, source: str = "") -> Size:
    """A Size from a transformers config.json (Llama-style or GPT-2/ImageGPT-style), parameters counted from
    its shapes."""
    if "n_embd" in cfg:  # GPT-2 / ImageGPT: per layer 12 h^2 + 13 h (attention 4 h^2 + 4 h, MLP 8 h^2 + 5 h, 2 norms 4 h)
        h, n, v = cfg["n_embd"], cfg["n_layer"], cfg["vocab_size"]
        positions = cfg.get("n_positions", 1024)
        tied = cfg.get("tie_word_embeddings", True)
        params = n * (12 * h * h + 13 * h) + v * h + positions * h + 2 * h + (0 if tied else v * h)
        return Size(params, n, h, v, tied, h, 4 * h, source, file_dtype(cfg))
    h, n, v = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["vocab_size"]
    heads = cfg.get("num_attention_heads", 1)
    head_dim = cfg.get("head_dim") or h // heads
    kv = cfg.get("num_key_value_heads", heads) * head_dim
    m = cfg.get("intermediate_size", 4 * h)
    tied = bool(cfg.get("tie_word_embeddings", False))
    per_layer = h * heads * head_dim * 2 + 2 * h * kv + 3 * h * m + 2 * h  # q, o; k, v; gate, up, down; 2 norms
    params = n * per_layer + v * h * (1 if tied else 2) + h
    return Size(float(params), n, h, v, tied, kv, m, source, file_dtype(cfg))


def file_dtype(cfg: dict) -> str:
    dtype = cfg.get("torch_dtype") or cfg.get("dtype")
    return dtype if dtype in DTYPE_BYTES else "float32"


def size_from_spec(spec: dict, source: str) -> Size:
    return Size(float(spec["params"]), int(spec["layers"]), int(spec["hidden"]), int(spec["vocab"]),
                bool(spec.get("tied_embeddings", False)), spec.get("kv_hidden"), spec.get("intermediate"), source,
                spec.get("file_dtype") or "float32")


def local_config(folder: str | Path) -> dict | None:
    path = Path(folder) / "config.json"
    if path.is_file():
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None
    return None


def model_size(config: dict, model: str) -> Size:
    """The size of `model` of the config: its local config.json, else models.<model>.size, else
    compute.default_size."""
    from .settings import base_model_dir

    folder = base_model_dir(config, model)
    if (cfg := local_config(folder)) is not None:
        return size_from_config(cfg, f"{folder}/config.json")
    spec = config["models"][model].get("size")
    if spec:
        return size_from_spec(spec, f"models.{model}.size")
    return size_from_spec(compute(config)["default_size"], "compute.default_size (no config.json, no size stated)")


def image_size(config: dict) -> Size:
    """The image model: its local config.json (hub model fetched, or the digits model pretrained), else
    image.size, else (digits) the architecture it is built from, else compute.default_size."""
    img = config["image"]
    folder = (f"resources/models/{img['name']}" if img["source"] == "hub"
              else f"results/train/{img['name']}/pretrained/model")
    if (cfg := local_config(folder)) is not None:
        return size_from_config(cfg, f"{folder}/config.json")
    if img.get("size"):
        return size_from_spec(img["size"], "image.size")
    if img["source"] == "digits":
        a = img["architecture"]
        return size_from_config({"n_embd": a["n_embd"], "n_layer": a["n_layer"], "vocab_size": 18,
                                 "n_positions": 65}, "image.architecture (17 grey clusters + start token, 65 positions)")
    return size_from_spec(compute(config)["default_size"], "compute.default_size")


def loaded_model_size(config: dict, name: str, folder: str, size: dict | None, key: str) -> Size:
    """A model loaded beside the studied ones (MAUVE's featurizer, the quality scorer and encoder, the judge): a
    model of the config by `name`, or the hub model fetched into `folder` (its local config.json, else the config's
    stated `size` under `key`, else compute.default_size)."""
    if name in config["models"]:
        return model_size(config, name)
    if (cfg := local_config(folder)) is not None:
        return size_from_config(cfg, f"{folder}/config.json")
    if size:
        return size_from_spec(size, key)
    return size_from_spec(compute(config)["default_size"], "compute.default_size")


def featurizer_size(config: dict) -> Size:
    """MAUVE's featurizer (followup.mauve.featurizer, followup.mauve.size)."""
    from .settings import featurizer_dir

    mauve = config["followup"]["mauve"]
    return loaded_model_size(config, mauve["featurizer"], featurizer_dir(config), mauve.get("size"),
                             "followup.mauve.size")


def quality_size(config: dict, role: str) -> Size:
    """The quality scorer (role `scorer`) or coherence encoder (`coherence`): quality.<role>.model and .size."""
    from .settings import quality_model, quality_model_dir

    return loaded_model_size(config, quality_model(config, role), quality_model_dir(config, role),
                             config["quality"][role].get("size"), f"quality.{role}.size")


def judge_size(config: dict) -> Size:
    """The LLM judge (hyperfit.judge): judge.model and judge.size."""
    from .judge import judge_model
    from .settings import judge_model_dir

    return loaded_model_size(config, judge_model(config), judge_model_dir(config), config["judge"].get("size"),
                             "judge.size")


# ------------------------------------------------------------------------------------------ throughput
def compute(config: dict) -> dict:
    """The config's throughput and memory assumptions (compute; defaults filled in by the schema)."""
    return config["compute"]


@dataclass(frozen=True)
class Throughput:
    flops: float          # FLOP/s one job reaches (all its GPUs, or its CPU threads)
    bandwidth: float      # bytes/s of weight reads one decoding step reaches
    text: str             # the FLOP/s arithmetic
    bw_text: str          # the bandwidth arithmetic


def throughput(config: dict, device: str, gpus: int = 1, threads: int = 1) -> Throughput:
    c = compute(config)
    if device == "gpu":
        peak = c["gpu_tflops"] or GPU_PEAK_TFLOPS[c["gpu"]]
        bw = c["gpu_bandwidth_gbs"] or GPU_BANDWIDTH_GBS[c["gpu"]]
        name = "" if c["gpu_tflops"] else f"{c['gpu']} "
        return Throughput(gpus * peak * 1e12 * c["mfu"], bw * 1e9 * c["mfu"],
                          f"{gpus} x {name}{num(peak)} TFLOP/s x MFU {c['mfu']:g}",
                          f"{name}{num(bw)} GB/s x {c['mfu']:g}")
    return Throughput(threads * c["cpu_gflops"] * 1e9, c["cpu_bandwidth_gbs"] * 1e9,
                      f"{threads} CPU thread(s) x {num(c['cpu_gflops'])} GFLOP/s", f"{num(c['cpu_bandwidth_gbs'])} GB/s")


# ------------------------------------------------------------------------------------------ estimates
@dataclass
class Estimate:
    """What one job needs. mem_mb: host memory; gpu_mem_mb: memory per GPU (0 on CPUs); disk_mb: what its
    outputs (and resume checkpoints) take; minutes: the expected run time (runtime_minutes: what it asks
    for, with the config's margin); why: the arithmetic of each."""
    rule: str
    model: str
    device: str
    gpus: int
    mem_mb: int
    gpu_mem_mb: int
    disk_mb: int
    minutes: float
    runtime_minutes: int
    why: dict[str, str] = field(default_factory=dict)
    estimated: dict[str, int] = field(default_factory=dict)  # the estimates an explicit config value replaced

    def override(self, key: str, value: int, source: str) -> None:
        """Ask for `value` (an explicit config value) instead of the estimate, keeping the estimate."""
        self.estimated[key] = getattr(self, key)
        self.why[key] = f"{source} = {value} (estimate {getattr(self, key)} MB: {self.why[key]})"
        setattr(self, key, int(value))

    def resources(self) -> dict:
        return {"mem_mb": self.mem_mb, "gpu_mem_mb": self.gpu_mem_mb, "disk_mb": self.disk_mb,
                "runtime": self.runtime_minutes}


def _mb(n: float) -> int:
    return max(1, math.ceil(n / MB))


def _finish(config: dict, rule: str, model: str, device: str, gpus: int, host: Parts, gpu: Parts, disk: Parts,
            seconds: list[tuple[float, str]]) -> Estimate:
    c = compute(config)
    total = sum(s for s, _ in seconds)
    minutes = total / 60
    asked = max(int(c["runtime_floor_minutes"]), math.ceil(minutes * c["runtime_margin"]))
    runtime_text = (" + ".join(t for _, t in seconds) + f" = {minutes:.3g} min; asked: max("
                    f"{c['runtime_floor_minutes']}, {minutes:.3g} x margin {c['runtime_margin']:g}) = {asked} min")
    return Estimate(rule, model, device, gpus if device == "gpu" else 0, _mb(host.total()),
                    _mb(gpu.total()) if device == "gpu" else 0, _mb(disk.total()), minutes, asked,
                    {"mem_mb": host.text(), "gpu_mem_mb": gpu.text() if device == "gpu" else "no GPU",
                     "disk_mb": disk.text(), "runtime": runtime_text})


def weights_bytes(size: Size, dtype: str) -> tuple[float, str]:
    b = DTYPE_BYTES[dtype]
    return size.params * b, f"{num(size.params)} params x {b} B ({DTYPE_SHORT[dtype]}) = {gb(size.params * b)} weights"


def inference_dtype(config: dict, model: str, device: str) -> str:
    """The dtype a job loads the model in: the model's dtype on a GPU; on a CPU bf16 falls back to fp32
    (hyperfit.modeling.load_model)."""
    dtype = config["models"][model].get("dtype", "float32") if model in config["models"] else "float32"
    return dtype if device == "gpu" else "float32"


def export_bytes(params: float, dtype: str) -> tuple[float, str]:
    """Bytes of a saved model folder (safetensors) in `dtype`."""
    b = DTYPE_BYTES[dtype]
    return params * b, f"{num(params)} params x {b} B ({DTYPE_SHORT[dtype]}) = {gb(params * b)}"


def checkpoint_bytes(params: float, trainable: float | None = None) -> tuple[float, str]:
    """Bytes of one resume checkpoint (hyperfit.training.save_checkpoint): the trainable weights in fp32 (4 B)
    and Adam's two fp32 moments (8 B) per trainable parameter; frozen weights (LoRA's base) are not saved.
    `params`: the model's parameters, `trainable`: those trained (None: all). Two can exist for a moment (the
    new one is complete before the old one is deleted): disk needed = 2 x this."""
    t = params if trainable is None else trainable
    n = t * (MASTER + ADAM)
    return n, f"{num(t)} trained params x ({MASTER} B fp32 weights + {ADAM} B Adam moments) = {gb(n)}"


def logits_bytes(batch: int, seq: int, vocab: int, copies: int, width: int = 4) -> tuple[float, str]:
    n = batch * seq * vocab * width * copies
    return n, f"{batch} x {seq} tokens x {vocab} vocab x {width} B x {copies} copies = {gb(n)} logits"


def kv_bytes(size: Size, batch: int, seq: int, dtype: str) -> tuple[float, str]:
    b = DTYPE_BYTES[dtype]
    n = 2 * size.layers * size.kv * batch * seq * b
    return n, f"KV cache 2 x {size.layers} layers x {size.kv} x {batch} x {seq} tokens x {b} B = {gb(n)}"


def _runtime_mb(config: dict) -> tuple[float, str]:
    n = compute(config)["runtime_overhead_mb"] * MB
    return n, f"{gb(n)} python/torch/transformers (compute.runtime_overhead_mb)"


def _gpu_mb(config: dict) -> tuple[float, str]:
    n = compute(config)["gpu_overhead_mb"] * MB
    return n, f"{gb(n)} CUDA context and workspaces (compute.gpu_overhead_mb)"


def _load_seconds(config: dict, nbytes: float) -> tuple[float, str]:
    rate = compute(config)["disk_gbs"] * GB
    return nbytes / rate, f"load/save {gb(nbytes)} at {compute(config)['disk_gbs']:g} GB/s = {nbytes / rate / 60:.2g} min"


def _download_seconds(config: dict, nbytes: float) -> tuple[float, str]:
    rate = compute(config)["download_gbs"] * GB
    return nbytes / rate, f"download {gb(nbytes)} at {compute(config)['download_gbs']:g} GB/s = {nbytes / rate / 60:.3g} min"


def _start() -> tuple[float, str]:
    return 60.0, "1 min start-up (imports)"


def eval_tokens(config: dict) -> tuple[int, int]:
    """(texts, tokens per text) of the evaluation texts every scoring job reads."""
    d = config["data"]
    return d["contexts_per_domain"] * len(d["eval_domains"]), d["context_len"] + d["reference_len"]


# --- training ---------------------------------------------------------------------------------------------
def train_estimate(config: dict, model: str, train: dict, settings: dict, early_stopped: bool, device: str,
                   threads: int = 1, size: Size | None = None, rule: str = "train_setting",
                   save_dtype: str | None = None, val_texts: int | None = None,
                   val_len: int | None = None) -> Estimate:
    """Hyperfitting one setting: single process (CPU or one GPU) or FSDP over compute.gpus GPUs (one process
    each), optionally offloading weights and Adam state to the host (cpu_offload); full or LoRA."""
    size = size or model_size(config, model)
    comp = config["models"][model]["compute"] if model in config["models"] else {}
    procs = int(comp.get("gpus", 1))  # training processes the job starts (on CPUs too: plain data parallelism,
    gpus = procs if device == "gpu" else 1  # each process a full copy), plus the job's own process that starts them
    starters = 1 if procs > 1 else 0
    offload = bool(comp.get("cpu_offload")) and gpus > 1
    # the saved weights' dtype: hyperfit.export_dtype where the config has it, else the model's dtype
    save_dtype = save_dtype or config["hyperfit"].get("export_dtype") or (
        config["models"][model].get("dtype", "float32") if model in config["models"] else "float32")
    batch, seq = int(train["batch_size"]), int(train["seq_len"])
    lora = settings.get("lora") if isinstance(settings.get("lora"), dict) and settings["lora"].get("enabled") else None
    if lora:
        n_layers = len(lora["layers"]) if lora.get("layers") else None
        trainable = size.lora_params(int(lora["r"]), n_layers)
        trained_text = (f"LoRA r={lora['r']} on {n_layers or size.layers} layers: {num(trainable)} trained params "
                        f"(frozen base in fp32)")
    else:
        trainable = size.params
        trained_text = f"{num(trainable)} params"
    frozen = size.params - trainable if lora else 0.0
    gc = bool(settings.get("gradient_checkpointing"))
    act_width = 2 if (device == "gpu" and settings.get("bf16", True)) else 4
    # activations: with checkpointing one (batch x seq x hidden) input per layer is kept plus one layer's
    # internals; without, ~34 x hidden values per token per layer (Korthikanti et al. 2022, eq. 1, no dropout)
    tokens = batch * seq
    per_proc_tokens = max(1, tokens // procs)
    if gc:
        act = per_proc_tokens * size.hidden * act_width * (size.layers + 34)
        act_text = (f"activations {per_proc_tokens} tokens x {size.hidden} x {act_width} B x ({size.layers} layer "
                    f"inputs + 34 for the recomputed layer) = {gb(act)}")
    else:
        act = per_proc_tokens * size.hidden * act_width * 34 * size.layers
        act_text = (f"activations {per_proc_tokens} tokens x {size.hidden} x {act_width} B x 34 x {size.layers} "
                    f"layers = {gb(act)}")
    logit_b, logit_t = logits_bytes(max(1, batch // procs), seq, size.vocab, 3)  # fp32 logits, their log-softmax, grad
    state = trainable * FULL_FT + frozen * MASTER
    state_text = (f"{trained_text} x {FULL_FT} B (fp32 weights, grads, Adam)"
                  + (f" + {num(frozen)} frozen x {MASTER} B" if frozen else "") + f" = {gb(state)}")
    host, gpu, disk = Parts(), Parts(), Parts()
    rt = _runtime_mb(config)
    fp32_all = size.params * MASTER
    if device == "cpu":
        each = state + act + logit_b
        host.add(procs * each, f"{procs} process(es) x ({state_text} + {act_text} + {logit_t})"
                 if procs > 1 else f"{state_text} + {act_text} + {logit_t}")
        host.add(rt[0] * (procs + starters), f"{procs + starters} process(es) x {rt[1]}")
    else:
        host.add(rt[0] * (gpus + starters), f"{gpus + starters} process(es) x {rt[1]}")
        # the main process reads the fp32 weights (FSDP: before sharding them); under FSDP the export gathers them
        host.add(fp32_all, f"{num(size.params)} params x {MASTER} B fp32 in the main process (read at the start, "
                           f"gathered again for the export) = {gb(fp32_all)}")
        per_gpu = state / gpus
        if offload:
            host.add(state, f"offloaded: {state_text}")
            per_gpu = 0.0
        largest_layer = (size.params - size.vocab * size.hidden * (1 if size.tied_embeddings else 2)) / size.layers
        gathered = 2 * largest_layer * MASTER if gpus > 1 else 0.0
        gpu.add(per_gpu, f"{state_text} / {gpus} GPU(s) = {gb(per_gpu)}" if not offload else "")
        gpu.add(gathered, f"2 gathered layers x {num(largest_layer)} params x {MASTER} B = {gb(gathered)}"
                if gathered else "")
        gpu.add(act, act_text).add(logit_b, logit_t)
        gpu.add(*_gpu_mb(config))
    if early_stopped:
        host.add(fp32_all, f"early-stopped weights held on the host: {num(size.params)} x {MASTER} B = {gb(fp32_all)}")
    sb = DTYPE_BYTES[save_dtype]
    cast = size.params * sb if save_dtype != "float32" else 0.0
    host.add(cast, f"export cast to {DTYPE_SHORT[save_dtype]}: {num(size.params)} x {sb} B = {gb(cast)}")
    shard = min(SHARD_BYTES, size.params * sb)
    host.add(shard, f"one safetensors shard in memory (<= 5 GB) = {gb(shard)}")
    ex_b, ex_t = export_bytes(size.params, save_dtype)
    disk.add(ex_b, f"model/ {ex_t}")
    if early_stopped:
        disk.add(ex_b, f"early_stopped/ {ex_t}")
        disk.add(ex_b, f"its copy in the checkpoint folder {ex_t}")
    ck_b, ck_t = checkpoint_bytes(size.params, trainable if lora else None)
    disk.add(2 * ck_b, f"2 resume checkpoints x ({ck_t})")
    # runtime
    updates = int(train["updates"])
    factor = 8 if gc else 6
    if lora:  # frozen weights still need the forward and the backward through activations (4x), adapters 6x
        train_flops = (4 + (2 if gc else 0)) * size.params * updates * tokens + 6 * trainable * updates * tokens
        flops_text = f"({4 + (2 if gc else 0)} x {num(size.params)} + 6 x {num(trainable)}) x {updates} x {tokens} tokens"
    else:
        train_flops = factor * size.params * updates * tokens
        flops_text = f"{factor} x {num(size.params)} x {updates} updates x {tokens} tokens"
    tp = throughput(config, device, gpus, threads)
    seconds = [_start(), (train_flops / tp.flops, f"training {flops_text} = {num(train_flops)} FLOPs / "
                                                 f"({tp.text}) = {train_flops / tp.flops / 60:.3g} min")]
    if offload:  # Adam on the host: read weights, grads, 2 moments, write weights and moments: 28 B per param,
        # each process on its shard with threads // processes threads (hyperfit.distributed)
        total = gpus * max(1, threads // gpus)
        per_update = trainable * 28 / (compute(config)["cpu_bandwidth_gbs"] * GB * total)
        seconds.append((per_update * updates, f"host Adam {num(trainable)} x 28 B per update / ("
                                              f"{compute(config)['cpu_bandwidth_gbs']:g} GB/s x {total} threads: "
                                              f"{gpus} processes x {max(1, threads // gpus)}) x {updates} = "
                                              f"{per_update * updates / 3600:.3g} h"))
    c = compute(config)
    full = size.params * MASTER  # FSDP moves fp32 weights and gradients (bf16 mixed precision would halve it)
    gather = full * (gpus - 1) / gpus / (c["nvlink_gbs"] * GB) if gpus > 1 else 0.0  # one all-gather, each GPU
    copy_in = full / gpus / (c["pcie_gbs"] * GB) if offload else 0.0  # each GPU's shard host -> GPU
    if gpus > 1:  # every update gathers the weights for the forward and the backward (and the recomputation) and
        passes = 3 if gc else 2  # reduce-scatters the gradients (offloaded: each pass copies the shards in too)
        per_update = (passes + 1) * (gather + copy_in)
        seconds.append((per_update * updates,
                        f"FSDP traffic per update ({passes} gathers + 1 reduce-scatter) x ({gb(full)} x {gpus - 1}/{gpus} "
                        f"at {c['nvlink_gbs']:g} GB/s NVLink" + (f" + {gb(full)} / {gpus} at {c['pcie_gbs']:g} GB/s PCIe"
                                                                 if offload else "")
                        + f") = {per_update:.3g} s x {updates} = {per_update * updates / 60:.3g} min"))
    per_epoch = -(-int(train["num_samples"]) // batch)
    epochs = -(-updates // per_epoch)
    monitored = epochs + 1 if settings.get("monitor_epochs", "all") == "all" else 2
    texts = val_texts if val_texts is not None else config["data"]["validation_texts"]
    val_tokens = texts * (val_len or config["data"]["context_len"] + config["data"]["reference_len"])
    mon_flops = monitored * 2 * size.params * val_tokens
    steps = int(settings.get("monitor_new_tokens", 0))
    eb = int(settings.get("eval_batch_size", 16))
    w_read = size.params * (2 if device == "gpu" and settings.get("bf16", True) else 4)
    # a greedy step reads every weight once (sharded: each GPU its share), and under FSDP gathers them first
    step = w_read / (tp.bandwidth * (gpus if device == "gpu" else 1)) + gather + copy_in
    forwards = monitored * steps * -(-texts // eb)
    mon_gen = forwards * step
    seconds.append((mon_flops / tp.flops + mon_gen,
                    f"monitoring {monitored} x 2 x {num(size.params)} x {val_tokens} validation tokens"
                    + (f" + {forwards} greedy steps ({monitored} x {steps} x {-(-texts // eb)} batches) x {step:.3g} s"
                       if steps else "") + f" = {(mon_flops / tp.flops + mon_gen) / 60:.3g} min"))
    seconds.append(_load_seconds(config, fp32_all + ex_b * (2 if early_stopped else 1)))
    return _finish(config, rule, model, device, gpus, host, gpu, disk, seconds)


# --- inference ---------------------------------------------------------------------------------------------
def inference_estimate(config: dict, model: str, kind: str, device: str, size: Size | None = None,
                       threads: int = 1, method: str | None = None, length: int | None = None,
                       dtype: str | None = None, rule: str | None = None) -> Estimate:
    """A job that loads a model for inference. kind: generate, score, figure4, temperature, logit_bias,
    layers, own_entropy, overrides, lmeval, mauve, complete_images."""
    size = size or model_size(config, model)
    gpus = int(config["models"][model]["compute"].get("inference_gpus", 1)) if model in config["models"] else 1
    gpus = gpus if device == "gpu" else 1
    dtype = dtype or inference_dtype(config, model, device)
    w, w_text = weights_bytes(size, dtype)
    models_loaded = 2 if kind in ("logit_bias", "layers", "own_entropy") else 1
    host, gpu, disk = Parts(), Parts(), Parts()
    host.add(*_runtime_mb(config))
    work = Parts()  # memory of the computation (GPU when there is one, else host)
    texts, seq = eval_tokens(config)
    sb = config["metrics"]["score_batch_size"]
    tp = throughput(config, device, gpus, threads)
    seconds = [_start()]
    if kind == "generate":
        length = length or max(config["generation"]["lengths"])
        batch = min(config["generation"]["batch_size"], texts)
        ctx = config["data"]["context_len"]
        work.add(*kv_bytes(size, batch, ctx + length, dtype))
        work.add(*logits_bytes(batch, 1, size.vocab, 3))
        work.add(*logits_bytes(batch, ctx, size.vocab, 1, DTYPE_BYTES[dtype]))  # the prefill's logits
        batches = -(-texts // batch)
        step = size.params * DTYPE_BYTES[dtype] / tp.bandwidth
        seconds.append((batches * length * step, f"{batches} batches x {length} steps x {gb(size.params * DTYPE_BYTES[dtype])}"
                                                  f" read / {tp.bw_text} = {batches * length * step / 60:.3g} min"))
        out = texts * (ctx + length) * 40
        disk.add(out, f"{texts} texts x {ctx + length} tokens x ~40 B of JSON = {gb(out)}")
    elif kind in ("score", "figure4", "temperature", "logit_bias", "layers"):
        batch = 1 if kind == "figure4" else min(sb, texts)
        n_texts = 1 if kind == "figure4" else texts
        # logit bias works in float64; so do the scores (hyperfit.metrics.score_sequences, exact=True): the fp32
        # logits, then float64 logits, log-softmax, its exp and their product for the entropy (4 x 8 B + 4 B, as
        # 9 fp32 copies; measured on the default: a LoRA model's scoring reached 2,152 MB against 2,143 MB at 3)
        width = 8 if kind == "logit_bias" else 4
        copies = {"score": 9, "figure4": 3, "temperature": 3, "logit_bias": 3, "layers": 1}[kind]
        work.add(*logits_bytes(batch, seq, size.vocab, copies, width))
        passes = {"temperature": 1, "logit_bias": 3}.get(kind, models_loaded)
        flops = passes * 2 * size.params * n_texts * seq
        seconds.append((flops / tp.flops, f"{passes} pass(es) x 2 x {num(size.params)} x {n_texts * seq} tokens / "
                                          f"({tp.text}) = {flops / tp.flops / 60:.3g} min"))
        if kind == "temperature":  # one log-softmax per temperature over every position's vocabulary, on the device
            points = 2 * config["comparison"]["temperature"]["points"]
            soft = points * n_texts * seq * size.vocab * 5
            seconds.append((soft / tp.flops, f"{points} temperatures x {n_texts * seq} positions x {size.vocab} x 5 "
                                             f"FLOPs = {soft / tp.flops / 60:.3g} min"))
        if kind == "logit_bias":  # the positions' float64 logits on the host (biased_entropy)
            host.add(*logits_bytes(batch, seq, size.vocab, 2, 8))
            host.add(size.vocab * 8 * 2, f"bias and its sum {size.vocab} x 8 B x 2")
        if kind == "layers":  # every position's hidden state of every layer in float64, for both models,
            h = (size.layers + 1) * n_texts * seq * size.hidden * 8  # plus the copy torch.cat makes
            host.add(3 * h, f"hidden states 3 x ({size.layers + 1} layers x {n_texts * seq} positions x "
                            f"{size.hidden} x 8 B (float64)) = {gb(3 * h)} (2 models + 1 concatenation copy)")
        disk.add(MB, "a small table")
    elif kind in ("own_entropy", "overrides"):  # generation files teacher-forced: context + the longest length
        from .settings import bias_methods

        length = max(config["generation"]["lengths"])
        seq_gen = config["data"]["context_len"] + length
        batch = min(sb, texts)
        files = len(bias_methods(config)) + 2 if kind == "own_entropy" else 1  # bias rows + original, hyperfitted
        if kind == "own_entropy":  # float64 logits, log-softmax and its exp (as logit_bias); the two biases
            work.add(*logits_bytes(batch, seq_gen, size.vocab, 3, 8))
            host.add(size.vocab * 8 * 2, f"the two biases {size.vocab} x 8 B x 2")
        else:  # fp32 logits of a batch; one text's argsort and ranks (int64) at its generated positions
            work.add(*logits_bytes(batch, seq_gen, size.vocab, 1))
            work.add(*logits_bytes(1, length, size.vocab, 2, 8))
        flops = files * 2 * size.params * texts * seq_gen
        seconds.append((flops / tp.flops, f"{files} file(s) x 2 x {num(size.params)} x {texts} texts x {seq_gen} "
                                          f"tokens / ({tp.text}) = {flops / tp.flops / 60:.3g} min"))
        disk.add(MB, "a small table")
    elif kind == "lmeval":
        batch = config["downstream"]["batch_size"]
        work.add(*logits_bytes(batch, LMEVAL_MAX_TOKENS, size.vocab, 2))
        requests, per, text = lmeval_requests(config, method or "mmlu")
        flops = 2 * size.params * requests * per
        seconds.append((flops / tp.flops, f"2 x {num(size.params)} x {text} / ({tp.text}) = {flops / tp.flops / 60:.3g} min"))
        disk.add(MB, "a small JSON")
    elif kind == "mauve":
        n = len(method or []) or 1
        work.add(size.hidden * 4 * n * texts * 2, f"features {n} files x {texts} texts x {size.hidden} x 4 B x 2")
        mt = config["followup"]["mauve"]["max_tokens"]
        flops = 2 * size.params * (n + 1) * texts * mt
        seconds.append((flops / tp.flops, f"2 x {num(size.params)} x {n + 1} x {texts} texts x {mt} tokens / "
                                          f"({tp.text}) = {flops / tp.flops / 60:.3g} min"))
        disk.add(MB, "a small table")
    elif kind == "complete_images":
        img = config["image"]
        positions = 1024 if img["source"] == "hub" else 64
        batch = min(img["generation_batch_size"], img["num_eval"])
        work.add(*kv_bytes(size, batch, positions + 1, dtype))
        work.add(*logits_bytes(batch, positions, size.vocab, 1))
        steps = positions - int(positions * img["prompt_fraction"])
        batches = -(-img["num_eval"] // batch)
        step = size.params * DTYPE_BYTES[dtype] / tp.bandwidth
        seconds.append((batches * steps * step, f"{batches} batches x {steps} pixels x "
                                                f"{gb(size.params * DTYPE_BYTES[dtype])} read / {tp.bw_text} = "
                                                f"{batches * steps * step / 60:.3g} min"))
        disk.add(img["num_eval"] * positions * 8, f"{img['num_eval']} x {positions} pixels x ~8 B of JSON")
    else:
        raise ValueError(f"unknown job kind {kind!r}")
    seconds.append(_load_seconds(config, models_loaded * w))
    if device == "gpu":
        host.add(w, f"{w_text} passing through host memory while loading")
        per = models_loaded * w / gpus
        gpu.add(per, f"{models_loaded} model(s) x {gb(w)} / {gpus} GPU(s)" if models_loaded > 1 or gpus > 1 else w_text)
        for n, t in work.items:
            gpu.add(n, t)
        gpu.add(*_gpu_mb(config))
    else:
        host.add(models_loaded * w, f"{models_loaded} x {w_text}" if models_loaded > 1 else w_text)
        for n, t in work.items:
            host.add(n, t)
    return _finish(config, rule or kind, model, device, gpus, host, gpu, disk, seconds)


# lm-eval's workload: questions per task (public dataset cards: MMLU test 14,042 questions in 57 subjects, 4
# choices; GLUE validation splits) and the tokens of one request (question + choice), an assumption stated here.
MMLU = {"questions": 14_042, "subjects": 57, "choices": 4, "tokens": 600}
GLUE = {"cola": (1_043, 2), "mnli": (9_815, 3), "mrpc": (408, 2), "qnli": (5_463, 2), "qqp": (40_430, 2),
        "rte": (277, 2), "sst2": (872, 2)}
GLUE_TOKENS = 100


def lmeval_requests(config: dict, suite: str) -> tuple[int, int, str]:
    """(requests, tokens per request, the arithmetic) of one lm-eval suite under the config's limit."""
    spec = config["downstream"][suite]
    limit = spec.get("limit")
    if suite == "mmlu":
        q = MMLU["questions"] if limit is None else min(MMLU["questions"], MMLU["subjects"] * limit)
        return (q * MMLU["choices"], MMLU["tokens"],
                f"{q} MMLU questions x {MMLU['choices']} choices x ~{MMLU['tokens']} tokens")
    tasks = [t for t in spec.get("tasks", GLUE) if t in GLUE]
    if spec.get("source") == "local":
        tasks = ["sst2"]  # the offline stand-in: SST-2 only
    n = sum((GLUE[t][0] if limit is None else min(limit, GLUE[t][0])) * GLUE[t][1] for t in tasks)
    return n, GLUE_TOKENS, f"{n} GLUE requests ({', '.join(tasks)}; examples x choices) x ~{GLUE_TOKENS} tokens"


# --- small jobs -------------------------------------------------------------------------------------------
def small_estimate(config: dict, rule: str, mem_mb: float, why: str, minutes: float = 1.0, disk_mb: float = 10,
                   model: str = "") -> Estimate:
    """A CPU-only job that loads no model (data, metrics, tables, figures): measured peak plus the runtime."""
    host, disk = Parts(), Parts()
    host.add(mem_mb * MB, why)
    disk.add(disk_mb * MB, f"outputs <= {disk_mb:g} MB")
    return _finish(config, rule, model, "cpu", 0, host, Parts(), disk, [(minutes * 60, f"{minutes:g} min")])


def get_model_estimate(config: dict, model: str, device: str = "cpu") -> Estimate:
    """Fetching a base model: hub files into the HF cache, copied into resources/models/<name> (the files
    twice on disk); a GGUF model dequantised to fp32 and rebuilt (two fp32 copies in memory)."""
    spec = config["models"][model]
    size = model_size(config, model)
    host, disk = Parts(), Parts()
    host.add(*_runtime_mb(config))
    if spec["source"] == "gguf":
        f32 = size.params * 4
        host.add(2 * f32, f"2 fp32 copies (dequantised and rebuilt): 2 x {num(size.params)} x 4 B = {gb(2 * f32)}")
        disk.add(f32, f"the fp32 folder {gb(f32)}")
        seconds = [_start(), _load_seconds(config, 2 * f32)]
    elif spec["source"] == "hub":
        return fetch_estimate(config, "get_model", size, model)
    else:
        disk.add(0, "")
        seconds = [_start()]
    return _finish(config, "get_model", model, "cpu", 0, host, Parts(), disk, seconds)


# --- the image branch ----------------------------------------------------------------------------------------
DIGITS = 1_797  # images in scikit-learn's digits


def image_train_estimate(config: dict, rule: str, device: str, threads: int = 1) -> Estimate:
    """Pretraining the digits model, or hyperfitting the image model (the text branch's loop on pixel
    sequences): windows of 65 (digits: 64 pixels + start) or 1,024 positions (ImageGPT)."""
    img = config["image"]
    hub = img["source"] == "hub"
    positions = 1024 if hub else 65
    settings = {**img["hyperfit"], **(img["pretrain"] if rule == "pretrain_image_model" else {})}
    n = (img["num_train"] if rule == "hyperfit_image_model"
         else img.get("num_pretrain") or DIGITS - img["num_eval"] - img["num_train"])
    per_epoch = -(-n // settings["batch_size"])
    train = {"batch_size": settings["batch_size"], "seq_len": positions, "num_samples": n,
             "updates": per_epoch * settings["epochs"]}
    pixels = positions - 1 - int((positions - 1) * img["prompt_fraction"])
    settings = {**settings, "monitor_new_tokens": pixels if rule == "hyperfit_image_model" else 0,
                "eval_batch_size": settings.get("eval_batch_size", 16)}
    save = img["model"]["dtype"] if hub else "float32"
    est = train_estimate(config, img["name"], train, settings, False, device, threads, image_size(config), rule,
                         save_dtype=save, val_texts=settings.get("monitor_images", 0), val_len=positions)
    if img.get("mem_mb"):  # an explicit image.mem_mb is what the image training jobs ask for
        est.override("mem_mb", img["mem_mb"], "image.mem_mb")
    return est


# --- every rule -------------------------------------------------------------------------------------------
MODEL_RULES = {"train_setting": "train", "generate_texts": "generate", "score_texts": "score",
               "score_figure4_position": "figure4", "match_temperature": "temperature",
               "compute_logit_bias": "logit_bias", "measure_layers": "layers", "evaluate_lmeval": "lmeval",
               "measure_own_entropy": "own_entropy", "measure_overrides": "overrides",
               "measure_mauve": "mauve", "get_model": "fetch", "get_mauve_featurizer": "fetch",
               "get_image_model": "fetch", "pretrain_image_model": "image_train",
               "hyperfit_image_model": "image_train", "complete_images": "complete_images",
               "measure_quality": "quality", "get_quality_scorer": "fetch",
               "get_coherence_model": "fetch", "judge_pairs": "judge", "judge_table1": "judge",
               "get_judge_model": "fetch"}


def job(config: dict, rule: str, wildcards: dict, device: str = "gpu", threads: int = 1,
        settings: dict | None = None) -> Estimate:
    """The estimate of one job of `rule` with `wildcards` (a dict). device: gpu (the job gets the GPUs its
    rule asks for) or cpu (a local run without a GPU). Rules that load no model are not sized here. `settings`:
    the settings table by (model, setting) where the caller has it (hyperfit.plan), else built here."""
    from .settings import lookup, training_settings

    kind = MODEL_RULES[rule]
    model = wildcards.get("model", "")
    if kind == "train":
        s = (settings or lookup(config))[(model, wildcards["setting"])]
        est = train_estimate(config, model, s.train, training_settings(config, s), s.early_stopped, device, threads)
        comp = config["models"][model]["compute"]
        if comp.get("mem_mb"):  # the user's number for the hyperfitting job wins over the estimate
            est.override("mem_mb", comp["mem_mb"], f"models.{model}.compute.mem_mb")
        if comp.get("gpu_mem_mb") and device == "gpu":  # the GPUs' size the job asks for and checks at start
            est.override("gpu_mem_mb", comp["gpu_mem_mb"], f"models.{model}.compute.gpu_mem_mb")
        return est
    if kind == "fetch":
        if rule == "get_model":
            return get_model_estimate(config, model)
        if rule == "get_image_model":
            return fetch_estimate(config, rule, image_size(config), config["image"]["name"])
        if rule == "get_judge_model":
            return fetch_estimate(config, rule, judge_size(config))
        if rule in ("get_quality_scorer", "get_coherence_model"):
            return fetch_estimate(config, rule, quality_size(config, "scorer" if rule == "get_quality_scorer"
                                                              else "coherence"))
        return fetch_estimate(config, rule, featurizer_size(config))
    if kind == "image_train":
        return image_train_estimate(config, rule, "gpu" if device == "gpu" and rule == "hyperfit_image_model"
                                    and config["image"]["source"] == "hub" else "cpu", threads)
    if kind == "complete_images":
        img_device = device if config["image"]["source"] == "hub" else "cpu"
        dtype = config["image"]["model"]["dtype"] if img_device == "gpu" else "float32"
        return inference_estimate(config, config["image"]["name"], kind, img_device, image_size(config), threads,
                                  dtype=dtype, rule=rule)
    if kind == "quality":
        return quality_estimate(config, rule, wildcards, device, threads)
    if kind == "judge":
        return judge_estimate(config, rule, wildcards, device, threads)
    if kind == "mauve":  # one table's generation files; no GPU asked for: the featurizer runs on the CPU in fp32
        from .plan import mauve_runs
        return inference_estimate(config, model, kind, "cpu", featurizer_size(config), threads,
                                  method=mauve_runs(config, model, wildcards["table"]), dtype="float32", rule=rule)
    extra = {"length": int(wildcards["length"])} if "length" in wildcards else {}
    if kind == "lmeval":
        extra = {"method": wildcards["suite"]}
    return inference_estimate(config, model, kind, device, threads=threads, rule=rule, **extra)


def quality_estimate(config: dict, rule: str, wildcards: dict, device: str, threads: int = 1) -> Estimate:
    """A quality job (hyperfit.quality) of one model and table: the scorer (quality.scorer: its dtype, over its
    GPUs) and the coherence encoder (fp32, beside it) loaded once; the scorer reads every evaluation text's prompt +
    continuation (context_len + length tokens, counted in the generator's tokens) of each of the table's generation
    files and of the human continuations at each of their lengths, one file at a time: its fp32 logits, their
    float64 copy and log-softmax at the scored positions; the encoder reads each prompt and continuation cut to its
    max_tokens."""
    from .plan import mauve_runs

    q = config["quality"]
    scorer, enc = quality_size(config, "scorer"), quality_size(config, "coherence")
    gpus = int(q["scorer"]["gpus"]) if device == "gpu" else 1
    dtype = q["scorer"]["dtype"] if device == "gpu" else "float32"
    w, w_text = weights_bytes(scorer, dtype)
    e, e_text = weights_bytes(enc, "float32")
    per_file, _ = eval_tokens(config)
    runs = mauve_runs(config, wildcards["model"], wildcards["table"]) if "table" in wildcards else []
    lengths = [int(r["length"]) for r in runs] or [max(config["generation"]["lengths"])]
    files = len(runs) + len(set(lengths))  # the generation files, the human continuations per length
    texts = per_file * files
    length = max(lengths)
    seq = config["data"]["context_len"] + length
    batch = min(q["batch_size"], per_file)
    host, gpu, disk, work = Parts(), Parts(), Parts(), Parts()
    host.add(*_runtime_mb(config))
    work.add(*logits_bytes(batch, seq, scorer.vocab, 5))  # fp32 logits + float64 copy and log-softmax (4 + 8 + 8 B)
    mt = q["coherence"]["max_tokens"]
    work.add(batch * mt * enc.hidden * 4 * (enc.layers + 1), f"encoder hidden states {batch} x {mt} tokens x "
                                                             f"{enc.hidden} x 4 B x {enc.layers + 1} layers")
    tp = throughput(config, device, gpus, threads)
    flops = 2 * scorer.params * texts * seq + 2 * enc.params * 2 * texts * mt
    count = f"{texts} texts ({files} files x {per_file})"
    seconds = [_start(), (flops / tp.flops, f"2 x {num(scorer.params)} x {count} x {seq} tokens + 2 x "
                                            f"{num(enc.params)} x 2 x {count} x {mt} tokens / ({tp.text}) = "
                                            f"{flops / tp.flops / 60:.3g} min"),
               _load_seconds(config, w + e)]
    if device == "gpu":
        host.add(w, f"{w_text} passing through host memory while loading")
        gpu.add(w / gpus + e, f"{w_text} / {gpus} GPU(s) + {e_text}" if gpus > 1 else f"{w_text} + {e_text}")
        for n, t in work.items:
            gpu.add(n, t)
        gpu.add(*_gpu_mb(config))
    else:
        host.add(w, w_text).add(e, e_text)
        for n, t in work.items:
            host.add(n, t)
    disk.add(MB, "a small table")
    return _finish(config, rule, wildcards.get("model", ""), device, gpus, host, gpu, disk, seconds)


JUDGE_PROMPT_TOKENS = 80  # the judge's instructions, question and chat markup around the three texts (judge.prompt)


def judge_estimate(config: dict, rule: str, wildcards: dict, device: str, threads: int = 1) -> Estimate:
    """A judge job (hyperfit.judge): the judge (judge.dtype, over judge.gpus) reads each pair twice (both orders),
    each prompt the context and two continuations of the longest length (counted in the generator's tokens) plus
    JUDGE_PROMPT_TOKENS; logprob keeps the output head to one position, generate adds a KV cache of its answer."""
    from .settings import judge_runs

    j = config["judge"]
    size = judge_size(config)
    gpus = int(j["gpus"]) if device == "gpu" else 1
    dtype = j["dtype"] if device == "gpu" else "float32"
    w, w_text = weights_bytes(size, dtype)
    texts, _ = eval_tokens(config)
    model = wildcards.get("model") or next(iter(config["models"]))
    runs = judge_runs(config, "table1" if rule == "judge_table1" else wildcards.get("table", "table1"), model)
    files = len(runs)
    if rule == "judge_table1":  # then the sanity check: each human continuation of its pairs once, per length
        files += len({int(r["length"]) for r in runs})
    prompts = 2 * texts * max(files, 1)
    seq = config["data"]["context_len"] + 2 * max(config["generation"]["lengths"]) + JUDGE_PROMPT_TOKENS
    batch = min(int(j["batch_size"]), prompts)
    width = DTYPE_BYTES[dtype]
    host, gpu, disk, work = Parts(), Parts(), Parts(), Parts()
    host.add(*_runtime_mb(config))
    acts = batch * seq * size.hidden * width * 8
    work.add(acts, f"activations {batch} x {seq} tokens x {size.hidden} x {width} B x 8 = {gb(acts)}")
    work.add(*logits_bytes(batch, 1, size.vocab, 2))
    if j["method"] == "generate":
        kv = 2 * size.layers * batch * (seq + int(j["max_new_tokens"])) * size.kv * width
        work.add(kv, f"KV cache 2 x {size.layers} layers x {batch} x {seq + int(j['max_new_tokens'])} tokens x "
                     f"{size.kv} x {width} B = {gb(kv)}")
    tp = throughput(config, device, 1, threads)  # layers spread over the GPUs (device_map="auto") run one at a time
    flops = 2 * size.params * prompts * seq
    seconds = [_start(), (flops / tp.flops, f"2 x {num(size.params)} x {prompts} prompts (2 orders x {texts} texts x "
                                            f"{files} file(s)) x {seq} tokens / ({tp.text}; the layers spread over "
                                            f"{gpus} GPU(s) run one at a time) = {flops / tp.flops / 60:.3g} min"),
               _load_seconds(config, w)]
    if device == "gpu":
        host.add(w, f"{w_text} passing through host memory while loading")
        gpu.add(w / gpus, f"{w_text} / {gpus} GPU(s)" if gpus > 1 else w_text)
        for n, t in work.items:
            gpu.add(n / gpus, f"{t} / {gpus} GPU(s)" if gpus > 1 else t)
        gpu.add(*_gpu_mb(config))
    else:
        host.add(w, w_text)
        for n, t in work.items:
            host.add(n, t)
    disk.add(MB, "a small table")
    return _finish(config, rule, model, device, gpus, host, gpu, disk, seconds)


def fetch_estimate(config: dict, rule: str, size: Size, model: str = "") -> Estimate:
    """A hub download (a base model, the MAUVE featurizer, the image model): its files land in the HF cache and
    are copied into resources/models/<name>, twice on disk."""
    b = DTYPE_BYTES[size.file_dtype]
    fb = size.params * b
    host, disk = Parts(), Parts()
    host.add(*_runtime_mb(config)).add(min(SHARD_BYTES, fb), f"one file in flight (<= 5 GB) = {gb(min(SHARD_BYTES, fb))}")
    disk.add(2 * fb, f"the files twice (HF cache + resources/models): 2 x {num(size.params)} x {b} B "
                     f"({DTYPE_SHORT[size.file_dtype]} files) = {gb(2 * fb)}")
    return _finish(config, rule, model, "cpu", 0, host, Parts(), disk,
                   [_start(), _download_seconds(config, fb), _load_seconds(config, fb)])


# --- local runs -------------------------------------------------------------------------------------------
def local_gpu() -> bool:
    """Whether this machine has an NVIDIA GPU that jobs may use (the driver lists one and CUDA_VISIBLE_DEVICES
    does not hide them all), without importing torch."""
    import os

    gpus = Path("/proc/driver/nvidia/gpus")
    return gpus.is_dir() and any(gpus.iterdir()) and os.environ.get("CUDA_VISIBLE_DEVICES", "x").strip() not in ("", "-1")


def available_mem_mb() -> int | None:
    """MemAvailable of this machine in MB (Linux /proc/meminfo), or None where it cannot be read."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024 // 10**6  # kB (KiB) -> bytes -> MB
    except OSError:
        return None
    return None


def local_mem_mb(config: dict) -> tuple[int, str] | None:
    """The global mem_mb of a local run: the memory available now minus compute.local_mem_margin_mb (for
    Snakemake itself and whatever else runs), and the arithmetic."""
    have = available_mem_mb()
    if have is None:
        return None
    margin = int(compute(config)["local_mem_margin_mb"])
    value = max(1000, have - margin)
    return value, f"MemAvailable {have} MB - compute.local_mem_margin_mb {margin} MB = {value} MB"
