"""Per-text metrics of one generation file: TTR, Self-BLEU, Dataset BLEU, overlap with the training windows,
rep-n counts, diversity, gzip ratio."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.data import setting_windows
    from hyperfit.modeling import load_tokenizer
    from hyperfit.overlap import text_metrics
    from hyperfit.runner import progress, read_json, read_jsonl, write_table

    records = read_jsonl(sm.input.texts)
    windows = setting_windows(read_json(sm.input.tokens), sm.params.windows)
    tok = load_tokenizer(sm.input.tokenizer)
    window_texts = [tok.decode(ids, skip_special_tokens=True) for ids in windows]
    with progress(len(records), f"metrics {sm.wildcards.setting}/{sm.wildcards.method}") as bar:
        rows = text_metrics(records, windows, window_texts, sm.params.ttr_window, progress=bar)
    table = pd.DataFrame(rows)
    write_table(table, sm.output.table, exact=True)
    print(table.drop(columns=["domain", "index"]).mean().to_string())


run(snakemake, main)  # noqa: F821
