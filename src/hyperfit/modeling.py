"""Loading models for training and inference, deterministically, on whatever device is available."""
from __future__ import annotations

import os


def set_threads() -> None:
    """Use the cores Snakemake gave this job (OMP_NUM_THREADS / rule threads)."""
    import torch

    n = os.environ.get("OMP_NUM_THREADS")
    if n:
        torch.set_num_threads(int(n))


def device():
    """The device of this process, from the environment: CUDA_VISIBLE_DEVICES decides which GPUs exist
    (none: the CPU); a process started by `accelerate launch` takes the GPU of its LOCAL_RANK."""
    import torch

    if not torch.cuda.is_available():
        return torch.device("cpu")
    rank = os.environ.get("LOCAL_RANK")
    return torch.device(f"cuda:{int(rank)}" if rank is not None else "cuda")


def load_model(path: str, dtype: str = "float32", for_training: bool = False, place: bool = True,
               model_class=None):
    """A causal LM from a local folder with all dropout set to 0 (the authors' ImageGPT code does this
    "to enable hyperfitting"; with dropout off, training and evaluation are deterministic).

    place=True puts it on device(); for inference on a job with several GPUs (and no launcher) it is
    spread over them layer by layer instead (device_map="auto"). place=False leaves placement to the
    caller (training: the accelerator places or shards it). model_class: a transformers class to load
    with instead of AutoModelForCausalLM (e.g. ImageGPTForCausalImageModeling)."""
    import torch
    from transformers import AutoModelForCausalLM

    torch_dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]
    if torch_dtype is torch.bfloat16 and not (torch.cuda.is_available() and torch.cuda.is_bf16_supported()):
        torch_dtype = torch.float32
    spread = place and not for_training and torch.cuda.device_count() > 1 and "LOCAL_RANK" not in os.environ
    model = (model_class or AutoModelForCausalLM).from_pretrained(path, dtype=torch_dtype,
                                                                  device_map="auto" if spread else None)
    disable_dropout(model)
    if place and not spread:
        model.to(device())
    model.train(for_training)
    return model


def check_gpus(processes: int, gpu_mem_mb: int) -> None:
    """Fail early, with the fix, when the GPUs this job sees are fewer or smaller than the config asks for.
    Without CUDA nothing is checked (the job runs on CPUs)."""
    import torch

    from .errors import UserError

    if not torch.cuda.is_available():
        return
    have = torch.cuda.device_count()
    if have < processes:
        raise UserError(f"this job sees {have} GPU(s) (CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES')})"
                        f" but the model is set to train on {processes}: give the rule more GPUs or lower "
                        "models.<name>.compute.gpus")
    for i in range(processes):
        props = torch.cuda.get_device_properties(i)
        total = props.total_memory // 2**20
        if gpu_mem_mb and total < gpu_mem_mb:
            raise UserError(f"GPU {i} ({props.name}) has {total} MB but models.<name>.compute.gpu_mem_mb asks for "
                            f"{gpu_mem_mb} MB per GPU: request larger GPUs (profiles/slurm: gpu_model or "
                            "constraint), more of them (models.<name>.compute.gpus), or hyperfit.lora")


def disable_dropout(model) -> None:
    import torch

    for name in ("attention_dropout", "hidden_dropout", "resid_pdrop", "embd_pdrop", "attn_pdrop",
                 "dropout", "hidden_dropout_prob", "attention_probs_dropout_prob"):
        if hasattr(model.config, name) and isinstance(getattr(model.config, name), float):
            setattr(model.config, name, 0.0)
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0


# tokenizer_class values for which AutoTokenizer builds transformers' generic tokenizer straight from tokenizer.json
# (PreTrainedTokenizerFast is TokenizersBackend's name in transformers 5)
GENERIC_TOKENIZERS = ("TokenizersBackend", "PreTrainedTokenizerFast")


def tokenizer_class_name(path: str) -> str | None:
    """tokenizer_config.json's tokenizer_class of a model folder (None where it names none)."""
    import json
    from pathlib import Path

    config = Path(path) / "tokenizer_config.json"
    if not config.is_file():
        return None
    return json.loads(config.read_text(encoding="utf-8")).get("tokenizer_class")


def load_tokenizer(path: str):
    """The model folder's tokenizer as AutoTokenizer loads it. Where the folder names the generic class
    (GENERIC_TOKENIZERS) and has its tokenizer.json, that class is loaded directly: the same object AutoTokenizer
    builds, without AutoTokenizer's imports (torch and the model configurations: ~5 s of a job that only
    decodes)."""
    if tokenizer_class_name(path) in GENERIC_TOKENIZERS and os.path.isfile(os.path.join(path, "tokenizer.json")):
        from transformers import PreTrainedTokenizerFast as Generic
    else:
        from transformers import AutoTokenizer as Generic

    tok = Generic.from_pretrained(path)
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    return tok
