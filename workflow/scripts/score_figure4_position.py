"""Figure 4's input: one variant's next-token distribution at the configured position (top-k and the rest)."""
import _lib  # noqa: F401
from hyperfit.modeling import load_model, load_tokenizer
from hyperfit.runner import read_json, run, write_table
from hyperfit.sharpness import position_table, select_position


def main(sm):
    spec = sm.params.figure4
    item, position = select_position(read_json(sm.input.tokens)["eval"], spec["domain"], spec["text"],
                                     spec.get("position"))
    model = load_model(sm.input.model, sm.params.dtype)
    table = position_table(model, load_tokenizer(sm.input.model), item, position, spec["top_k"])
    write_table(table, sm.output.table)
    print(table.to_string())


run(snakemake, main)  # noqa: F821
