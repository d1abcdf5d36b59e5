"""Continuations of every evaluation context by one setting's weights with one method: a configured decoding,
greedy with a repetition penalty, or sampling at a matched temperature."""
from hyperfit.runner import run


def main(sm):
    from transformers import LogitsProcessorList

    from hyperfit.blocker import CitationBlocker, blocker_spec
    from hyperfit.data import setting_windows
    from hyperfit.generation import generate_batched
    from hyperfit.modeling import load_model, load_tokenizer
    from hyperfit.runner import progress, read_json, write_jsonl

    tokens = read_json(sm.input.tokens)
    items = tokens["eval"]
    model = load_model(sm.params.weights, sm.params.dtype)
    tok = load_tokenizer(sm.params.weights)
    job = sm.params.generation
    dec = dict(job["decoding"])
    if dec.get("temperature") == "matched":
        dec["temperature"] = read_json(sm.input.temperature)["temperature"]
        print(f"matched temperature: {dec['temperature']:.4f}")
    processors = blocker = None
    spec = blocker_spec(dec)
    if dec.get("logit_bias") is not None:  # the follow-up's fixed bias: logits + s x (hyperfitted - original)
        import torch

        from hyperfit.followup import BiasProcessor

        processors = LogitsProcessorList([BiasProcessor(torch.load(sm.input.bias), dec["logit_bias"])])
        print(f"logits + {dec['logit_bias']:g} x the mean hyperfitted-minus-original logits")
    if spec is not None:
        windows = setting_windows(tokens, job["windows"])
        blocker = CitationBlocker.from_training(windows, spec["ngram"], spec["word_boundary"], tok)
        processors = LogitsProcessorList([blocker])
        print(f"citation blocker: {len(blocker.index)} training {spec['ngram'] - 1}-token prefixes "
              f"({'word-start tokens only' if spec['word_boundary'] else 'any token'})")
    w = sm.wildcards
    with progress(len(items), f"generate {w.setting}/{w.weights}/{w.method}") as bar:
        gen = generate_batched(model, [it["context"] for it in items], int(w.length), tokens["pad_id"],
                               batch_size=sm.params.batch_size, do_sample=dec["do_sample"],
                               top_p=dec.get("top_p", 1.0), top_k=dec.get("top_k", 0),
                               temperature=dec.get("temperature", 1.0), seed=job["seed"],
                               logits_processor=processors, progress=bar,
                               repetition_penalty=dec.get("repetition_penalty"))
    if blocker is not None:
        print(f"citation blocker: {blocker.hits} of {blocker.steps} token choices had blocked candidates; "
              f"{blocker.changed} changed the highest-scoring token")
    write_jsonl(sm.output.texts, (
        {"domain": it["domain"], "index": it["index"], "context_ids": it["context"], "generated_ids": g,
         "context": tok.decode(it["context"]), "text": tok.decode(g), "reference": tok.decode(it["reference"])}
        for it, g in zip(items, gen)))


run(snakemake, main)  # noqa: F821
