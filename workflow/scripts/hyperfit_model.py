"""Hyperfit one base model; per-epoch history (Figure 2's data) and a resumable checkpoint."""
import _lib  # noqa: F401
import pandas as pd
from hyperfit.modeling import load_model, load_tokenizer
from hyperfit.runner import progress, read_json, run, write_table
from hyperfit.training import HISTORY_COLUMNS, hyperfit, monitor_subset


def main(sm):
    import torch

    torch.manual_seed(sm.params.seed)
    tokens = read_json(sm.input.tokens)
    settings = {**sm.params.settings, "seed": sm.params.seed, "ttr_window": sm.params.ttr_window}
    items = monitor_subset(tokens["eval"], settings["monitor_contexts_per_domain"])
    model = load_model(sm.input.model, sm.params.dtype, for_training=True)
    tok = load_tokenizer(sm.input.model)
    history = hyperfit(model, tok, tokens["train"], items, settings, sm.output.model, sm.params.checkpoints,
                       progress_factory=lambda **kw: progress(desc="hyperfit steps", **kw))
    write_table(pd.DataFrame(history, columns=HISTORY_COLUMNS), sm.output.history)


run(snakemake, main)  # noqa: F821
