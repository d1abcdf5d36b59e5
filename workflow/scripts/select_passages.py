"""Passages chosen once on text, so that every model sees the same texts: the main run's training windows,
the held-out evaluation and validation texts, and every trained setting's pool of training passages; beside
them a summary of where each role's texts come from (documents and words), which the tables' notes quote."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.data import select_all, selection_notes, selection_summary
    from hyperfit.runner import read_jsonl, write_json, write_table

    corpora = {d: read_jsonl(p) for d, p in zip(sm.params.domains, sm.input.corpora)}
    selection = select_all(corpora, sm.params.plan)
    summary = selection_summary(corpora, selection)
    separation = selection.pop("separation")
    write_json(sm.output.passages, selection)
    write_table(pd.DataFrame(summary), sm.output.summary)
    print(f"{len(selection['train'])} main training passages; evaluation: "
          + ", ".join(f"{d} {len(v)}" for d, v in selection["eval"].items()) + "; pools: "
          + ", ".join(f"{d}/seed {s} {len(p)}" for d, seeds in selection["pools"].items() for s, p in seeds.items())
          + "; overlap check passed")
    print(f"data.separate_documents: {sm.params.plan['separate_documents']}")
    for line in selection_notes(summary):
        print(line)
    mode = sm.params.plan["separate_documents"]
    why = "data.separate_documents: false" if mode is False else \
        "too few documents to hold them apart (data.separate_documents: auto)"
    for domain in [d for d, how in separation.items() if how == "spans"]:
        print(f"NOTE: {domain}: span separation only, its held-out texts share documents with its training windows "
              f"(never words): {why}")


run(snakemake, main)  # noqa: F821
