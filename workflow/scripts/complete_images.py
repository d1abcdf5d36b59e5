"""Greedy completion of every held-out image from its prompt rows, by the original or hyperfitted image model."""
from hyperfit.runner import run


def main(sm):
    from hyperfit.images import complete_images, load_image_model
    from hyperfit.runner import progress, read_json, write_jsonl

    data = read_json(sm.input.images)
    model = load_image_model(sm.input.model, sm.params.dtype)
    bar = progress(total=len(data["splits"]["eval"]), desc="images completed")
    rows = complete_images(model, data, sm.params.batch_size, progress=bar)
    bar.close()
    write_jsonl(sm.output.completions, rows)


run(snakemake, main)  # noqa: F821
