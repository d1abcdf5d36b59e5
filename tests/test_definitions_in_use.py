"""Each scientific definition checked where it is used (the rule scripts and the table functions), against an
oracle that does not share the code under test: hand-worked values, scipy, a brute-force decoder written
here step by step without the KV cache, a naive per-text loop without padding.

Every test names, in its docstring, the one-line change of the code it was seen to catch ("mutation": made
by hand, the test run and seen to fail, the change reverted)."""
from __future__ import annotations

import json
import math
import os
import runpy
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "workflow" / "scripts"
EOS = 0  # the tiny model's eos (= pad) id


# ------------------------------------------------------------------------------------------ helpers
class Section(SimpleNamespace):
    """Snakemake's input/output/params/wildcards: named entries, by attribute, key or position."""

    def keys(self):
        return list(vars(self))

    def __iter__(self):
        return iter(list(vars(self).values()))

    def __len__(self):
        return len(vars(self))

    def __getitem__(self, key):
        return list(vars(self).values())[key] if isinstance(key, int) else vars(self)[key]


def run_script(name: str, tmp_path: Path, **sections) -> None:
    """Run workflow/scripts/<name>.py in this process as Snakemake would, with a stand-in `snakemake` object
    (input, output, params, wildcards as attributes); the script's log goes to tmp_path."""
    sm = SimpleNamespace(log=[str(tmp_path / f"{name}.log")], threads=1, rule=name,
                         **{k: Section(**v) for k, v in sections.items()})
    saved = sys.stdout, sys.stderr, torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS")
    try:
        runpy.run_path(str(SCRIPTS / f"{name}.py"), init_globals={"snakemake": sm}, run_name="__main__")
    except BaseException:
        print((tmp_path / f"{name}.log").read_text(), file=sys.__stderr__)
        raise
    finally:
        sys.stdout, sys.stderr = saved[0], saved[1]
        torch.set_num_threads(saved[2])
        if saved[3] is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = saved[3]


def default_config() -> dict:
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def write_json(path: Path, obj) -> str:
    path.write_text(json.dumps(obj))
    return str(path)


def read_jsonl(path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def perturbed_copy(tiny_model_dir: Path, out: Path, scale: float = 0.05, seed: int = 1) -> Path:
    """A stand-in "hyperfitted" model: the tiny model with every weight moved by seeded noise."""
    from hyperfit.modeling import load_model, load_tokenizer

    model = load_model(str(tiny_model_dir))
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(scale * torch.randn(p.shape, generator=g))
    model.save_pretrained(out)
    load_tokenizer(str(tiny_model_dir)).save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def looping_model_dir(tiny_model_dir, tmp_path_factory) -> Path:
    """The tiny model with an untied, random output head: its greedy continuations fall into short loops of
    several tokens (the tied tiny model just repeats its last token), so a repetition penalty of 1.2 and the
    blocker change them."""
    from transformers import AutoConfig, AutoModelForCausalLM

    from hyperfit.modeling import load_tokenizer

    config = AutoConfig.from_pretrained(tiny_model_dir)
    config.tie_word_embeddings = False
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, config=config)
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        model.lm_head.weight.copy_(0.5 * torch.randn(model.lm_head.weight.shape, generator=g))
    out = tmp_path_factory.mktemp("looping") / "model"
    model.save_pretrained(out)
    load_tokenizer(str(tiny_model_dir)).save_pretrained(out)
    return out


def last_logits(model, seqs: list[list[int]]) -> torch.Tensor:
    """Next-token logits after each sequence, by a full forward pass of each alone (no cache, no padding)."""
    with torch.no_grad():
        return torch.stack([model(torch.tensor([s])).logits[0, -1].float() for s in seqs])


# ------------------------------------------------------------------------------------------ TTR's window
# 12 generated ids, TTR window 5. Hand-worked: last 5 = [2, 3, 4, 5, 2] -> 4/5; whole text -> 5/12;
# first 5 = [1, 1, 1, 1, 1] -> 1/5. Repeats inside the window (2) and outside it (1).
GEN = [1, 1, 1, 1, 1, 1, 1, 2, 3, 4, 5, 2]
WINDOW = 5


def test_ttr_window_in_measure_texts_per_text_table(tiny_model_dir, tmp_path):
    """measure_texts.py's per-text table: `ttr` is the last 5 ids (0.8), `ttr_full` the whole text (5/12).
    Mutations caught: metrics.ttr's `[-last:]` -> `[:last]`; text_metrics' `ttr(ids, ttr_window)` -> `ttr(ids)`."""
    from hyperfit.modeling import load_tokenizer

    tok = load_tokenizer(str(tiny_model_dir))
    window_ids = tok("the cat sat on the mat and looked at the dog")["input_ids"][:8]
    tokens = {"pools": {"fiction": {"0": [{"doc": "a", "start": 0, "ids": window_ids}]}}, "pad_id": 0}
    other = [7, 8, 9, 10, 11, 7, 8, 9, 10, 11, 7, 12]  # last 5 = [9, 10, 11, 7, 12] -> 1; whole 6/12
    records = [{"domain": "fiction", "index": 0, "generated_ids": GEN, "text": tok.decode(GEN)},
               {"domain": "fiction", "index": 1, "generated_ids": other, "text": tok.decode(other)}]
    texts = tmp_path / "greedy-12.jsonl"
    texts.write_text("".join(json.dumps(r) + "\n" for r in records))
    run_script("measure_texts", tmp_path,
               input={"texts": str(texts), "tokens": write_json(tmp_path / "tokens.json", tokens),
                      "tokenizer": str(tiny_model_dir)},
               output={"table": str(tmp_path / "greedy-12.tsv")},
               params={"windows": {"train_domain": "fiction", "seed": 0, "num_samples": 1, "seq_len": 8},
                       "ttr_window": WINDOW},
               wildcards={"setting": "hyperfitted", "method": "greedy"})
    table = pd.read_csv(tmp_path / "greedy-12.tsv", sep="\t")
    assert table["ttr"].tolist() == pytest.approx([4 / 5, 1.0])
    assert table["ttr_full"].tolist() == pytest.approx([5 / 12, 6 / 12])


def test_ttr_window_in_the_sweep_tables_and_figure9():
    """The tables' TTR (Figure 5 right, Table 4, the comparison: text_ttr, per_text_ttr) and Figure 9's TTR by
    position use the trailing window. Mutations caught: `ttr(r["generated_ids"], window)` -> `ttr(r["generated_ids"])`
    in sweeptables.text_ttr / per_text_ttr; `ttr(seq[:t], window)` -> `ttr(seq[:t])` in texts.ttr_by_position."""
    from hyperfit.sweeptables import per_text_ttr, text_ttr
    from hyperfit.texts import ttr_by_position

    records = [{"domain": "wiki", "index": 0, "generated_ids": [6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6]},
               {"domain": "fiction", "index": 3, "generated_ids": GEN}]
    assert text_ttr(records, WINDOW) == pytest.approx((1 / 5 + 4 / 5) / 2)
    assert per_text_ttr(records, WINDOW).tolist() == pytest.approx([4 / 5, 1 / 5])  # text order: fiction first
    # at t tokens: the ids [t-5, t); before 5 tokens, all of them
    assert ttr_by_position(GEN, WINDOW, [3, 9, 12]) == pytest.approx([1 / 3, 3 / 5, 4 / 5])


# ------------------------------------------------------------------------------------------ decodings
CONTEXTS = [[5, 17, 40, 3, 99], [8, 8, 21, 300, 7], [44, 2, 7, 150, 61]]  # equal lengths: no padding to mimic
N_NEW = 10


def generate_row(tmp_path, weights: Path, config: dict, row: dict, tokens: dict, spy: list, extra_input=None,
                 length: int = N_NEW):
    """generate_texts.py for one row of the comparison, with the params the rule gives it (rules/common.smk's
    get_generation: the method's decoding from the config and the seed); returns the generated ids."""
    from hyperfit import settings as S

    setting = S.lookup(config)[(row["model"], row["setting"])]
    out = tmp_path / f"{row['method']}-{length}.jsonl"
    inputs = {"tokens": write_json(tmp_path / "tokens.json", tokens), "weights": str(weights), **(extra_input or {})}
    run_script("generate_texts", tmp_path, input=inputs, output={"texts": str(out)},
               params={"generation": {"decoding": S.method_decoding(config, row["method"]),
                                      "seed": S.generation_seed(config, row["model"], row["setting"], row["method"]),
                                      "windows": S.windows_setting(config, setting)},
                       "weights": str(weights), "batch_size": 8, "dtype": "float32"},
               wildcards={"setting": row["setting"], "weights": row["weights"], "method": row["method"],
                          "length": str(length)})
    assert len(spy) == 1, "one batch, one generate() call"
    return [r["generated_ids"] for r in sorted(read_jsonl(out), key=lambda r: r["index"])]


@pytest.fixture
def generate_spy(monkeypatch):
    """Records the keyword arguments of every model.generate() call (then generates as usual)."""
    from transformers.generation.utils import GenerationMixin

    calls: list[dict] = []
    real = GenerationMixin.generate

    def spy(self, *args, **kwargs):
        calls.append(kwargs)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(GenerationMixin, "generate", spy)
    return calls


def greedy_by_hand(model, contexts, n, penalty: float | None = None) -> list[list[int]]:
    """Greedy decoding one token at a time (full forward, no cache), EOS kept out; with `penalty`, CTRL's
    repetition penalty (Keskar et al. 2019, as transformers defines it): the score of every token already in
    the sequence divided by the penalty when positive, multiplied by it when negative."""
    seqs = [list(c) for c in contexts]
    for _ in range(n):
        logits = last_logits(model, seqs)
        logits[:, EOS] = -math.inf
        if penalty is not None:
            for i, s in enumerate(seqs):
                for t in set(s):
                    v = logits[i, t]
                    logits[i, t] = v / penalty if v > 0 else v * penalty
        for s, t in zip(seqs, logits.argmax(-1).tolist()):
            s.append(t)
    return [s[len(c):] for s, c in zip(seqs, contexts)]


def sampled_by_hand(model, contexts, n, temperature: float, seed: int) -> list[list[int]]:
    """Pure sampling (no top-p, no top-k) from softmax(logits / T), EOS kept out, one token at a time, drawing
    with torch.multinomial from the same seeded generator state as the job."""
    torch.manual_seed(seed)
    seqs = [list(c) for c in contexts]
    for _ in range(n):
        logits = last_logits(model, seqs)
        logits[:, EOS] = -math.inf
        probs = torch.softmax(logits / temperature, dim=-1)
        for s, t in zip(seqs, torch.multinomial(probs, 1).squeeze(1).tolist()):
            s.append(t)
    return [s[len(c):] for s, c in zip(seqs, contexts)]


def comparison_rows(config) -> dict[str, dict]:
    from hyperfit import settings as S

    return {r["label"]: r for r in S.comparison_runs(config)}


@pytest.fixture
def eval_tokens():
    return {"eval": [{"domain": "fiction", "index": i, "context": c, "reference": [11, 12, 13, 14]}
                     for i, c in enumerate(CONTEXTS)], "pad_id": 0}


def test_greedy_rows_do_not_sample(looping_model_dir, tmp_path, generate_spy, eval_tokens):
    """The comparison's 'original greedy' row: generate() gets do_sample=False, and the ids equal a greedy
    decoder written here. Mutation caught: generation.py's `do_sample=do_sample` -> `do_sample=True`."""
    from hyperfit.modeling import load_model

    config = default_config()
    row = comparison_rows(config)["original greedy"]
    got = generate_row(tmp_path, looping_model_dir, config, row, eval_tokens, generate_spy)
    assert generate_spy[0]["do_sample"] is False and generate_spy[0].get("repetition_penalty") is None
    assert got == greedy_by_hand(load_model(str(looping_model_dir)), CONTEXTS, N_NEW)


def test_repetition_penalty_row_reaches_generate(looping_model_dir, tmp_path, generate_spy, eval_tokens):
    """The row 'original greedy + repetition penalty 1.2': the penalty reaches generate() and the ids equal a
    greedy decoder with CTRL's penalty written here (and differ from plain greedy). Mutations caught: the
    script's `repetition_penalty=dec.get("repetition_penalty")` dropped; settings.method_decoding's
    `"repetition_penalty": comp["repetition_penalty"]` dropped."""
    from hyperfit.modeling import load_model

    config = default_config()
    label = f"original greedy + repetition penalty {config['comparison']['repetition_penalty']:g}"
    assert label == "original greedy + repetition penalty 1.2"
    got = generate_row(tmp_path, looping_model_dir, config, comparison_rows(config)[label], eval_tokens, generate_spy)
    assert generate_spy[0]["repetition_penalty"] == 1.2 and generate_spy[0]["do_sample"] is False
    model = load_model(str(looping_model_dir))
    assert got == greedy_by_hand(model, CONTEXTS, N_NEW, penalty=1.2)
    assert got != greedy_by_hand(model, CONTEXTS, N_NEW)  # the penalty changes something here


def test_entropy_matched_row_is_pure_sampling_at_the_matched_temperature(looping_model_dir, tmp_path, generate_spy,
                                                                        eval_tokens):
    """The row 'original, sampled at the entropy-matched temperature': generate() samples with the temperature
    of the matched-temperature file, top_p 1 and top_k 0 (transformers' "off"), and the ids equal pure sampling
    from softmax(logits / T) done here with the same seed. Mutations caught: settings.method_decoding's matched
    decoding `"top_k": 0` -> `"top_k": 50` (or `"top_p": 1.0` -> 0.9); the script no longer substituting
    the file's temperature (a fixed 1.0)."""
    from hyperfit.modeling import load_model

    config = default_config()
    row = comparison_rows(config)["original, sampled at the entropy-matched temperature"]
    t = 0.83
    temp_file = write_json(tmp_path / "temperature.json", {"temperature": t, "entropy": 1.0, "matched": True})
    got = generate_row(tmp_path, looping_model_dir, config, row, eval_tokens, generate_spy,
                       extra_input={"temperature": temp_file})
    kw = generate_spy[0]
    assert kw["do_sample"] is True and kw["temperature"] == t and kw["top_p"] == 1.0 and kw["top_k"] == 0
    from hyperfit import settings as S

    seed = S.generation_seed(config, row["model"], row["setting"], row["method"])
    assert got == sampled_by_hand(load_model(str(looping_model_dir)), CONTEXTS, N_NEW, t, seed)


@pytest.mark.parametrize("t", [0.37, 3.0])
def test_greedy_at_the_matched_temperature_is_original_greedy(looping_model_dir, tmp_path, generate_spy, eval_tokens,
                                                              t):
    """The sanity row 'original, greedy at the entropy-matched temperature': through generate_texts.py with the
    matched-temperature file, generate() decodes greedily with the logits divided by T (a TemperatureLogitsWarper
    of that T reaches it, so the row does apply the temperature), and the token ids are identical to the
    'original greedy' row's and to a greedy decoder written here (dividing by T > 0 keeps the argmax). Mutations
    caught: settings.method_decoding's matched greedy `"do_sample": False` -> True (ids differ); generation.py no
    longer adding the temperature to a greedy decoding (the warper is missing)."""
    from transformers import TemperatureLogitsWarper

    from hyperfit import settings as S
    from hyperfit.modeling import load_model

    config = default_config()
    rows = comparison_rows(config)
    row = rows["original, greedy at the entropy-matched temperature (= original greedy)"]
    assert row["method"] == S.MATCHED_GREEDY + S.MAIN and row["temperature"] == S.temperature(row["model"], S.MAIN)
    temp_file = write_json(tmp_path / "temperature.json", {"temperature": t, "entropy": 1.0, "matched": True})
    got = generate_row(tmp_path, looping_model_dir, config, row, eval_tokens, generate_spy,
                       extra_input={"temperature": temp_file})
    kw = generate_spy.pop()  # the next row's generate() call is checked alone
    assert kw["do_sample"] is False
    warpers = [p for p in kw["logits_processor"] if isinstance(p, TemperatureLogitsWarper)]
    assert [w.temperature for w in warpers] == [t]
    greedy = generate_row(tmp_path, looping_model_dir, config, rows["original greedy"], eval_tokens, generate_spy)
    assert got == greedy == greedy_by_hand(load_model(str(looping_model_dir)), CONTEXTS, N_NEW)
    assert any(len(set(g)) > 1 for g in got)  # not a constant continuation: the argmax is decided at every step


def test_top_p_rows_use_the_papers_top_p(looping_model_dir, tmp_path, generate_spy, eval_tokens):
    """'original Top-P': the configured Top-P decoding (p 0.9, T 0.7, top-k 50) reaches generate()."""
    config = default_config()
    generate_row(tmp_path, looping_model_dir, config, comparison_rows(config)["original Top-P"], eval_tokens,
                 generate_spy)
    kw = generate_spy[0]
    assert (kw["do_sample"], kw["top_p"], kw["temperature"], kw["top_k"]) == (True, 0.9, 0.7, 50)


# ------------------------------------------------------------------------------------------ blocker at word starts
def test_word_boundary_blocker_never_completes_a_training_ngram_at_a_word_start(looping_model_dir, tmp_path,
                                                                                generate_spy):
    """The 'hyperfitted greedy + citation blocker' row (config: ngram 6, word_boundary true) through
    generate_texts.py, with the model's own greedy continuations as the training windows (so plain greedy
    cites them throughout). Brute force over the output: no generated token that starts a word (its decoded
    text begins with whitespace) completes a training 6-gram; and the output equals a blocked greedy decoder
    written here (word starts blocked, other tokens never). Mutations caught: blocker.ngram_index's
    `nxt in blockable` -> `nxt not in blockable`; blocker_spec's word_boundary default/value ignored
    (`bool(spec.get(...))` -> False: then a mid-word token is blocked and the ids differ from the reference)."""
    from hyperfit.generation import generate_batched
    from hyperfit.modeling import load_model, load_tokenizer

    config = default_config()
    row = comparison_rows(config)["hyperfitted greedy + citation blocker"]
    spec = config["generation"]["decodings"][row["method"]]["blocker"]
    assert spec == {"ngram": 6, "word_boundary": True}
    n = spec["ngram"]
    model, tok = load_model(str(looping_model_dir)), load_tokenizer(str(looping_model_dir))
    contexts = [tok(t)["input_ids"][:6] for t in ("The minister said on Sunday that the", "Police in the city said")]
    plain = generate_batched(model, contexts, 24, pad_id=0)
    train = [c + g for c, g in zip(contexts, plain)]
    from hyperfit import settings as S

    setting = S.lookup(config)[(row["model"], row["setting"])]
    windows = S.windows_setting(config, setting)
    tokens = {"eval": [{"domain": "news", "index": i, "context": c, "reference": [11, 12]}
                       for i, c in enumerate(contexts)], "pad_id": 0,
              "pools": {windows["train_domain"]: {str(windows["seed"]): [
                  {"doc": "d", "start": i, "ids": t + [0] * (windows["seq_len"] - len(t))}
                  for i, t in enumerate(train)] * windows["num_samples"]}}}
    # the windows padded with EOS to the setting's length: EOS never appears in a generation (kept out)
    generate_spy.clear()
    got = generate_row(tmp_path, looping_model_dir, config, row, tokens, generate_spy, length=24)

    def starts_word(t: int) -> bool:
        return t != EOS and tok.decode([t])[:1].isspace()

    train_ngrams = {tuple(s[i:i + n]) for s in train for i in range(len(s) - n + 1)}
    word_starts = [(c + p)[i] for c, p in zip(contexts, plain) for i in range(len(c) + n - 1, len(c + p))]
    assert any(starts_word(t) for t in word_starts), "plain greedy must cite at a word start for this to test anything"
    for c, g in zip(contexts, got):
        full = c + g
        for i in range(len(c), len(full)):
            if starts_word(full[i]):
                assert tuple(full[i - n + 1:i + 1]) not in train_ngrams, (i, full)
    assert got != plain
    # the reference decoder: highest-scoring token that is not a word start completing a training n-gram
    seqs = [list(c) for c in contexts]
    for _ in range(24):
        logits = last_logits(model, seqs)
        logits[:, EOS] = -math.inf
        for s, row_logits in zip(seqs, logits):
            for t in row_logits.argsort(descending=True).tolist():
                if not (starts_word(t) and tuple(s[-(n - 1):] + [t]) in train_ngrams):
                    s.append(t)
                    break
    assert got == [s[len(c):] for s, c in zip(seqs, contexts)]


# ------------------------------------------------------------------------------------------ the fixed logit bias
# Items of different lengths (padding in a batch) for the follow-up's teacher-forced measures.
ITEMS = [{"domain": "fiction", "index": 0, "context": [5, 9, 14, 3], "reference": [7, 7, 21, 40, 2]},
         {"domain": "fiction", "index": 1, "context": [11, 4], "reference": [8, 8]},
         {"domain": "wiki", "index": 0, "context": [30, 31, 32, 33, 34, 35], "reference": [36, 37, 38]}]


def per_text_logits(model, items) -> torch.Tensor:
    """Logits of every predicted position of every text, each text alone (no batch, no padding)."""
    with torch.no_grad():
        return torch.cat([model(torch.tensor([it["context"] + it["reference"]])).logits[0, :-1].double()
                          for it in items])


K_TOP = 7  # of the tiny model's 512 tokens (the follow-up: K = 500 of 32,000)


def test_logit_bias_points_from_the_original_to_the_hyperfitted_model(tiny_model_dir, tmp_path, generate_spy):
    """compute_logit_bias.py, then generate_texts.py's bias method, against a naive oracle: b = mean over the
    texts' positions of (hyperfitted - original) logits, each text alone. At s = 1 the original's biased
    logits at a position are its logits + b, so their mean over positions is exactly the hyperfitted model's
    mean; the distance to the hyperfitted logits shrinks from s = 0 to s = 1; under a strong bias (s = 1000)
    every greedy token is the argmax of b. Mutations caught: compute_logit_bias.py calling
    `logit_bias(original, hyperfitted, ...)` (inputs swapped); followup.logit_bias's `(a - b)` -> `(b - a)`;
    BiasProcessor's `scores + ...` -> `scores - ...`; biased_entropy's `z + s * bias` -> `z - s * bias`."""
    from hyperfit import settings as S
    from hyperfit.followup import BiasProcessor
    from hyperfit.metrics import entropy_from_logits
    from hyperfit.modeling import load_model

    run_dir = tmp_path / "run"
    perturbed_copy(tiny_model_dir, run_dir / "model", scale=0.2)
    tokens = {"eval": ITEMS, "pad_id": 0}
    tokens_file = write_json(tmp_path / "tokens.json", tokens)
    run_script("compute_logit_bias", tmp_path,
               input={"tokens": tokens_file, "model": str(tiny_model_dir), "run": str(run_dir)},
               output={"bias": str(tmp_path / "bias.pt"), "bias_top": str(tmp_path / "bias_top.pt"),
                       "entropy": str(tmp_path / "entropy.json")},
               params={"dtype": "float32", "batch_size": 2, "strengths": [0.0, 1.0], "top_k": K_TOP})
    original, hyper = load_model(str(tiny_model_dir)), load_model(str(run_dir / "model"))
    lo, lh = per_text_logits(original, ITEMS), per_text_logits(hyper, ITEMS)
    b_hand = (lh - lo).mean(0)
    bias = torch.load(tmp_path / "bias.pt")
    assert torch.allclose(bias.double(), b_hand, atol=1e-5)
    # the top-K bias: b on the K tokens whose rank (1 = largest logit) rises most on average, counted by brute
    # force (a token's rank = 1 + how many tokens have a larger logit), 0 elsewhere
    rank_o = 1 + (lo.unsqueeze(1) > lo.unsqueeze(2)).sum(-1)
    rank_h = 1 + (lh.unsqueeze(1) > lh.unsqueeze(2)).sum(-1)
    rise = (rank_o - rank_h).double().mean(0)
    chosen = sorted(range(len(rise)), key=lambda t: (-float(rise[t]), t))[:K_TOP]
    top_bias = torch.load(tmp_path / "bias_top.pt").double()
    assert sorted(torch.nonzero(top_bias).flatten().tolist()) == sorted(chosen)
    assert torch.allclose(top_bias[chosen], b_hand[chosen], atol=1e-5)
    facts = json.loads((tmp_path / "entropy.json").read_text())
    assert facts["top_tokens"] == chosen and facts["top_k"] == K_TOP
    assert facts["entropy_top"]["1"] == pytest.approx(float(entropy_from_logits(lo + top_bias).mean()), rel=1e-5)
    # s = 1 at one position: original + b; over all positions: the hyperfitted model's mean logits
    biased = BiasProcessor(bias, 1.0)(None, lo.float())
    assert torch.allclose(biased[3].double(), lo[3] + b_hand, atol=1e-5)
    assert torch.allclose(biased.double().mean(0), lh.mean(0), atol=1e-5)
    dist = [float((BiasProcessor(bias, s)(None, lo.float()).double() - lh).norm(dim=-1).mean()) for s in (0, .5, 1)]
    assert dist[0] > dist[1] > dist[2]
    entropy = json.loads((tmp_path / "entropy.json").read_text())["entropy"]
    assert entropy["1"] == pytest.approx(float(entropy_from_logits(lo + b_hand).mean()), rel=1e-5)
    assert entropy["0"] == pytest.approx(float(entropy_from_logits(lo).mean()), rel=1e-5)
    # the bias method of the generation job, strongly biased: every token is argmax(b) (EOS is kept out)
    config = default_config()
    method = S.BIAS + "1000"
    row = {"model": "smollm2-135m", "setting": "original", "weights": "model", "method": method}
    gen_tokens = {"eval": [{"domain": "fiction", "index": i, "context": c, "reference": [1]}
                           for i, c in enumerate(CONTEXTS)], "pad_id": 0}
    got = generate_row(tmp_path, tiny_model_dir, config, row, gen_tokens, generate_spy,
                       extra_input={"bias": str(tmp_path / "bias.pt")})
    assert generate_spy[0]["do_sample"] is False
    top = b_hand.clone()
    top[EOS] = -math.inf
    assert got == [[int(top.argmax())] * N_NEW] * len(CONTEXTS)
    assert int(top.argmax()) not in {t for c in CONTEXTS for t in c}


def test_overrides_count_the_steps_off_the_originals_top1_by_brute_force(tiny_model_dir, tmp_path):
    """measure_overrides.py on continuations of different lengths (padded in one batch) against a brute force:
    each text alone through the original model, at each generated step the chosen token's rank = 1 + the tokens
    with a larger logit + those with an equal one and a lower id (EOS kept out, as the decoder keeps it out); an
    override is a step of rank > 1, counted into its rank bucket. The continuations are chosen so that some steps
    take the original's own top-1 and others a token of rank 2, 3-5 or far down. Mutations caught: followup.
    override_counts' `rank > 1` -> `rank >= 1` (every step an override); the positions shifted by one."""
    from hyperfit.modeling import load_model

    model = load_model(str(tiny_model_dir))

    def logits_of(ids):
        with torch.no_grad():
            z = model(torch.tensor([ids])).logits[0].double()
        z[:, EOS] = -math.inf
        return z

    def brute_rank(z, t):
        return 1 + int((z > z[t]).sum()) + int(((z == z[t]) & (torch.arange(len(z)) < t)).sum())

    records, wanted = [], []
    for i, (context, picks) in enumerate([([5, 17, 40, 3], [1, 1, 2, 4, 1, 300]), ([8, 21, 7], [1, 3, 1]),
                                          ([44, 2, 7, 150, 61, 9], [2, 1, 1, 1, 60])]):
        ids, generated = list(context), []
        for k in picks:  # the token of rank k at each step, continuing from the tokens chosen so far
            z = logits_of(ids)[-1]
            order = sorted(range(len(z)), key=lambda t: (-float(z[t]), t))
            generated.append(order[k - 1])
            ids.append(order[k - 1])
        z = logits_of(ids)
        ranks = [brute_rank(z[len(context) - 1 + j], generated[j]) for j in range(len(generated))]
        assert ranks == picks
        records.append({"domain": "news", "index": i, "context_ids": context, "generated_ids": generated})
        wanted.append(ranks)
    texts = tmp_path / "greedy.jsonl"
    texts.write_text("".join(json.dumps(r) + "\n" for r in records))
    out = tmp_path / "overrides.tsv"
    run_script("measure_overrides", tmp_path,
               input={"model": str(tiny_model_dir), "texts": str(texts),
                      "tokens": write_json(tmp_path / "tokens.json", {"pad_id": 0})},
               output={"table": str(out)}, params={"dtype": "float32", "batch_size": 3})
    got = pd.read_csv(out, sep="\t")
    assert got["steps"].tolist() == [len(r) for r in wanted]
    assert got["overrides"].tolist() == [sum(k > 1 for k in r) for r in wanted] == [3, 1, 2]
    assert got["rank_2"].tolist() == [1, 0, 1] and got["rank_3_5"].tolist() == [1, 1, 0]
    assert got["rank_11_100"].tolist() == [0, 0, 1] and got["rank_gt100"].tolist() == [1, 0, 0]


# ------------------------------------------------------------------------------------------ MAUVE's inputs
def test_mauve_compares_generations_with_human_continuations_cut_to_their_length(tiny_model_dir, tmp_path,
                                                                                 monkeypatch):
    """measure_mauve.py: MAUVE's p texts are the human continuations (the references) of the evaluation
    texts cut to the generated length in tokens, q the generations, both in text order (domain, index);
    the featurizer and mauve-text are replaced by recorders. Mutations caught: `it["reference"][:length]` ->
    `it["reference"]` (or `it["context"][:length]`); `mauve_score(refs[length], q, ...)` -> `mauve_score(q, q, ...)`."""
    import hyperfit.followup as followup
    from hyperfit.modeling import load_tokenizer

    tok = load_tokenizer(str(tiny_model_dir))
    refs = {("news", 0): "The minister said the government would act on the report this week.",
            ("fiction", 1): "She walked down to the river and sat by the water for a long time.",
            ("fiction", 0): "Police said the man was taken to hospital with minor injuries."}
    items = [{"domain": d, "index": i, "context": tok("Once upon a time")["input_ids"],
              "reference": tok(" " + text)["input_ids"]} for (d, i), text in refs.items()]  # not in text order
    length = 5
    gens = [{"domain": d, "index": i, "text": f"generated {d} {i}"} for (d, i) in [("fiction", 1), ("news", 0),
                                                                                   ("fiction", 0)]]
    texts_file = tmp_path / "greedy-5.jsonl"
    texts_file.write_text("".join(json.dumps(g) + "\n" for g in gens))
    featurized: list[list[str]] = []

    def features(model, tokenizer, texts, max_tokens, batch_size=8):
        featurized.append(list(texts))
        return np.arange(len(featurized) * 100, len(featurized) * 100 + len(texts))[:, None].astype(np.float32)

    compared = []
    monkeypatch.setattr(followup, "text_features", features)
    monkeypatch.setattr(followup, "mauve_score", lambda p, q, seed: compared.append((p, q)) or 0.5)
    run_script("measure_mauve", tmp_path,
               input={"tokens": write_json(tmp_path / "tokens.json", {"eval": items, "pad_id": 0}),
                      "tokenizer": str(tiny_model_dir), "featurizer": str(tiny_model_dir)},
               output={"table": str(tmp_path / "mauve.tsv")},
               params={"runs": [{"model": "m", "setting": "original", "weights": "model", "method": "greedy",
                                 "length": length, "texts": str(texts_file)}],
                       "max_tokens": 128, "seed": 0, "featurizer": "tiny", "min_tokens": None, "scale": 1})
    order = sorted(refs)  # (domain, index)
    # the oracle: each reference's first `length` tokens, decoded; a prefix of the whole human continuation
    expected = [tok.decode(tok(" " + refs[k])["input_ids"][:length]) for k in order]
    assert featurized[0] == expected
    for k, text in zip(order, expected):
        assert (" " + refs[k]).startswith(text) and len(text) < len(refs[k])
    assert featurized[1] == [f"generated {d} {i}" for d, i in order]
    (p, q), *per_domain = compared  # pooled, then fiction, news
    assert p[:, 0].tolist() == [100, 101, 102] and q[:, 0].tolist() == [200, 201, 202]  # p humans, q generations
    assert [(a[:, 0].tolist(), b[:, 0].tolist()) for a, b in per_domain] == [([100, 101], [200, 201]), ([102], [202])]
    table = pd.read_csv(tmp_path / "mauve.tsv", sep="\t")
    assert table["mauve"].tolist() == table["mauve_fiction"].tolist() == table["mauve_news"].tolist() == [0.5]


# ------------------------------------------------------------------------------------------ per-layer statistics
@pytest.mark.parametrize("skip_first", [False, True])
def test_layer_statistics_do_not_see_padding(tiny_model_dir, tmp_path, skip_first):
    """measure_layers.py on texts of different lengths (padded in a batch of 3) equals the statistics of every
    text run alone, computed here with numpy: the participation ratio from the eigenvalues of np.cov, the
    mean L2 distance and cosine similarity position by position; the rows are the embeddings, every block's
    output (the last one read at the final norm's input, by a hook here) and the output after the final norm;
    with skip_first_position each text's first position is left out. Mutations caught: followup.hidden_states'
    `valid = mask.bool()` -> all positions (`torch.ones_like(mask).bool()`); participation_ratio without
    centring; the pre-norm row taken after the norm; the first position kept when it should be skipped."""
    run_dir = tmp_path / "run"
    perturbed_copy(tiny_model_dir, run_dir / "model", scale=0.2)
    from hyperfit.modeling import load_model

    def table(batch_size: int) -> pd.DataFrame:
        out = tmp_path / f"layers-{batch_size}.tsv"
        run_script("measure_layers", tmp_path,
                   input={"tokens": write_json(tmp_path / "tokens.json", {"eval": ITEMS, "pad_id": 0}),
                          "model": str(tiny_model_dir), "run": str(run_dir)},
                   output={"table": str(out)},
                   params={"dtype": "float32", "batch_size": batch_size, "skip_first_position": skip_first})
        return pd.read_csv(out, sep="\t")

    batched, one_by_one = table(3), table(1)
    pd.testing.assert_frame_equal(batched, one_by_one, rtol=1e-4)

    def states(model):
        per_text = []
        for it in ITEMS:
            seen = []
            hook = model.model.norm.register_forward_hook(lambda mod, args, out: seen.append(args[0]))
            with torch.no_grad():
                h = model(torch.tensor([it["context"] + it["reference"]]), output_hidden_states=True).hidden_states
            hook.remove()
            per_text.append([*h[:-1], seen[0], h[-1]])
        first = 1 if skip_first else 0
        return [np.concatenate([t[row][0, first:].double().numpy() for t in per_text])
                for row in range(len(per_text[0]))]

    def ratio(x):
        eig = np.linalg.eigvalsh(np.cov(x, rowvar=False))
        return eig.sum() ** 2 / (eig ** 2).sum()

    def cosine(x, y):
        return float(((x * y).sum(1) / np.linalg.norm(x, axis=1) / np.linalg.norm(y, axis=1)).mean())

    a, b = states(load_model(str(tiny_model_dir))), states(load_model(str(run_dir / "model")))
    layers = 2  # the tiny model's blocks: embeddings, block 1, block 2 before the norm, block 2 after it
    assert len(a) == len(batched) == layers + 2
    assert batched["layer"].tolist() == [0, 1, 2, 2]
    assert batched["stage"].tolist() == ["embeddings", "block output", "block output", "after the final norm"]
    positions = sum(len(it["context"]) + len(it["reference"]) - skip_first for it in ITEMS)
    assert a[0].shape[0] == positions and set(batched["positions"]) == {positions}
    assert not np.allclose(a[2], a[3])  # the norm changes the states: the pre-norm row is its own
    assert batched["effective_dim_original"].tolist() == pytest.approx([ratio(x) for x in a], rel=1e-4)
    assert batched["effective_dim_hyperfitted"].tolist() == pytest.approx([ratio(x) for x in b], rel=1e-4)
    assert batched["l2_distance"].tolist() == pytest.approx(
        [float(np.linalg.norm(x - y, axis=1).mean()) for x, y in zip(a, b)], rel=1e-4)
    assert batched["cosine_similarity"].tolist() == pytest.approx([cosine(x, y) for x, y in zip(a, b)], rel=1e-4)


# ------------------------------------------------------------------------------------------ statistics
def test_table1_statistics_pair_the_texts(tmp_path):
    """table1_statistics (what make_table1 calls) on 12 texts whose TTR spreads widely between texts while the
    hyperfitted model adds a near-constant 0.02 to each: the paired permutation test gives a tiny p and a
    narrow interval around 0.02, where an unpaired test (scipy's Welch t-test, the oracle of what pairing
    must not give) finds nothing. The two tables list the texts in different orders: pairing is by text.
    Mutations caught: stats.paired_difference's `permutation_type="samples"` -> `"independent"`; tables.text_values
    without its sort (rows paired by file order)."""
    from scipy import stats as sps

    from hyperfit.tables import table1, table1_statistics

    rng = np.random.default_rng(0)
    base = rng.uniform(0.2, 0.9, 12)
    shift = 0.02 + rng.normal(0, 0.002, 12)
    keys = [("fiction", i) for i in range(6)] + [("wiki", i) for i in range(6)]

    def text_table(values, order):
        return pd.DataFrame([{"domain": keys[j][0], "index": keys[j][1], "ttr": values[j], "ttr_full": values[j]}
                             for j in order])

    text_tables = {("m", "original", "greedy", 96): text_table(base, range(12)),
                   ("m", "hyperfitted", "greedy", 96): text_table(base + shift, rng.permutation(12))}
    scores = pd.DataFrame({"domain": [k[0] for k in keys], "index": [k[1] for k in keys], "n": 10,
                           "nll_sum": rng.uniform(20, 30, 12), "entropy_sum": rng.uniform(10, 20, 12)})
    score_tables = {("m", "original"): scores, ("m", "hyperfitted"): scores}
    t = table1_statistics(table1(text_tables, score_tables, {"greedy": {"do_sample": False}}), text_tables,
                          score_tables, seed=0)
    row = t[t["variant"] == "hyperfitted"].iloc[0]
    assert row["ttr_vs"] == "original greedy"
    assert row["ttr_diff"] == pytest.approx(shift.mean())
    assert row["ttr_diff_p"] < 0.01
    assert sps.ttest_ind(base + shift, base, equal_var=False).pvalue > 0.5
    assert row["ttr_diff_ci_low"] > 0.015 and row["ttr_diff_ci_high"] < 0.025


# ------------------------------------------------------------------------------------------ early stopping
def test_validation_loss_that_only_rises_keeps_the_initial_weights(tiny_model_dir, tmp_path, monkeypatch):
    """hyperfit() with best_dir, when the validation loss rises after every epoch (the monitor's val_loss
    replaced by 1 + epoch; everything else measured as usual): the early-stopped weights are the weights before
    training (epoch 0 is the best epoch), and the final weights differ from them. Mutations caught:
    training.keep_if_best not called for the epoch-0 row; its `<` flipped to `>` (the last epoch kept)."""
    import hyperfit.training as training
    from transformers import AutoModelForCausalLM

    from hyperfit.modeling import load_model, load_tokenizer

    real = training.monitor
    epochs = iter(range(100))

    def rising(*args, **kwargs):
        return {**real(*args, **kwargs), "val_loss": 1.0 + next(epochs)}

    monkeypatch.setattr(training, "monitor", rising)
    tok = load_tokenizer(str(tiny_model_dir))
    texts = ["the cat sat on the mat and looked at the dog", "a bird flew over the house in the morning"]
    train = [tok(t)["input_ids"][:8] for t in texts]
    items = [{"domain": "d", "index": 0, "context": train[0][:4], "reference": train[0][4:]}]
    settings = dict(epochs=3, batch_size=2, lr=3e-3, weight_decay=0.0, seed=0, shuffle=True, eval_batch_size=4,
                    monitor_new_tokens=0, ttr_window=8, keep_checkpoint=False)
    hist = training.hyperfit(load_model(str(tiny_model_dir), for_training=True), tok, train, items, settings,
                             str(tmp_path / "full"), str(tmp_path / "ck"), log=lambda *_: None,
                             best_dir=str(tmp_path / "best"))
    assert [r["val_loss"] for r in hist] == [1.0, 2.0, 3.0, 4.0]
    initial = AutoModelForCausalLM.from_pretrained(tiny_model_dir).state_dict()
    best = AutoModelForCausalLM.from_pretrained(tmp_path / "best").state_dict()
    final = AutoModelForCausalLM.from_pretrained(tmp_path / "full").state_dict()
    assert all(torch.equal(best[k], v) for k, v in initial.items())
    assert not all(torch.equal(final[k], v) for k, v in initial.items())


def test_validation_loss_is_the_token_pooled_mean_nll(tiny_model_dir):
    """training.monitor (Figure 2's history and the early-stopping criterion): val_loss is the mean negative
    log-likelihood over all predicted tokens of the validation texts, pooled, and val_ppl its exp; the oracle is
    transformers' own loss (labels = inputs) of each text alone, weighted by its predicted tokens. Texts of
    different lengths, so a per-text mean differs. Mutation caught: `val_loss = sum(nll) / n` -> `/ len(s)`
    (the mean over texts of summed NLL), which the early-stopping tests cannot see (it rescales every epoch)."""
    from hyperfit.modeling import load_model
    from hyperfit.training import monitor

    model = load_model(str(tiny_model_dir))
    settings = dict(eval_batch_size=2, monitor_new_tokens=0, ttr_window=4)
    got = monitor(model, [[5, 6, 7, 8]], ITEMS, settings, 0, train_loss=1.5)
    total = tokens = 0
    with torch.no_grad():
        for it in ITEMS:
            ids = torch.tensor([it["context"] + it["reference"]])
            total += float(model(ids, labels=ids).loss) * (ids.shape[1] - 1)
            tokens += ids.shape[1] - 1
    assert got["val_loss"] == pytest.approx(total / tokens, rel=1e-5)
    assert got["val_ppl"] == pytest.approx(math.exp(total / tokens), rel=1e-5)
    assert got["train_loss"] == 1.5


# ------------------------------------------------------------------------------------------ leakage
def test_identical_text_in_two_documents_is_caught():
    """Two documents of the same text (a book and its reprint in another corpus, or in the same one): no span
    overlaps, so only the text-containment check of data.check_disjoint can see that an evaluation text repeats
    a training window. At the data step (select_passages: the whole book as training windows, the reprint as
    an evaluation domain) and on a hand-made selection (training windows of one document, evaluation texts of
    the other). Mutations caught: that check removed; `s["text"] in t` -> `s["text"] == t` (a 10-word
    evaluation text inside a 40-word window)."""
    from hyperfit.data import check_disjoint, passage_slots, select_passages
    from hyperfit.errors import UserError

    book = " ".join(f"w{i}" for i in range(400))
    with pytest.raises(UserError, match="repeats a training window's text"):
        select_passages({"fic": [{"id": "book", "text": book}], "news": [{"id": "reprint", "text": book}]},
                        "fic", 10, 40, ["news"], 4, 10, 0)
    select_passages({"fic": [{"id": "book", "text": book}], "news": [{"id": "n", "text": book.replace("w", "v")}]},
                    "fic", 10, 40, ["news"], 4, 10, 0)  # different text passes
    train = passage_slots("book", book, 40)[2:4]
    evaluation = passage_slots("reprint", book, 10)[9:10]  # words 90-99: inside the window of words 80-119
    with pytest.raises(UserError, match="repeats a training window's text"):
        check_disjoint({"train_domain": "fic", "train": train, "eval": {"fic": evaluation}})
    check_disjoint({"train_domain": "fic", "train": train, "eval": {"fic": passage_slots("reprint", book, 10)[:8]}})


@pytest.mark.parametrize("case", ["straddling", "rewrapped"])
@pytest.mark.xfail(strict=True, reason="finding: data.check_disjoint tests whole-passage containment of exact text; "
                   "an evaluation text straddling two training windows, or the same words wrapped with other "
                   "whitespace, passes it (a word n-gram check would catch both)")
def test_repeated_words_the_containment_check_misses(case):
    """The gap in the leakage check, kept visible: the same 10 words as training text, not caught."""
    from hyperfit.data import check_disjoint, passage_slots
    from hyperfit.errors import UserError

    book = " ".join(f"w{i}" for i in range(400))
    train = passage_slots("book", book, 40)[:2]  # words 0-79
    if case == "straddling":  # a reprint with a one-word title: its words 40-49 are the book's 39-48
        evaluation, words = passage_slots("reprint", "Title " + book, 10)[4:5], book.split()[39:49]
    else:  # the same text with line breaks where the book has spaces
        evaluation, words = passage_slots("reprint", book.replace(" ", "\n"), 10)[1:2], book.split()[10:20]
    assert evaluation[0]["text"].split() == words  # not what fails: the check below does not raise
    with pytest.raises(UserError):
        check_disjoint({"train_domain": "fic", "train": train, "eval": {"fic": evaluation}})
