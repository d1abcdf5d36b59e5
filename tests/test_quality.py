"""Quality beside diversity (hyperfit.quality) and MAUVE per domain, each against an oracle that shares no code with
it: the scorer's perplexity recomputed token by token from a tiny model's logits without padding or batching (a
log-sum-exp in plain Python) with the continuation's tokens found by decoding prefixes; cosine similarity by hand
with numpy on each text run alone; per-domain MAUVE as pooled MAUVE on that domain's subset; the table columns from
hand-made per-text tables.

Every test names, in its docstring, the one-line change it was seen to catch (mutation made by hand, the test run
and seen to fail, the change reverted)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hyperfit.errors import UserError
from hyperfit.followup import mauve_by_domain, mauve_score
from hyperfit.modeling import load_model, load_tokenizer
from hyperfit.quality import (coherence, continuation_positions, human_values, quality_values, scorer_nll,
                              sentence_embeddings, split_text)

PAIRS = [("The minister said the government", " would act on the report this week."),
         ("Police said the man was taken to ho", "spital with minor injuries on Sunday."),  # a word cut in two
         ("She walked down to the river", " and sat by the water for a long, long time, and the water ran on.")]


@pytest.fixture(scope="module")
def tiny_bert_dir(tmp_path_factory) -> Path:
    from rehearsal.build import fill_bert

    path = tmp_path_factory.mktemp("bert") / "tiny-bert"
    fill_bert(path)
    return path


def brute_force_nll(model, tok, prompt: str, continuation: str) -> tuple[float, int]:
    """Summed NLL (nats) of the continuation's tokens: the tokens of the whole text whose decoded prefix first
    passes the prompt's length, each predicted from the ids before it alone (no padding, no batch), log-softmax as
    a plain-Python log-sum-exp over float64 logits."""
    ids = tok(prompt + continuation)["input_ids"]
    total, count = 0.0, 0
    for j in range(1, len(ids)):
        if len(tok.decode(ids[:j + 1])) <= len(prompt):
            continue  # this token ends inside the prompt
        with torch.no_grad():
            logits = model(torch.tensor([ids[:j]])).logits[0, -1].double().tolist()
        top = max(logits)
        lse = top + math.log(sum(math.exp(v - top) for v in logits))
        total += lse - logits[ids[j]]
        count += 1
    return total, count


def test_scorer_perplexity_against_a_token_by_token_recomputation(tiny_model_dir):
    """scorer_nll on a batch of 3 texts of different lengths (right-padded, batch_size 2) equals the brute-force
    NLL of each text alone, scored on the continuation's tokens only; a token straddling the boundary (a word cut in
    two) is the continuation's. Mutations caught: `end > boundary` -> `end >= boundary` (one prompt token more);
    scoring every token (`j > 0` alone); `logits[i, pos - 1]` -> `logits[i, pos]` (the next position's logits)."""
    model, tok = load_model(str(tiny_model_dir)), load_tokenizer(str(tiny_model_dir))
    got = scorer_nll(model, tok, PAIRS, batch_size=2)
    for (prompt, cont), g in zip(PAIRS, got):
        nll, n = brute_force_nll(model, tok, prompt, cont)
        assert g["tokens"] == n and n > 0
        assert g["nll_sum"] == pytest.approx(nll, rel=1e-6)
        assert g["ppl"] == pytest.approx(math.exp(nll / n), rel=1e-6)
    # the second text has a token that holds the prompt's last characters and the continuation's first
    prompt, _ = PAIRS[1]
    whole = tok(prompt + PAIRS[1][1])["input_ids"]
    ends = [len(tok.decode(whole[:j + 1])) for j in range(len(whole))]
    assert any(a < len(prompt) < b for a, b in zip(ends, ends[1:]))


def test_continuation_positions_by_hand():
    """Offsets (0, 0) (a special token) never count; token 0 never (nothing predicts it); a span ending past the
    boundary does. Mutation caught: `end > boundary` -> `end >= boundary`."""
    offsets = [(0, 0), (0, 3), (3, 7), (7, 9), (9, 12), (0, 0)]
    assert continuation_positions(offsets, 7) == [3, 4]
    assert continuation_positions(offsets, 8) == [3, 4]  # (7, 9) straddles: the continuation's
    assert continuation_positions([(0, 4), (4, 6)], 0) == [1]


def test_split_text_keeps_the_generators_spacing(tiny_model_dir):
    """The prompt and continuation decoded together: their concatenation is decode(context + continuation), the
    prompt is decode(context). Mutation caught: `return prompt, full[len(prompt):]` -> `return prompt,
    tokenizer.decode(continuation_ids).strip()`."""
    tok = load_tokenizer(str(tiny_model_dir))
    context, cont = tok("The minister said")["input_ids"], tok(" the government would act")["input_ids"]
    prompt, text = split_text(tok, context, cont)
    assert prompt == "The minister said" and text == " the government would act"
    assert prompt + text == tok.decode(context + cont)


def cosine(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_coherence_mean_pooling_by_hand(tiny_model_dir):
    """Mean pooling (the offline stand-in) of a causal LM's final hidden states: each text run alone, the mean of
    its hidden states (after the final norm) by numpy, the cosine by hand; batched with padding (batch_size 2) it is
    the same. Mutations caught: padded positions summed too (`(h * m).sum(1)` -> `h.sum(1)`), or the mean over every position (`/ m.sum(1)` ->
    `/ h.shape[1]`); the cosine
    of the prompt with itself (`conts` -> `prompts`); no whitespace stripping (the tiny tokenizer gives a space its
    own token)."""
    from hyperfit.quality import load_encoder

    enc, tok = load_encoder(str(tiny_model_dir))
    lm = load_model(str(tiny_model_dir))
    got = coherence(enc, tok, PAIRS, "mean", max_tokens=64, batch_size=2)

    def embed(text):
        ids = tok(text.strip())["input_ids"][:64]
        with torch.no_grad():
            h = lm(torch.tensor([ids]), output_hidden_states=True).hidden_states[-1][0].double().numpy()
        return h.mean(0)

    want = [cosine(embed(p), embed(c)) for p, c in PAIRS]
    assert got == pytest.approx(want, abs=1e-6)
    texts = [c for _, c in PAIRS]  # the embeddings themselves (a cosine is blind to a common scale)
    emb = sentence_embeddings(enc, tok, [t.strip() for t in texts], "mean", 64, batch_size=2).numpy()
    assert np.allclose(emb, [embed(t) for t in texts], atol=1e-6)
    assert all(-1 <= v <= 1 for v in got) and len(set(np.round(got, 6))) == 3


def test_coherence_pooler_and_truncation_by_hand(tiny_bert_dir):
    """SimCSE's encoding: the pooler output, tanh(W h_[CLS] + b), computed here with numpy from the model's pooler
    weights and the [CLS] state of each text run alone, cut to max_tokens tokens ([CLS] and [SEP] included, as the
    tool's truncation). Mutations caught: the [CLS] state without the pooler (`pooled = res.last_hidden_state[:, 0]`);
    truncation off (`truncation=False`, no max_length)."""
    from hyperfit.quality import load_encoder

    enc, tok = load_encoder(str(tiny_bert_dir))
    max_tokens = 8
    got = coherence(enc, tok, PAIRS, "pooler", max_tokens=max_tokens, batch_size=2)
    w = enc.pooler.dense.weight.detach().double().numpy()
    b = enc.pooler.dense.bias.detach().double().numpy()

    def embed(text):
        ids = tok(text.strip())["input_ids"]
        ids = ids[:max_tokens - 1] + [ids[-1]]  # the tool keeps [SEP] at the end of a truncated text
        with torch.no_grad():
            cls = enc(input_ids=torch.tensor([ids])).last_hidden_state[0, 0].double().numpy()
        return np.tanh(w @ cls + b)

    assert len(tok(PAIRS[2][1].strip())["input_ids"]) > max_tokens  # truncation matters here
    assert got == pytest.approx([cosine(embed(p), embed(c)) for p, c in PAIRS], abs=1e-6)
    # the embeddings themselves: a random tiny BERT gives nearly parallel vectors, so cosines alone tell little
    texts = [t.strip() for pair in PAIRS for t in pair]
    emb = sentence_embeddings(enc, tok, texts, "pooler", max_tokens, batch_size=2).numpy()
    assert np.allclose(emb, [embed(t) for t in texts], atol=1e-6)
    with pytest.raises(ValueError, match="pooler"):  # a causal LM has no pooler output
        sentence_embeddings(load_model_as_encoder_without_pooler(), tok, ["a"], "pooler", 8)


def load_model_as_encoder_without_pooler():
    from transformers import BertConfig, BertModel

    return BertModel(BertConfig(vocab_size=400, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                                intermediate_size=8), add_pooling_layer=False)


# ------------------------------------------------------------------------------------------ MAUVE per domain
def test_mauve_per_domain_is_mauve_on_that_domains_pairs():
    """mauve_by_domain: pooled = mauve_score on every pair; mauve_<d> = mauve_score on domain d's pairs alone; with
    min_tokens only the pairs whose two texts both reach it; every value x scale. Mutations caught: per-domain values
    on all pairs (`rows` ignored); `and` -> `or` in the min_tokens filter; the scale left out."""
    rng = np.random.default_rng(0)
    n = 60
    domains = ["fiction"] * 20 + ["news"] * 20 + ["wiki"] * 20
    p = rng.standard_normal((n, 6)).astype(np.float32)
    q = p + np.where(np.array(domains)[:, None] == "news", 3.0, 0.05) * rng.standard_normal((n, 6)).astype(np.float32)
    got = mauve_by_domain(p, q, domains, seed=0)
    assert got["mauve"] == mauve_score(p, q, seed=0) and got["pairs"] == n
    assert mauve_by_domain(p, q, domains, seed=0, scale=100)["mauve"] == pytest.approx(100 * got["mauve"])
    for d in ("fiction", "news", "wiki"):
        idx = [i for i, x in enumerate(domains) if x == d]
        assert got[f"mauve_{d}"] == mauve_score(p[idx], q[idx], seed=0)
    assert got["mauve_news"] < got["mauve_fiction"]  # the news generations were moved away from the humans'
    p_tok = [130] * n
    q_tok = [200 if i % 3 else 100 for i in range(n)]  # every third generated text is short
    p_tok[1] = 50  # and one human continuation
    kept = [i for i in range(n) if p_tok[i] >= 128 and q_tok[i] >= 128]
    scaled = mauve_by_domain(p, q, domains, 0, p_tok, q_tok, min_tokens=128, scale=100)
    assert scaled["pairs"] == len(kept) == 39
    assert scaled["mauve"] == pytest.approx(100 * mauve_score(p[kept], q[kept], seed=0))
    wiki = [i for i in kept if domains[i] == "wiki"]
    assert scaled["mauve_wiki"] == pytest.approx(100 * mauve_score(p[wiki], q[wiki], seed=0))
    assert math.isnan(mauve_by_domain(p[:3], q[:3], ["a", "b", "b"], 0)["mauve_a"])  # one pair: undefined


# ------------------------------------------------------------------------------------------ table columns
def quality_frame(nll, tokens, coh, domain="fiction"):
    return pd.DataFrame({"domain": [domain] * len(nll), "index": list(range(len(nll)))[::-1], "scorer_tokens": tokens,
                         "scorer_nll_sum": nll, "scorer_ppl": [math.exp(a / b) for a, b in zip(nll, tokens)],
                         "coherence": coh})


def test_quality_values_pool_tokens_and_average_coherence():
    """scorer_ppl = exp(sum of NLL / sum of tokens) over the texts (not the mean of per-text perplexities);
    coherence the mean over texts; intervals contain the estimates. Mutations caught: `exp(mean of nll / tokens)`
    per text averaged; coherence's interval over scorer_ppl's column."""
    df = quality_frame([10.0, 40.0, 6.0], [5, 10, 6], [0.2, 0.5, 0.8])
    v = quality_values(df, seed=0)
    assert v["scorer_ppl"] == pytest.approx(math.exp(56 / 21))
    assert v["scorer_ppl"] != pytest.approx(np.mean([math.exp(2), math.exp(4), math.exp(1)]))
    assert v["coherence"] == pytest.approx(0.5)
    assert v["scorer_ppl_ci_low"] <= v["scorer_ppl"] <= v["scorer_ppl_ci_high"]
    assert 0.2 - 1e-12 <= v["coherence_ci_low"] <= 0.5 <= v["coherence_ci_high"] <= 0.8 + 1e-12
    h = human_values(df, seed=0)
    assert set(h) == {"scorer_ppl_human", "scorer_ppl_human_ci_low", "scorer_ppl_human_ci_high", "coherence_human",
                      "coherence_human_ci_low", "coherence_human_ci_high"}


def test_table1_quality_columns_leave_the_existing_ones_alone():
    from hyperfit.tables import table1_quality

    table = pd.DataFrame({"model": ["m", "m"], "variant": ["original", "hyperfitted"], "decoding": ["greedy"] * 2,
                          "length": [4, 4], "ttr": [0.3, 0.6], "mauve": [0.9, 0.8]})
    q = {("m", "original", "greedy", 4): quality_frame([4.0, 8.0], [4, 4], [0.1, 0.3]),
         ("m", "hyperfitted", "greedy", 4): quality_frame([8.0, 8.0], [4, 4], [0.5, 0.7])}
    human = {("m", 4): quality_frame([2.0, 2.0], [4, 4], [0.9, 0.9])}
    mauve = {("m", "original", "greedy", 4): {"mauve": 0.9, "pairs": 2, "mauve_fiction": 0.9},
             ("m", "hyperfitted", "greedy", 4): {"mauve": 0.8, "pairs": 2, "mauve_fiction": 0.8}}
    out = table1_quality(table, q, human, mauve, seed=0)
    assert out[list(table.columns)].equals(table)
    assert out["scorer_ppl"].tolist() == pytest.approx([math.exp(12 / 8), math.exp(2.0)])
    assert out["coherence"].tolist() == pytest.approx([0.2, 0.6])
    assert out["scorer_ppl_human"].tolist() == pytest.approx([math.exp(0.5)] * 2)
    assert out["mauve_fiction"].tolist() == [0.9, 0.8] and out["mauve_pairs"].tolist() == [2, 2]


def test_text_bootstrap_of_several_seeds_pools_their_tokens():
    """quality_text_statistics: per text, the seeds' NLL and tokens summed (scorer_ppl) and coherence averaged,
    then the bootstrap over texts; with texts that do not vary the interval is the value itself."""
    from hyperfit.sweeptables import quality_text_statistics

    table = pd.DataFrame({"model": ["m"], "method": ["x"]})
    a = quality_frame([2.0, 2.0], [2, 2], [0.4, 0.4])
    b = quality_frame([6.0, 6.0], [2, 2], [0.6, 0.6])
    out = quality_text_statistics(table, {("m", "x"): [a, b]}, ["model", "method"], "text", seed=0)
    assert out["scorer_ppl_text_ci_low"].iloc[0] == pytest.approx(math.exp(2.0))
    assert out["scorer_ppl_text_ci_high"].iloc[0] == pytest.approx(math.exp(2.0))
    assert out["coherence_text_ci_low"].iloc[0] == pytest.approx(0.5)


def test_measure_quality_scores_each_file_and_the_human_continuations_cut_to_each_length(tiny_model_dir, tmp_path,
                                                                                         monkeypatch):
    """measure_quality.py for one model and table: each generation file's generated ids after their context ids,
    then the human continuations (the references) of the evaluation texts cut to each of the files' lengths in the
    generator's tokens, each after its own context, in text order, one file at a time; QualityTables gives back
    each file's rows alone. Mutation caught: `it["reference"][:length]` -> `it["reference"]`."""
    import hyperfit.quality as quality
    from hyperfit.quality import HUMAN, QualityTables
    from test_definitions_in_use import run_script, write_json

    tok = load_tokenizer(str(tiny_model_dir))
    items = [{"domain": d, "index": i, "context": tok(f"Context {d} {i} says")["input_ids"],
              "reference": tok(" the minister would act on the report this week and more")["input_ids"]}
             for d, i in [("news", 0), ("fiction", 1), ("fiction", 0)]]
    seen = []

    def rows(records, *args, **kwargs):
        seen.append(records)
        return [{"domain": r["domain"], "index": r["index"], "scorer_tokens": 1, "scorer_nll_sum": 1.0,
                 "scorer_ppl": math.e, "coherence": 0.1 * len(seen)} for r in records]

    monkeypatch.setattr(quality, "quality_rows", rows)
    files = {}
    for name, ids, length in (("greedy-3", [40, 41, 42], 3), ("top_p-4", [50, 51, 52, 53], 4),
                              ("greedy-4", [60, 61, 62, 63], 4)):
        files[name] = tmp_path / f"{name}.jsonl"
        files[name].write_text("".join(json.dumps({"domain": it["domain"], "index": it["index"],
                                                   "context_ids": it["context"], "generated_ids": ids}) + "\n"
                                       for it in items))
    runs = [{"texts": str(files[n]), "length": int(n[-1])} for n in ("greedy-3", "top_p-4", "greedy-4")]
    params = {"runs": runs, "quality": {"scorer": {"dtype": "float32"},
                                        "coherence": {"pooling": "mean", "max_tokens": 16}, "batch_size": 2}}
    inputs = {"texts": [r["texts"] for r in runs], "tokens": write_json(tmp_path / "tokens.json",
                                                                        {"eval": items, "pad_id": 0}),
              "tokenizer": str(tiny_model_dir), "scorer": str(tiny_model_dir), "coherence": str(tiny_model_dir)}
    out = tmp_path / "quality_table1.tsv"
    run_script("measure_quality", tmp_path, input=inputs, output={"table": str(out)}, params=params,
               wildcards={"model": "tiny", "table": "table1"})
    order = sorted(items, key=lambda it: (it["domain"], it["index"]))
    assert len(seen) == 3 + 2  # each file, then the human continuations at 3 and at 4 tokens, one call each
    for records, ids in zip(seen, ([40, 41, 42], [50, 51, 52, 53], [60, 61, 62, 63])):
        assert [r["prompt"] + r["continuation"] for r in records] == [tok.decode(it["context"] + ids) for it in order]
    for records, length in zip(seen[3:], (3, 4)):
        assert [(r["domain"], r["index"]) for r in records] == [("fiction", 0), ("fiction", 1), ("news", 0)]
        for r, it in zip(records, order):
            assert r["prompt"] == tok.decode(it["context"])
            assert r["prompt"] + r["continuation"] == tok.decode(it["context"] + it["reference"][:length])
    measured = QualityTables([out])
    for i, r in enumerate(runs):
        part = measured.texts(r["texts"])
        assert list(part.columns) == ["domain", "index", "scorer_tokens", "scorer_nll_sum", "scorer_ppl", "coherence"]
        assert part["coherence"].tolist() == pytest.approx([0.1 * (i + 1)] * 3)
    assert measured.human("tiny", 4)["coherence"].tolist() == pytest.approx([0.5] * 3)
    assert set(pd.read_csv(out, sep="\t")["texts"]) == {*(r["texts"] for r in runs), HUMAN}
    with pytest.raises(UserError, match="no quality rows for tiny's human continuations of 5 tokens"):
        measured.human("tiny", 5)
