"""The sweeps' training passages: per domain and seed, a pool in random order, outside the evaluation texts."""
import math

import _lib  # noqa: F401
from hyperfit.runner import read_json, read_jsonl, run, write_json
from hyperfit.sweeps import select_pools


def main(sm):
    data = sm.params.data
    per_token = data.get("words_per_token", 1.0)
    corpora = {d: read_jsonl(p) for d, p in zip(sm.params.domains, sm.input.corpora)}
    needs = {d: {int(k): v for k, v in seeds.items()} for d, seeds in sm.params.needs.items()}
    words = {d: math.ceil(n * per_token) for d, n in sm.params.seq_len.items()}
    pools = select_pools(corpora, read_json(sm.input.passages), needs, words,
                         math.ceil(data["seq_len"] * per_token), sm.params.seed)
    write_json(sm.output.passages, pools)
    for domain, seeds in pools.items():
        print(f"{domain}: " + ", ".join(f"seed {s} {len(p)} passages of {words[domain]}+ words"
                                        for s, p in seeds.items()))


run(snakemake, main)  # noqa: F821
