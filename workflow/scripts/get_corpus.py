"""One domain's documents as JSON lines ({id, text})."""
from hyperfit.runner import run


def main(sm):
    from hyperfit.assets import load_corpus_documents
    from hyperfit.runner import write_jsonl

    docs = load_corpus_documents(sm.params.spec, sm.input.get("asset"), f"corpora.{sm.wildcards.domain}")
    write_jsonl(sm.output.docs, docs)
    print(f"{len(docs)} documents, {sum(len(d['text'].split()) for d in docs)} words")


run(snakemake, main)  # noqa: F821
