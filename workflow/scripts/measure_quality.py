"""Per-text quality of one set of continuations (hyperfit.quality): a generation file's, or (no `texts` input) the
human continuations of the evaluation contexts cut to the same number of the generator's tokens. Scorer perplexity
of the continuation given its prompt and prompt-continuation coherence."""
from hyperfit.runner import run


def main(sm):
    import math

    import pandas as pd

    from hyperfit.modeling import load_model, load_tokenizer
    from hyperfit.quality import load_encoder, quality_rows, split_text
    from hyperfit.runner import read_json, read_jsonl, write_table

    tok = load_tokenizer(sm.input.tokenizer)  # the generator's: decodes its token ids
    length = int(sm.wildcards.length)
    if getattr(sm.input, "texts", None):
        source = [(r["domain"], r["index"], r["context_ids"], r["generated_ids"]) for r in read_jsonl(sm.input.texts)]
    else:
        tokens = read_json(sm.input.tokens)
        source = [(it["domain"], it["index"], it["context"], it["reference"][:length]) for it in tokens["eval"]]
    records = []
    for domain, index, context, continuation in sorted(source, key=lambda s: (s[0], s[1])):
        prompt, cont = split_text(tok, context, continuation)
        records.append({"domain": domain, "index": index, "prompt": prompt, "continuation": cont})
    q = sm.params.quality
    scorer = load_model(sm.input.scorer, q["scorer"]["dtype"])
    scorer_tok = load_tokenizer(sm.input.scorer)
    encoder, encoder_tok = load_encoder(sm.input.coherence)
    rows = quality_rows(records, scorer, scorer_tok, encoder, encoder_tok, q["coherence"]["pooling"],
                        q["coherence"]["max_tokens"], q["batch_size"])
    table = pd.DataFrame(rows)
    write_table(table, sm.output.table)
    n = table["scorer_tokens"].sum()
    print(f"{len(table)} texts: scorer perplexity {math.exp(table['scorer_nll_sum'].sum() / n):.3f} "
          f"({n} scorer tokens), coherence {table['coherence'].mean():.3f}")


run(snakemake, main)  # noqa: F821
