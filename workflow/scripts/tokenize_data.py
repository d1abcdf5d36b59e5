"""Token ids of the selected passages for one model's tokenizer."""
import _lib  # noqa: F401
from hyperfit.data import tokenize_selection
from hyperfit.modeling import load_tokenizer
from hyperfit.runner import read_json, run, write_json


def main(sm):
    data = sm.params.data
    tok = load_tokenizer(sm.input.model)
    tokens = tokenize_selection(read_json(sm.input.passages), tok, data["seq_len"], data["context_len"],
                                data["reference_len"])
    tokens["pad_id"] = tok.pad_token_id
    write_json(sm.output.tokens, tokens)
    print(f"{len(tokens['train'])} training windows, {len(tokens['eval'])} evaluation texts")


run(snakemake, main)  # noqa: F821
