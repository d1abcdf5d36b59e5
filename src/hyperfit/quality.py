"""Quality beside diversity: measures that can rank decodings where TTR rewards any text that avoids repeats.

- Scorer perplexity: the continuation's perplexity under a scorer model (quality.scorer) that is not the generator,
  teacher-forced on prompt + continuation. The scorer re-tokenises the decoded text with its own tokenizer (its
  vocabulary may differ from the generator's); the tokens scored are those that hold a character of the
  continuation (a scorer token that straddles the boundary, when the context ended inside a word, counts as the
  continuation's), each predicted from everything before it, prompt included. Per text: the summed negative
  log-likelihood (nats) and the number of those tokens; perplexity = exp(sum / count). Tables pool the tokens of
  all texts, as perplexity is pooled elsewhere.
- Coherence (Su & Collier 2022, "Contrastive Search Is What You Need for Neural Text Generation"; the contrastive-
  search papers compute it with SimCSE's tool and princeton-nlp/sup-simcse-bert-base-uncased): the cosine of the
  sentence embeddings of the prompt and of the continuation. Embeddings: the encoder's pooler output ([CLS]
  through SimCSE's trained MLP, which its Hugging Face checkpoints keep as BERT's pooler; what the tool encodes) or
  the mean of the final hidden states over the text's tokens (the offline stand-in); each text cut to max_tokens
  encoder tokens, as the tool does (128).
"""
from __future__ import annotations

import math


def split_text(tokenizer, context_ids: list[int], continuation_ids: list[int]) -> tuple[str, str]:
    """The prompt and the continuation as text, decoded together so that the spacing between them is the one the
    generator produced: prompt = decode(context), continuation = the rest of decode(context + continuation)
    (where a token's text changes at the boundary, the longest common prefix is the prompt)."""
    prompt = tokenizer.decode(context_ids)
    full = tokenizer.decode(list(context_ids) + list(continuation_ids))
    if full.startswith(prompt):
        return prompt, full[len(prompt):]
    cut = 0
    while cut < min(len(prompt), len(full)) and prompt[cut] == full[cut]:
        cut += 1
    return full[:cut], full[cut:]


def continuation_positions(offsets: list[tuple[int, int]], boundary: int) -> list[int]:
    """Indices of the tokens that hold a character at or after `boundary` (the continuation's first character):
    those whose character span ends past it. Token 0 is never one (nothing before it predicts it); special tokens
    (span (0, 0)) never are."""
    return [j for j, (_, end) in enumerate(offsets) if j > 0 and end > boundary]


def scorer_nll(model, tokenizer, pairs: list[tuple[str, str]], batch_size: int = 8) -> list[dict]:
    """Per (prompt, continuation): the scorer's summed negative log-likelihood (nats) of the continuation's tokens,
    teacher-forced on prompt + continuation, their count and the perplexity exp(nll / tokens) (NaN for a
    continuation without tokens). Float64 log-softmax over the vocabulary at the scored positions."""
    import torch

    from .metrics import right_padded

    if not getattr(tokenizer, "is_fast", False):
        raise ValueError("quality.scorer: its tokenizer has no fast version, whose character offsets decide which "
                         "tokens are the continuation's: give a model with a tokenizer.json")
    encoded = []
    for prompt, continuation in pairs:
        enc = tokenizer(prompt + continuation, return_offsets_mapping=True)
        encoded.append((enc["input_ids"], continuation_positions(enc["offset_mapping"], len(prompt))))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    out = []
    model.eval()
    for b in range(0, len(encoded), batch_size):
        batch = encoded[b:b + batch_size]
        ids, mask = right_padded([e[0] for e in batch], pad, model)
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=mask).logits
        for i, (seq, positions) in enumerate(batch):
            if not positions:
                out.append({"tokens": 0, "nll_sum": 0.0, "ppl": math.nan})
                continue
            pos = torch.tensor(positions, device=logits.device)
            logp = torch.log_softmax(logits[i, pos - 1].double(), dim=-1)
            target = torch.tensor([seq[j] for j in positions], device=logits.device)
            nll = float(-logp.gather(-1, target.unsqueeze(-1)).sum())
            out.append({"tokens": len(positions), "nll_sum": nll, "ppl": math.exp(nll / len(positions))})
    return out


def sentence_embeddings(model, tokenizer, texts: list[str], pooling: str, max_tokens: int, batch_size: int = 8):
    """One embedding per text (a float64 torch tensor, texts x hidden): `pooler` the model's pooler output,
    `mean` the mean of the final hidden states over the text's tokens (padding left out); texts cut to
    `max_tokens` tokens of the encoder's tokenizer."""
    import torch

    if pooling not in ("mean", "pooler"):
        raise ValueError(f"quality.coherence.pooling: unknown pooling {pooling!r} (mean or pooler)")
    dev = next(model.parameters()).device
    tokenizer.padding_side = "right"  # a causal encoder's positions must not shift with the padding
    out = []
    model.eval()
    for b in range(0, len(texts), batch_size):
        enc = tokenizer(texts[b:b + batch_size], padding=True, truncation=True, max_length=max_tokens,
                        return_tensors="pt")
        enc = {k: v.to(dev) for k, v in enc.items()}
        with torch.no_grad():
            res = model(**enc, output_hidden_states=pooling == "mean")
        if pooling == "pooler":
            pooled = getattr(res, "pooler_output", None)
            if pooled is None:
                raise ValueError("quality.coherence.pooling: pooler, but the encoder has no pooler output (a "
                                 "causal LM): use pooling: mean")
            out.append(pooled.double().cpu())
        else:
            h = (res.last_hidden_state if getattr(res, "last_hidden_state", None) is not None
                 else res.hidden_states[-1]).double()
            m = enc["attention_mask"].unsqueeze(-1).double()
            out.append(((h * m).sum(1) / m.sum(1)).cpu())
    return torch.cat(out)


def coherence(model, tokenizer, pairs: list[tuple[str, str]], pooling: str, max_tokens: int,
              batch_size: int = 8) -> list[float]:
    """Per (prompt, continuation): the cosine of their sentence embeddings (each text stripped of surrounding
    whitespace)."""
    import torch

    prompts = sentence_embeddings(model, tokenizer, [p.strip() for p, _ in pairs], pooling, max_tokens, batch_size)
    conts = sentence_embeddings(model, tokenizer, [c.strip() for _, c in pairs], pooling, max_tokens, batch_size)
    return torch.nn.functional.cosine_similarity(prompts, conts, dim=-1).tolist()


def quality_rows(records: list[dict], scorer, scorer_tok, encoder, encoder_tok, pooling: str, max_tokens: int,
                 batch_size: int = 8) -> list[dict]:
    """The per-text table of one set of continuations: `records` with domain, index, prompt and continuation
    (text); columns domain, index, scorer_tokens, scorer_nll_sum, scorer_ppl, coherence."""
    pairs = [(r["prompt"], r["continuation"]) for r in records]
    nll = scorer_nll(scorer, scorer_tok, pairs, batch_size)
    coh = coherence(encoder, encoder_tok, pairs, pooling, max_tokens, batch_size)
    return [{"domain": r["domain"], "index": r["index"], "scorer_tokens": s["tokens"], "scorer_nll_sum": s["nll_sum"],
             "scorer_ppl": s["ppl"], "coherence": c} for r, s, c in zip(records, nll, coh)]


def load_encoder(path: str):
    """The coherence encoder as transformers' AutoModel (a causal LM's folder gives its base model, without the
    output head), in fp32 on this job's device, dropout off."""
    from transformers import AutoModel

    from .modeling import device, disable_dropout, load_tokenizer

    model = AutoModel.from_pretrained(path)
    disable_dropout(model)
    model.to(device())
    model.eval()
    return model, load_tokenizer(path)


# ------------------------------------------------------------------------------------------ table columns
HUMAN = "human"  # measure_quality's `texts` of the human continuations (the others name their generation file)
SOURCE_COLUMNS = ["model", "texts", "length"]  # what measure_quality's table adds before the per-text columns


class QualityTables:
    """measure_quality's tables (one per model and table): the per-text rows of one generation file, or of a model's
    human continuations at one length, as the per-text table of that file alone (its rows in text order)."""

    def __init__(self, paths):
        import pandas as pd

        self.frame = pd.concat([pd.read_csv(p, sep="\t", dtype={"texts": str}) for p in paths], ignore_index=True)

    def _rows(self, mask, what: str):
        from .errors import UserError

        part = self.frame[mask]
        if part.empty:
            raise UserError(f"no quality rows for {what}: rerun measure_quality (its table predates this file)")
        return part.drop(columns=SOURCE_COLUMNS).reset_index(drop=True)

    def texts(self, path: str):
        """The rows of the generation file `path`."""
        return self._rows(self.frame["texts"] == str(path), str(path))

    def human(self, model: str, length: int):
        """The rows of `model`'s human continuations cut to `length` of its tokens."""
        f = self.frame
        return self._rows((f["texts"] == HUMAN) & (f["model"] == model) & (f["length"] == int(length)),
                          f"{model}'s human continuations of {length} tokens")


def quality_values(df, seed: int) -> dict:
    """A row's quality columns from a per-text quality table: scorer_ppl (tokens pooled over the texts) with a
    95% bootstrap interval (whole texts resampled, tokens pooled again), coherence (mean over texts) with a 95%
    percentile bootstrap interval."""
    import numpy as np

    from .stats import bootstrap_ci, bootstrap_ratio_ci, ci_columns

    d = df.sort_values(["domain", "index"])
    n = d["scorer_tokens"].sum()
    out = {"scorer_ppl": math.exp(d["scorer_nll_sum"].sum() / n) if n else math.nan}
    out.update(ci_columns("scorer_ppl", bootstrap_ratio_ci(d["scorer_nll_sum"], d["scorer_tokens"], seed, np.exp)))
    out["coherence"] = float(d["coherence"].mean())
    out.update(ci_columns("coherence", bootstrap_ci(d["coherence"].reset_index(drop=True), seed)))
    return out


def human_values(df, seed: int) -> dict:
    """The same columns of the human continuations, named scorer_ppl_human and coherence_human."""
    return {k.replace("scorer_ppl", "scorer_ppl_human").replace("coherence", "coherence_human"): v
            for k, v in quality_values(df, seed).items()}


def quality_notes(quality: dict, models: list[str]) -> list[str]:
    """The notes' lines on the quality and per-domain MAUVE columns (shared by Table 1, Table 4, the comparison);
    `quality`: the config's quality section, `models`: the config's models (the generators)."""
    first = models[0] if models else None
    scorer, enc = quality["scorer"]["model"] or first, {**quality["coherence"],
                                                        "model": quality["coherence"]["model"] or first}
    lines = [
        f"- scorer_ppl: perplexity of the continuations under the scorer {scorer} (quality.scorer), teacher-forced on "
        "prompt + continuation (the decoded text re-tokenised by the scorer), scored on the continuation's tokens only "
        "(those holding a character of it), tokens pooled over the texts [95% bootstrap interval: whole texts "
        "resampled, tokens pooled again]. Lower is more fluent to the scorer; degenerate repetition also scores low, "
        "so read it beside TTR.",
        f"- coherence: cosine of the sentence embeddings of the prompt and of the continuation (Su & Collier 2022) by "
        f"{enc['model']} ({'its pooler output, [CLS] through the pooler' if enc['pooling'] == 'pooler' else 'the mean of its final hidden states'}"
        f"; each text cut to {enc['max_tokens']} of its tokens); mean over texts [95% bootstrap interval].",
        "- scorer_ppl_human, coherence_human: the same measures of the human continuations of the same contexts, cut "
        "to the row's length in the generator's tokens: the reference point.",
        "- mauve_<domain>: MAUVE on that domain's pairs alone (few texts per domain: coarse); mauve_pairs: the pairs "
        "MAUVE used (followup.mauve.min_tokens keeps only pairs whose two texts both reach that many featurizer "
        "tokens); MAUVE values are x followup.mauve.scale.",
    ]
    if scorer in models:
        lines.append(f"- The scorer is {scorer}'s base weights, a generator of this config (the embedded default has "
                     "no other model offline): its original rows score themselves and every trained row starts from it, "
                     "so scorer_ppl is NOT independent of the generator here (config/paper.yaml: Qwen/Qwen2.5-72B).")
    if enc["model"] in models:
        lines.append(f"- The coherence encoder is {enc['model']}'s base weights, a stand-in for a sentence encoder "
                     "(config/paper.yaml: princeton-nlp/sup-simcse-bert-base-uncased, as the contrastive-search papers).")
    return lines
