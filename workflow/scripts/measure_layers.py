"""Where hyperfitting changes the network: per layer, the effective dimension (participation ratio) of the
original and the hyperfitted model's hidden states on the evaluation texts, and the mean distance and cosine
similarity between them; the last block's output before and after the final norm as rows of their own."""
from hyperfit.runner import run


def main(sm):
    from pathlib import Path

    import pandas as pd

    from hyperfit.followup import hidden_states, layer_rows
    from hyperfit.modeling import load_model
    from hyperfit.runner import read_json, write_table

    tokens = read_json(sm.input.tokens)
    items, pad, batch = tokens["eval"], tokens["pad_id"], sm.params.batch_size
    skip = bool(sm.params.skip_first_position)
    original = hidden_states(load_model(sm.input.model, sm.params.dtype), items, pad, batch, skip)
    hyperfitted = hidden_states(load_model(str(Path(sm.input.run) / "model"), sm.params.dtype), items, pad, batch,
                                skip)
    table = pd.DataFrame(layer_rows(original, hyperfitted))
    write_table(table, sm.output.table)
    print(table.to_string())


run(snakemake, main)  # noqa: F821
