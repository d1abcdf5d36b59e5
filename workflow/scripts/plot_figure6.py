"""Figure 6: held-out images, and their greedy completions by the original and the hyperfitted model."""
from hyperfit.runner import run


def main(sm):
    from hyperfit.plots import figure6, save
    from hyperfit.runner import read_json, read_jsonl

    completions = {v: read_jsonl(p)[:sm.params.figure_images] for v, p in zip(sm.params.variants, sm.input.completions)}
    save(figure6(read_json(sm.input.images), completions), sm.output.pdf, sm.output.png)


run(snakemake, main)  # noqa: F821
