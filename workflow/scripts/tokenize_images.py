"""The images of Figure 6's branch, drawn (disjoint, seeded) and tokenised: the digits stand-in, or hub images
through the pretrained ImageGPT's own image processor."""
from hyperfit.runner import run


def main(sm):
    from hyperfit.images import prepare_digits, prepare_hub
    from hyperfit.runner import write_json

    spec = sm.params.image
    if spec["source"] == "digits":
        data = prepare_digits(spec, sm.params.seed)
    else:
        data = prepare_hub(spec, sm.params.seed, sm.input.model)
    write_json(sm.output.images, data)
    print({name: len(records) for name, records in data["splits"].items()}, data["description"])


run(snakemake, main)  # noqa: F821
