"""One domain's documents as JSON lines ({id, text})."""
import _lib  # noqa: F401
from hyperfit.assets import load_corpus_documents
from hyperfit.runner import run, write_jsonl


def main(sm):
    docs = load_corpus_documents(sm.params.spec, sm.input.get("asset"))
    write_jsonl(sm.output.docs, docs)
    print(f"{len(docs)} documents, {sum(len(d['text'].split()) for d in docs)} words")


run(snakemake, main)  # noqa: F821
