"""Figure 1's data: the chosen context's continuations by each model's original and hyperfitted variant,
per token its text and its repeat length."""
import _lib  # noqa: F401
from hyperfit.modeling import load_tokenizer
from hyperfit.runner import read_jsonl, run, write_json
from hyperfit.texts import figure1_panel, find_text


def main(sm):
    fig1 = sm.params.figure1
    data = {"domain": fig1["domain"], "text": fig1["text"], "decoding": fig1["decoding"],
            "length": sm.params.length, "models": {}}
    for model, tokenizer in zip(sm.params.models, sm.input.tokenizers):
        tok = load_tokenizer(tokenizer)
        data["models"][model] = {}
        for variant, path in sm.params.generations[model].items():
            row = find_text(read_jsonl(path), fig1["domain"], fig1["text"])
            panel = figure1_panel(tok, row["context_ids"], row["generated_ids"])
            data["models"][model][variant] = panel
            data["context_len"] = len(row["context_ids"])
            print(f"{model} {variant}: mean repeat length {panel['mean_repeat_length']:.2f}, "
                  f"share in repeats >= 4: {panel['share_repeat_ge4']:.2f}, TTR {panel['ttr']:.3f}")
    write_json(sm.output.data, data)


run(snakemake, main)  # noqa: F821
