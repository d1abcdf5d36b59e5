"""hyperfit.modeling.load_tokenizer against its oracle, transformers' AutoTokenizer: the same class, ids, text and
special tokens, whichever way the folder's tokenizer is loaded."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

COMPARE = """
import json, sys
from gensim.test.utils import datapath
from hyperfit.modeling import load_tokenizer
ours = load_tokenizer(sys.argv[1])
torch_loaded = "torch" in sys.modules
from transformers import AutoTokenizer
theirs = AutoTokenizer.from_pretrained(sys.argv[1])
if theirs.pad_token_id is None:
    theirs.pad_token = theirs.eos_token
with open(datapath("lee_background.cor"), encoding="latin-1") as fh:
    texts = [line.strip() for line in fh if line.strip()][:40]
ids = [ours(t)["input_ids"] for t in texts]
print(json.dumps({
    "torch_loaded": torch_loaded, "ours": type(ours).__name__, "theirs": type(theirs).__name__,
    "same_ids": ids == [theirs(t)["input_ids"] for t in texts],
    "same_text": [ours.decode(i, skip_special_tokens=True) for i in ids]
                 == [theirs.decode(i, skip_special_tokens=True) for i in ids],
    "same_special": [ours.eos_token_id, ours.pad_token_id, ours.bos_token_id, len(ours)]
                    == [theirs.eos_token_id, theirs.pad_token_id, theirs.bos_token_id, len(theirs)]}))
"""


def compare(path: Path) -> dict:
    res = subprocess.run([sys.executable, "-c", COMPARE, str(path)], capture_output=True, text=True, timeout=300,
                         cwd=ROOT)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_a_generic_tokenizer_loads_as_autotokenizer_would_without_torch(tiny_model_dir):
    """The tiny model's tokenizer names transformers' generic class: loaded directly, it is AutoTokenizer's own
    (class, ids and text of real sentences, special tokens), and the job that only decodes never imports torch."""
    got = compare(tiny_model_dir)
    assert got["ours"] == got["theirs"] == "TokenizersBackend"
    assert got["same_ids"] and got["same_text"] and got["same_special"]
    assert got["torch_loaded"] is False


def test_a_model_specific_tokenizer_is_left_to_autotokenizer(tiny_model_dir, tmp_path):
    """A folder whose tokenizer_config.json names a model's own class (here GPT-2's, from the same vocabulary and
    merges) goes through AutoTokenizer: the same class as AutoTokenizer's, the same ids and text."""
    folder = shutil.copytree(tiny_model_dir, tmp_path / "gpt2-classed")
    config = json.loads((folder / "tokenizer_config.json").read_text())
    (folder / "tokenizer_config.json").write_text(json.dumps({**config, "tokenizer_class": "GPT2Tokenizer"}))
    got = compare(folder)
    assert got["ours"] == got["theirs"] == "GPT2Tokenizer"
    assert got["same_ids"] and got["same_text"] and got["same_special"]
