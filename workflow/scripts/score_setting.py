"""Teacher-forced scores of the evaluation texts under one model (NLL, entropy, top-k mass, top-1 ids)."""
import _lib  # noqa: F401
from hyperfit.metrics import score_items
from hyperfit.modeling import load_model
from hyperfit.runner import progress, read_json, run, write_json


def main(sm):
    tokens = read_json(sm.input.tokens)
    model = load_model(sm.input.model, sm.params.dtype)
    with progress(len(tokens["eval"]), f"score {sm.wildcards.setting}/{sm.wildcards.weights}") as bar:
        write_json(sm.output.scores, score_items(model, tokens["eval"], tokens["pad_id"], sm.params.batch_size, bar,
                                                 argmax=True))


run(snakemake, main)  # noqa: F821
