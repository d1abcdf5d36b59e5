"""Entropy on the models' own continuations: for every row of the follow-up's bias table of one model, the mean
next-token entropy of the distribution that row decodes from, teacher-forced on its own greedy continuations."""
from hyperfit.runner import run


def main(sm):
    from pathlib import Path

    import torch

    from hyperfit.followup import own_entropy
    from hyperfit.modeling import load_model
    from hyperfit.runner import read_json, read_jsonl, write_json

    pad = read_json(sm.input.tokens)["pad_id"]
    biases = {"all": torch.load(sm.input.bias), "top": torch.load(sm.input.bias_top)}
    out = {}
    for name, path in (("original", sm.input.model), ("hyperfitted", str(Path(sm.input.run) / "model"))):
        model = load_model(path, sm.params.dtype)
        for r in sm.params.runs:
            if r["setting"] != name:
                continue
            kind = r.get("bias")
            bias = None if not kind else biases["all" if kind == "all" else "top"]
            out[r["texts"]] = own_entropy(model, read_jsonl(r["texts"]), pad, sm.params.batch_size, bias,
                                          r.get("strength") or 0.0)
            print(f"{r['label']}: {out[r['texts']]:.4f} nats on its own continuations")
        del model
    write_json(sm.output.entropy, out)


run(snakemake, main)  # noqa: F821
