"""The images of Figure 6's branch, drawn (disjoint, seeded) and tokenised: the digits stand-in, or hub images
through the pretrained ImageGPT's own image processor."""
from hyperfit.runner import run


def main(sm):
    from hyperfit.assets import resolve_hub_dataset, source_record
    from hyperfit.images import prepare_digits, prepare_hub
    from hyperfit.runner import write_json

    spec = sm.params.image
    if spec["source"] == "digits":
        data = prepare_digits(spec, sm.params.seed)
        record = {"key": "image.dataset", "kind": "digits"}
    else:
        dataset = spec["dataset"]
        commit = resolve_hub_dataset(dataset["id"], dataset.get("revision"), "image.dataset")
        record = source_record("image.dataset", "dataset", dataset["id"], dataset.get("revision"), commit)
        data = prepare_hub({**spec, "dataset": {**dataset, "commit": commit}}, sm.params.seed, sm.input.model)
    write_json(sm.output.images, data)
    write_json(sm.output.source, record)  # the commit the images were read at
    print({name: len(records) for name, records in data["splits"].items()}, data["description"])


run(snakemake, main)  # noqa: F821
