"""Passages chosen once on text, so that every model sees the same texts: the main run's training windows,
the held-out evaluation texts, and every trained setting's pool of training passages."""
from hyperfit.runner import run


def main(sm):
    from hyperfit.data import select_all
    from hyperfit.runner import read_jsonl, write_json

    corpora = {d: read_jsonl(p) for d, p in zip(sm.params.domains, sm.input.corpora)}
    selection = select_all(corpora, sm.params.plan)
    write_json(sm.output.passages, selection)
    print(f"{len(selection['train'])} main training passages; evaluation: "
          + ", ".join(f"{d} {len(v)}" for d, v in selection["eval"].items()) + "; pools: "
          + ", ".join(f"{d}/seed {s} {len(p)}" for d, seeds in selection["pools"].items() for s, p in seeds.items())
          + "; overlap check passed")


run(snakemake, main)  # noqa: F821
