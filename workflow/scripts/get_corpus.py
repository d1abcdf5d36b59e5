"""One domain's documents as JSON lines ({id, text})."""
from hyperfit.runner import run


def main(sm):
    from hyperfit.assets import load_corpus_documents, verify_asset
    from hyperfit.runner import write_jsonl

    if sm.input.get("asset"):
        verify_asset(sm.input.asset, sm.params.pin["name"], sm.params.pin["sha256"])
    docs = load_corpus_documents(sm.params.spec, sm.input.get("asset"), f"corpora.{sm.wildcards.domain}")
    write_jsonl(sm.output.docs, docs)
    print(f"{len(docs)} documents, {sum(len(d['text'].split()) for d in docs)} words")


run(snakemake, main)  # noqa: F821
