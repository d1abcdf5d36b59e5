"""One domain's documents as JSON lines ({id, text})."""
from hyperfit.runner import run


def main(sm):
    from hyperfit.assets import corpus_record, load_corpus_documents, verify_asset
    from hyperfit.runner import write_json, write_jsonl

    if sm.input.get("asset"):
        verify_asset(sm.input.asset, sm.params.pin["name"], sm.params.pin["sha256"])
    spec, key = dict(sm.params.spec), f"corpora.{sm.wildcards.domain}"
    docs = load_corpus_documents(spec, sm.input.get("asset"), key)
    write_jsonl(sm.output.docs, docs)
    write_json(sm.output.source, corpus_record(spec, key))  # a hub corpus: the commit it was read at
    print(f"{len(docs)} documents, {sum(len(d['text'].split()) for d in docs)} words")


run(snakemake, main)  # noqa: F821
