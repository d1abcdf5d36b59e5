"""The digits stand-in's base model: a small ImageGPT trained from scratch on the pretraining digits."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.images import make_processor, small_imagegpt, train_image_model
    from hyperfit.modeling import device
    from hyperfit.runner import progress, read_json, write_table
    from hyperfit.training import HISTORY_COLUMNS

    data = read_json(sm.input.images)
    model = small_imagegpt(sm.params.architecture, data["sos_id"], data["height"], data["width"], sm.params.seed)
    print(f"{sum(p.numel() for p in model.parameters())} parameters")
    processor = make_processor(data["clusters"], data["height"], data["width"])
    history = train_image_model(model.to(device()), processor, data, "pretrain",
                                {**sm.params.settings, "seed": sm.params.seed}, sm.output.model,
                                sm.params.checkpoints, progress_factory=lambda **kw: progress(desc="pretrain steps", **kw))
    write_table(pd.DataFrame(history, columns=HISTORY_COLUMNS), sm.output.history)


run(snakemake, main)  # noqa: F821
