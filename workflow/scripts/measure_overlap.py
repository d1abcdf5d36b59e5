"""Per-text repetition and overlap metrics of one generation file (Self-BLEU, Dataset BLEU, overlap, rep-n)."""
import _lib  # noqa: F401
import pandas as pd
from hyperfit.modeling import load_tokenizer
from hyperfit.overlap import text_metrics
from hyperfit.runner import progress, read_json, read_jsonl, run, write_table


def main(sm):
    records = read_jsonl(sm.input.texts)
    train_ids = read_json(sm.input.tokens)["train"]
    tok = load_tokenizer(sm.input.tokenizer)
    train_texts = [tok.decode(ids, skip_special_tokens=True) for ids in train_ids]
    with progress(len(records), f"overlap {sm.wildcards.variant}/{sm.wildcards.decoding}") as bar:
        rows = text_metrics(records, train_ids, train_texts, progress=bar)
    table = pd.DataFrame(rows)
    write_table(table, sm.output.table)
    print(table.drop(columns=["domain", "index"]).mean().to_string())


run(snakemake, main)  # noqa: F821
