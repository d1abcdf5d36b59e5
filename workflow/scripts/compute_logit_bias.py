"""The follow-up's fixed logit bias: the mean over the evaluation texts' positions of the hyperfitted minus the
original logits, the same bias restricted to the K tokens whose rank rises most, and the original model's mean
entropy with each strength of each added."""
from hyperfit.runner import run


def main(sm):
    from pathlib import Path

    import torch

    from hyperfit.followup import biased_entropies, logit_bias_and_rank_rise, top_k_bias
    from hyperfit.modeling import load_model
    from hyperfit.runner import atomic_path, read_json, write_json

    tokens = read_json(sm.input.tokens)
    original = load_model(sm.input.model, sm.params.dtype)
    hyperfitted = load_model(str(Path(sm.input.run) / "model"), sm.params.dtype)
    bias, rise = logit_bias_and_rank_rise(hyperfitted, original, tokens["eval"], tokens["pad_id"],
                                          sm.params.batch_size)
    del hyperfitted
    top, top_ids = top_k_bias(bias, rise, sm.params.top_k)
    strengths = [float(s) for s in sm.params.strengths]
    entropy = biased_entropies(original, tokens["eval"], {"all": bias, "top": top}, strengths, tokens["pad_id"],
                               sm.params.batch_size)
    for path, vector in ((sm.output.bias, bias), (sm.output.bias_top, top)):
        with atomic_path(path) as tmp:
            torch.save(vector.float(), tmp)
    write_json(sm.output.entropy, {"bias_norm": float(bias.norm()), "bias_max": float(bias.max()),
                                   "entropy": {f"{s:g}": e for s, e in entropy["all"].items()},
                                   "top_k": len(top_ids), "top_tokens": top_ids,
                                   "top_rank_rise": [float(rise[i]) for i in top_ids],
                                   "top_bias_norm": float(top.norm()),
                                   "entropy_top": {f"{s:g}": e for s, e in entropy["top"].items()}})
    print(f"bias: norm {float(bias.norm()):.3f}, max {float(bias.max()):.3f}; top {len(top_ids)}: norm "
          f"{float(top.norm()):.3f}, rank rise {float(rise[top_ids[-1]]):.1f} to {float(rise[top_ids[0]]):.1f}")
    print(f"entropy by strength: {entropy}")


run(snakemake, main)  # noqa: F821
