"""MAUVE of every generation file a table shows (Table 1, Table 4, the comparison), against the human continuations
of the same contexts (cut to the same number of tokens), on features of the configured featurizer: pooled over the
evaluation texts and per domain, on the pairs whose texts both reach followup.mauve.min_tokens, x scale."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.followup import mauve_by_domain, text_features, text_token_counts
    from hyperfit.modeling import load_model, load_tokenizer
    from hyperfit.runner import read_json, read_jsonl, write_table

    tokens = read_json(sm.input.tokens)
    tok = load_tokenizer(sm.input.tokenizer)
    featurizer = load_model(sm.input.featurizer, "float32")
    feat_tok = load_tokenizer(sm.input.featurizer)
    items = sorted(tokens["eval"], key=lambda i: (i["domain"], i["index"]))
    domains = [it["domain"] for it in items]
    refs = {}
    rows = []
    for r in sm.params.runs:
        length = int(r["length"])
        if length not in refs:  # the human continuations, cut to the generated length
            texts = [tok.decode(it["reference"][:length]) for it in items]
            refs[length] = (text_features(featurizer, feat_tok, texts, sm.params.max_tokens),
                            text_token_counts(feat_tok, texts))
        records = sorted(read_jsonl(r["texts"]), key=lambda x: (x["domain"], x["index"]))
        if [(x["domain"], x["index"]) for x in records] != [(it["domain"], it["index"]) for it in items]:
            raise ValueError(f"{r['texts']} does not hold one continuation per evaluation context")
        q_texts = [x["text"] for x in records]
        q = text_features(featurizer, feat_tok, q_texts, sm.params.max_tokens)
        scores = mauve_by_domain(refs[length][0], q, domains, sm.params.seed, refs[length][1],
                                 text_token_counts(feat_tok, q_texts), sm.params.min_tokens, sm.params.scale)
        rows.append({**{k: r[k] for k in ("model", "setting", "weights", "method", "length")}, "texts": len(records),
                     "mauve": scores["mauve"], "featurizer": sm.params.featurizer, "pairs": scores["pairs"],
                     **{k: v for k, v in scores.items() if k.startswith("mauve_")}})
        print(f"{r['setting']}/{r['weights']}/{r['method']}-{length}: MAUVE {scores['mauve']:.3f} "
              f"({scores['pairs']} pairs)")
    write_table(pd.DataFrame(rows), sm.output.table)


run(snakemake, main)  # noqa: F821
