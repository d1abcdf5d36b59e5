"""Training and evaluation passages, chosen once on text so that every model sees the same texts."""
import math

import _lib  # noqa: F401
from hyperfit.data import select_passages
from hyperfit.runner import read_jsonl, run, write_json


def main(sm):
    data = sm.params.data
    corpora = {d: read_jsonl(p) for d, p in zip(sm.params.domains, sm.input.corpora)}
    per_token = data.get("words_per_token", 1.0)
    selection = select_passages(
        corpora, data["train_domain"], data["num_samples"], math.ceil(data["seq_len"] * per_token),
        data["eval_domains"], data["contexts_per_domain"],
        math.ceil((data["context_len"] + data["reference_len"]) * per_token), sm.params.seed)
    write_json(sm.output.passages, selection)
    print(f"{len(selection['train'])} training passages; evaluation: "
          + ", ".join(f"{d} {len(v)}" for d, v in selection["eval"].items()) + "; overlap check passed")


run(snakemake, main)  # noqa: F821
