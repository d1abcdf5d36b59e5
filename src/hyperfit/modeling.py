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
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def load_model(path: str, dtype: str = "float32", for_training: bool = False):
    """A causal LM from a local folder with all dropout set to 0 (the authors' ImageGPT code does this
    "to enable hyperfitting"; with dropout off, training and evaluation are deterministic)."""
    import torch
    from transformers import AutoModelForCausalLM

    torch_dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]
    if torch_dtype is torch.bfloat16 and not (torch.cuda.is_available() and torch.cuda.is_bf16_supported()):
        torch_dtype = torch.float32
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype)
    disable_dropout(model)
    model.to(device())
    model.train(for_training)
    return model


def disable_dropout(model) -> None:
    import torch

    for name in ("attention_dropout", "hidden_dropout", "resid_pdrop", "embd_pdrop", "attn_pdrop",
                 "dropout", "hidden_dropout_prob", "attention_probs_dropout_prob"):
        if hasattr(model.config, name) and isinstance(getattr(model.config, name), float):
            setattr(model.config, name, 0.0)
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0


def load_tokenizer(path: str):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    return tok
