"""Teacher-forced scores of each evaluation text (context + reference) under one setting's weights: NLL,
entropy, top-k mass, and the most probable next token at every position."""
from hyperfit.runner import run


def main(sm):
    from hyperfit.metrics import score_items
    from hyperfit.modeling import load_model
    from hyperfit.runner import progress, read_json, write_json

    tokens = read_json(sm.input.tokens)
    model = load_model(sm.params.weights, sm.params.dtype)
    with progress(len(tokens["eval"]), f"score {sm.wildcards.setting}/{sm.wildcards.weights}") as bar:
        write_json(sm.output.scores, score_items(model, tokens["eval"], tokens["pad_id"], sm.params.batch_size, bar,
                                                 argmax=True))


run(snakemake, main)  # noqa: F821
