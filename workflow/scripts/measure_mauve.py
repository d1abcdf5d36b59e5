"""MAUVE of every generation file Table 1 and the comparison show, against the human continuations of the
same contexts (cut to the same number of tokens), on features of the configured featurizer."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.followup import mauve_score, text_features
    from hyperfit.modeling import load_model, load_tokenizer
    from hyperfit.runner import read_json, read_jsonl, write_table

    tokens = read_json(sm.input.tokens)
    tok = load_tokenizer(sm.input.tokenizer)
    featurizer = load_model(sm.input.featurizer, "float32")
    feat_tok = load_tokenizer(sm.input.featurizer)
    refs = {}
    rows = []
    for r in sm.params.runs:
        length = int(r["length"])
        if length not in refs:  # the human continuations, cut to the generated length
            texts = [tok.decode(it["reference"][:length]) for it in sorted(tokens["eval"], key=lambda i: (i["domain"], i["index"]))]
            refs[length] = text_features(featurizer, feat_tok, texts, sm.params.max_tokens)
        records = sorted(read_jsonl(r["texts"]), key=lambda x: (x["domain"], x["index"]))
        q = text_features(featurizer, feat_tok, [x["text"] for x in records], sm.params.max_tokens)
        score = mauve_score(refs[length], q, sm.params.seed)
        rows.append({**{k: r[k] for k in ("model", "setting", "weights", "method", "length")}, "texts": len(records),
                     "mauve": score, "featurizer": sm.params.featurizer})
        print(f"{r['setting']}/{r['weights']}/{r['method']}-{length}: MAUVE {score:.3f}")
    write_table(pd.DataFrame(rows), sm.output.table)


run(snakemake, main)  # noqa: F821
