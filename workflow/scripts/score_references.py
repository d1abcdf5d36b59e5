"""Teacher-forced scores of each evaluation text (context + reference): NLL, entropy, top-k mass."""
import _lib  # noqa: F401
import pandas as pd
from hyperfit.metrics import score_sequences
from hyperfit.modeling import load_model
from hyperfit.runner import progress, read_json, run, write_table


def main(sm):
    tokens = read_json(sm.input.tokens)
    items = tokens["eval"]
    model = load_model(sm.input.model, sm.params.dtype)
    with progress(len(items), f"score {sm.wildcards.variant}") as bar:
        scores = score_sequences(model, [it["context"] + it["reference"] for it in items],
                                 batch_size=sm.params.batch_size, pad_id=tokens["pad_id"], progress=bar)
    rows = [{"domain": it["domain"], "index": it["index"], **s} for it, s in zip(items, scores)]
    write_table(pd.DataFrame(rows), sm.output.table)


run(snakemake, main)  # noqa: F821
