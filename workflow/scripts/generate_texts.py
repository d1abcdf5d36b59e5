"""Continuations of every evaluation context by one model variant with one decoding."""
import _lib  # noqa: F401
from hyperfit.blocker import CitationBlocker, blocker_spec
from hyperfit.generation import generate_batched
from hyperfit.modeling import load_model, load_tokenizer
from hyperfit.runner import progress, read_json, run, write_jsonl
from transformers import LogitsProcessorList


def main(sm):
    tokens = read_json(sm.input.tokens)
    items = tokens["eval"]
    model = load_model(sm.input.model, sm.params.dtype)
    tok = load_tokenizer(sm.input.model)
    dec = sm.params.decoding
    processors = blocker = None
    spec = blocker_spec(dec)
    if spec is not None:
        blocker = CitationBlocker.from_training(tokens["train"], spec["ngram"], spec["word_boundary"], tok)
        processors = LogitsProcessorList([blocker])
        print(f"citation blocker: {len(blocker.index)} training {spec['ngram'] - 1}-token prefixes "
              f"({'word-start tokens only' if spec['word_boundary'] else 'any token'})")
    with progress(len(items), f"generate {sm.wildcards.variant}/{sm.wildcards.decoding}") as bar:
        gen = generate_batched(model, [it["context"] for it in items], int(sm.wildcards.length), tokens["pad_id"],
                               batch_size=sm.params.batch_size, do_sample=dec["do_sample"],
                               top_p=dec.get("top_p", 1.0), top_k=dec.get("top_k", 0),
                               temperature=dec.get("temperature", 1.0), seed=sm.params.seed,
                               logits_processor=processors, progress=bar)
    if blocker is not None:
        print(f"citation blocker: {blocker.hits} of {blocker.steps} token choices had blocked candidates; "
              f"{blocker.changed} changed the highest-scoring token")
    write_jsonl(sm.output.texts, (
        {"domain": it["domain"], "index": it["index"], "context_ids": it["context"], "generated_ids": g,
         "context": tok.decode(it["context"]), "text": tok.decode(g), "reference": tok.decode(it["reference"])}
        for it, g in zip(items, gen)))


run(snakemake, main)  # noqa: F821
