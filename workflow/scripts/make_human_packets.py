"""Blind pairwise packets of the human preference study: per rater an HTML page and a CSV template; the key
(which text is the model's, and whose) goes to a separate file."""
from hyperfit.runner import run


def main(sm):
    from pathlib import Path

    from hyperfit.human import generation_pairs, make_study, packet_csv, packet_html, reference_texts
    from hyperfit.modeling import load_tokenizer
    from hyperfit.runner import atomic_path, read_json, read_jsonl, write_table

    p = sm.params
    tokens = {m: read_json(path) for m, path in zip(p.models, sm.input.tokens)}
    tokenizers = {m: load_tokenizer(path) for m, path in zip(p.models, sm.input.tokenizers)}
    pairs = []
    for r in p.runs:
        model, length = r["model"], int(r["length"])
        refs = reference_texts(tokens[model]["eval"], length, tokenizers[model].decode)
        pairs += generation_pairs(read_jsonl(r["texts"]), refs, model, r["variant"], r["decoding"], length)
    key, packets = make_study(pairs, p.raters, p.ratings_per_pair, p.seed)
    write_table(key, sm.output.key)
    pages = {Path(f).stem: f for f in sm.output.html}
    templates = {Path(f).stem: f for f in sm.output.csv}
    for rater, items in packets.items():
        for target, text in ((pages[f"rater{rater}"], packet_html(rater, items, p.question)),
                             (templates[f"rater{rater}"], packet_csv(items))):
            with atomic_path(target) as tmp:
                tmp.write_text(text, encoding="utf-8")
        print(f"rater {rater}: {len(items)} items")
    print(f"{len(key)} pairs, {len(packets)} raters, {p.ratings_per_pair} ratings per pair")


run(snakemake, main)  # noqa: F821
