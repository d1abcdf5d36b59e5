"""Token ids of the selected passages for one model's tokenizer: training pools and evaluation texts."""
from hyperfit.runner import run


def main(sm):
    from pathlib import Path

    from hyperfit.config import context_problems
    from hyperfit.data import tokenize_selection
    from hyperfit.errors import UserError
    from hyperfit.modeling import load_tokenizer
    from hyperfit.runner import read_json, write_json

    # the model is known now: do the config's sequences fit its context?
    found = context_problems(sm.wildcards.model, read_json(Path(sm.input.model) / "config.json"), sm.params.needs)
    if found:
        raise UserError("; ".join(found))
    data = sm.params.data
    tok = load_tokenizer(sm.input.model)
    tokens = tokenize_selection(read_json(sm.input.passages), tok, sm.params.pool_seq_len, data["context_len"],
                                data["reference_len"])
    tokens["pad_id"] = tok.pad_token_id
    write_json(sm.output.tokens, tokens)
    print(", ".join(f"{d}/seed {s}: {len(p)} training passages" for d, seeds in tokens["pools"].items()
                    for s, p in seeds.items()) + f"; {len(tokens['eval'])} evaluation texts")


run(snakemake, main)  # noqa: F821
