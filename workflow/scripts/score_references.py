"""Teacher-forced scores of each evaluation text (context + reference): NLL, entropy, top-k mass."""
import _lib  # noqa: F401
import pandas as pd
from hyperfit.metrics import score_items
from hyperfit.modeling import load_model
from hyperfit.runner import progress, read_json, run, write_table


def main(sm):
    tokens = read_json(sm.input.tokens)
    model = load_model(sm.input.model, sm.params.dtype)
    with progress(len(tokens["eval"]), f"score {sm.wildcards.variant}") as bar:
        rows = score_items(model, tokens["eval"], tokens["pad_id"], sm.params.batch_size, bar)
    write_table(pd.DataFrame(rows), sm.output.table)


run(snakemake, main)  # noqa: F821
