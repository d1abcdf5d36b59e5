"""Batched generation with the KV cache (left padding), greedy or nucleus sampling, fixed length."""
from __future__ import annotations


def generate_batched(model, contexts: list[list[int]], max_new_tokens: int, pad_id: int, batch_size: int = 16,
                     do_sample: bool = False, top_p: float = 1.0, top_k: int = 0, temperature: float = 1.0,
                     seed: int = 0, logits_processor=None, progress=None,
                     repetition_penalty: float | None = None) -> list[list[int]]:
    """Continuations of exactly max_new_tokens tokens for each context (EOS is suppressed until then).

    Contexts are processed in the given order in batches; sampling is seeded per batch so a result does
    not depend on what ran before it in the process. repetition_penalty: transformers' CTRL-style penalty
    (scores of tokens already in the context or continuation divided by it when positive, multiplied
    when negative). Greedy decoding with a temperature other than 1 takes the argmax of the logits divided by it
    (the comparison's sanity row: the same tokens as greedy, temperature scaling keeps the order).
    """
    import torch

    model.eval()
    dev = next(model.parameters()).device
    out: list[list[int]] = []
    for b in range(0, len(contexts), batch_size):
        batch = contexts[b:b + batch_size]
        width = max(len(c) for c in batch)
        ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for i, c in enumerate(batch):
            ids[i, width - len(c):] = torch.tensor(c)
            mask[i, width - len(c):] = 1
        kwargs = dict(max_new_tokens=max_new_tokens, min_new_tokens=max_new_tokens, pad_token_id=pad_id,
                      do_sample=do_sample, use_cache=True)
        if do_sample:
            kwargs.update(top_p=top_p, top_k=top_k, temperature=temperature)
            torch.manual_seed(seed + b)
        else:
            kwargs.update(top_p=None, top_k=None, temperature=None)
        processors = logits_processor
        if not do_sample and temperature is not None and float(temperature) != 1.0:
            from transformers import LogitsProcessorList, TemperatureLogitsWarper

            processors = LogitsProcessorList([TemperatureLogitsWarper(float(temperature)), *(logits_processor or [])])
        if processors is not None:
            kwargs["logits_processor"] = processors
        if repetition_penalty is not None:
            kwargs["repetition_penalty"] = repetition_penalty
        with torch.no_grad():
            gen = model.generate(input_ids=ids.to(dev), attention_mask=mask.to(dev), **kwargs)
        out.extend(row[width:].tolist() for row in gen.cpu())
        if progress is not None:
            progress.update(len(batch))
    return out
