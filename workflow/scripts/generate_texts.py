"""Continuations of every evaluation context by one model (a variant, or a sweep setting's weights) with one
decoding: a configured one, greedy with a repetition penalty, or sampling at a matched temperature."""
import _lib  # noqa: F401
from hyperfit.blocker import CitationBlocker, blocker_spec
from hyperfit.generation import generate_batched
from hyperfit.modeling import load_model, load_tokenizer
from hyperfit.runner import progress, read_json, run, write_jsonl
from transformers import LogitsProcessorList


def training_windows(sm, tokens):
    """The windows the model was hyperfitted on (the citation blocker's index)."""
    if "pools" in sm.input.keys():
        from hyperfit.sweeps import setting_windows

        return setting_windows(read_json(sm.input.pools), sm.params.setting)
    return tokens["train"]


def main(sm):
    tokens = read_json(sm.input.tokens)
    items = tokens["eval"]
    model = load_model(sm.input.model, sm.params.dtype)
    tok = load_tokenizer(sm.input.model)
    dec = dict(sm.params.decoding)
    if dec.get("temperature") == "matched":
        dec["temperature"] = read_json(sm.input.temperature)["temperature"]
        print(f"matched temperature: {dec['temperature']:.4f}")
    processors = blocker = None
    spec = blocker_spec(dec)
    if spec is not None:
        blocker = CitationBlocker.from_training(training_windows(sm, tokens), spec["ngram"], spec["word_boundary"],
                                                tok)
        processors = LogitsProcessorList([blocker])
        print(f"citation blocker: {len(blocker.index)} training {spec['ngram'] - 1}-token prefixes "
              f"({'word-start tokens only' if spec['word_boundary'] else 'any token'})")
    label = "/".join(str(v) for k, v in sm.wildcards.items() if k in ("variant", "setting", "weights"))
    with progress(len(items), f"generate {label}/{sm.wildcards.get('decoding', sm.wildcards.get('method'))}") as bar:
        gen = generate_batched(model, [it["context"] for it in items], int(sm.wildcards.length), tokens["pad_id"],
                               batch_size=sm.params.batch_size, do_sample=dec["do_sample"],
                               top_p=dec.get("top_p", 1.0), top_k=dec.get("top_k", 0),
                               temperature=dec.get("temperature", 1.0), seed=sm.params.seed,
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
