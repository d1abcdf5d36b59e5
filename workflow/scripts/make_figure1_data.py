"""Figure 1's data: the chosen context's continuations by each model's original and hyperfitted weights, per
token its text and its repeat length."""
from hyperfit.runner import run


def main(sm):
    from hyperfit.modeling import load_tokenizer
    from hyperfit.runner import read_jsonl, write_json
    from hyperfit.texts import figure1_panel, find_text

    fig1 = sm.params.figure1
    tokenizers = {m: load_tokenizer(path) for m, path in zip(sm.params.models, sm.input.tokenizers)}
    data = {"domain": fig1["domain"], "text": fig1["text"], "decoding": fig1["decoding"], "models": {}}
    for r in sm.params.runs:
        row = find_text(read_jsonl(r["texts"]), fig1["domain"], fig1["text"])
        panel = figure1_panel(tokenizers[r["model"]], row["context_ids"], row["generated_ids"])
        data["models"].setdefault(r["model"], {})[r["variant"]] = panel
        data["context_len"], data["length"] = len(row["context_ids"]), r["length"]
        print(f"{r['model']} {r['variant']}: mean repeat length {panel['mean_repeat_length']:.2f}, "
              f"share in repeats >= 4: {panel['share_repeat_ge4']:.2f}, TTR {panel['ttr']:.3f}")
    write_json(sm.output.data, data)


run(snakemake, main)  # noqa: F821
