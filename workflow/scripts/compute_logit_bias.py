"""The follow-up's fixed logit bias: the mean over the evaluation texts' positions of the hyperfitted minus the
original logits, and the original model's mean entropy with each strength of it added."""
from hyperfit.runner import run


def main(sm):
    from pathlib import Path

    import torch

    from hyperfit.followup import biased_entropy, logit_bias
    from hyperfit.modeling import load_model
    from hyperfit.runner import atomic_path, read_json, write_json

    tokens = read_json(sm.input.tokens)
    original = load_model(sm.input.model, sm.params.dtype)
    hyperfitted = load_model(str(Path(sm.input.run) / "model"), sm.params.dtype)
    bias = logit_bias(hyperfitted, original, tokens["eval"], tokens["pad_id"], sm.params.batch_size)
    del hyperfitted
    strengths = [float(s) for s in sm.params.strengths]
    entropy = biased_entropy(original, tokens["eval"], bias, strengths, tokens["pad_id"], sm.params.batch_size)
    with atomic_path(sm.output.bias) as tmp:
        torch.save(bias.float(), tmp)
    write_json(sm.output.entropy, {"bias_norm": float(bias.norm()), "bias_max": float(bias.max()),
                                   "entropy": {f"{s:g}": e for s, e in entropy.items()}})
    print(f"bias: norm {float(bias.norm()):.3f}, max {float(bias.max()):.3f}; entropy by strength: {entropy}")


run(snakemake, main)  # noqa: F821
