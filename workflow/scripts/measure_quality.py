"""Per-text quality (hyperfit.quality) of the continuations one table shows for one model, the scorer and encoder
loaded once: each of its generation files' continuations, and the human continuations of the evaluation contexts
cut to each of those files' lengths in the generator's tokens. Scorer perplexity of the continuation given its
prompt and prompt-continuation coherence; one row per text, `texts` naming its generation file (or `human`)."""
from hyperfit.runner import run


def main(sm):
    import math

    import pandas as pd

    from hyperfit.modeling import load_model, load_tokenizer
    from hyperfit.quality import HUMAN, SOURCE_COLUMNS, load_encoder, quality_rows, split_text
    from hyperfit.runner import progress, read_json, read_jsonl, write_table

    tok = load_tokenizer(sm.input.tokenizer)  # the generator's: decodes its token ids
    model = sm.wildcards.model
    sources = [(r["texts"], int(r["length"]), [(x["domain"], x["index"], x["context_ids"], x["generated_ids"])
                                               for x in read_jsonl(r["texts"])]) for r in sm.params.runs]
    tokens = read_json(sm.input.tokens)
    for length in sorted({int(r["length"]) for r in sm.params.runs}):
        sources.append((HUMAN, length, [(it["domain"], it["index"], it["context"], it["reference"][:length])
                                        for it in tokens["eval"]]))
    q = sm.params.quality
    scorer = load_model(sm.input.scorer, q["scorer"]["dtype"])
    scorer_tok = load_tokenizer(sm.input.scorer)
    encoder, encoder_tok = load_encoder(sm.input.coherence)
    tables = []
    with progress(len(sources), f"quality {model}/{sm.wildcards.table}") as bar:
        for texts, length, items in sources:  # one file at a time: its texts batched as when each was its own job
            records = []
            for domain, index, context, continuation in sorted(items, key=lambda s: (s[0], s[1])):
                prompt, cont = split_text(tok, context, continuation)
                records.append({"domain": domain, "index": index, "prompt": prompt, "continuation": cont})
            rows = quality_rows(records, scorer, scorer_tok, encoder, encoder_tok, q["coherence"]["pooling"],
                                q["coherence"]["max_tokens"], q["batch_size"])
            part = pd.DataFrame(rows)
            for i, (column, value) in enumerate(zip(SOURCE_COLUMNS, (model, texts, length))):
                part.insert(i, column, value)
            tables.append(part)
            n = part["scorer_tokens"].sum()
            print(f"{texts} ({length} tokens): {len(part)} texts, scorer perplexity "
                  f"{math.exp(part['scorer_nll_sum'].sum() / n):.3f} ({n} scorer tokens), coherence "
                  f"{part['coherence'].mean():.3f}")
            bar.update(1)
    table = pd.concat(tables, ignore_index=True)
    write_table(table, sm.output.table)


run(snakemake, main)  # noqa: F821
