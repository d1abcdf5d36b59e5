"""Token ids of the sweeps' training passages for one model's tokenizer (cut to each domain's longest window)."""
import _lib  # noqa: F401
from hyperfit.modeling import load_tokenizer
from hyperfit.runner import read_json, run, write_json


def main(sm):
    tok = load_tokenizer(sm.input.model)
    pools = read_json(sm.input.passages)
    out = {domain: {seed: [{"doc": p["doc"], "start": p["start"],
                            "ids": tok(p["text"])["input_ids"][:sm.params.seq_len[domain]]} for p in passages]
                    for seed, passages in seeds.items()}
           for domain, seeds in pools.items()}
    write_json(sm.output.tokens, out)
    print(", ".join(f"{d}/seed {s}: {len(p)} windows" for d, seeds in out.items() for s, p in seeds.items()))


run(snakemake, main)  # noqa: F821
