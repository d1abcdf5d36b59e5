"""Token ids of the selected passages for one model's tokenizer: training pools and evaluation texts."""
from hyperfit.runner import run


def main(sm):
    from hyperfit.data import tokenize_selection
    from hyperfit.modeling import load_tokenizer
    from hyperfit.runner import read_json, write_json

    data = sm.params.data
    tok = load_tokenizer(sm.input.model)
    tokens = tokenize_selection(read_json(sm.input.passages), tok, sm.params.pool_seq_len, data["context_len"],
                                data["reference_len"])
    tokens["pad_id"] = tok.pad_token_id
    write_json(sm.output.tokens, tokens)
    print(", ".join(f"{d}/seed {s}: {len(p)} training passages" for d, seeds in tokens["pools"].items()
                    for s, p in seeds.items()) + f"; {len(tokens['eval'])} evaluation texts")


run(snakemake, main)  # noqa: F821
