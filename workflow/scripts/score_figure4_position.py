"""Figure 4's input: one setting's next-token distribution at the configured position (top-k and the rest)."""
from hyperfit.runner import run


def main(sm):
    from hyperfit.modeling import load_model, load_tokenizer
    from hyperfit.runner import read_json, write_table
    from hyperfit.sharpness import position_table, select_position

    spec = sm.params.figure4
    item, position = select_position(read_json(sm.input.tokens)["eval"], spec["domain"], spec["text"],
                                     spec.get("position"))
    model = load_model(sm.params.weights, sm.params.dtype)
    table = position_table(model, load_tokenizer(sm.params.weights), item, position, spec["top_k"])
    write_table(table, sm.output.table)
    print(table.to_string())


run(snakemake, main)  # noqa: F821
