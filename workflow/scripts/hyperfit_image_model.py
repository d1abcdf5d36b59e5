"""Hyperfit the image model on the hyperfitting images (the text branch's loop, pixel sequences as windows)."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd
    import torch

    from hyperfit.images import load_image_model, load_processor, train_image_model
    from hyperfit.runner import progress, read_json, write_table
    from hyperfit.training import HISTORY_COLUMNS

    torch.manual_seed(sm.params.seed)
    data = read_json(sm.input.images)
    model = load_image_model(sm.input.model, "float32", for_training=True)  # fp32 master weights
    history = train_image_model(model, load_processor(sm.input.model), data, "train",
                                {**sm.params.settings, "seed": sm.params.seed}, sm.output.model,
                                sm.params.checkpoints, progress_factory=lambda **kw: progress(desc="hyperfit steps", **kw))
    write_table(pd.DataFrame(history, columns=HISTORY_COLUMNS), sm.output.history)


run(snakemake, main)  # noqa: F821
