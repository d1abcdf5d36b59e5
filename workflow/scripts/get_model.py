"""A base model as a plain Hugging Face folder: converted from a GGUF asset, or fetched from the hub."""
from hyperfit.runner import run


def main(sm):
    import tempfile
    from pathlib import Path

    from hyperfit.assets import convert_gguf, extract_member, fetch_hub_model

    from hyperfit.assets import verify_asset

    spec = sm.params.spec
    if spec["source"] == "gguf":
        verify_asset(sm.input.asset, sm.params.pin["name"], sm.params.pin["sha256"])
        with tempfile.TemporaryDirectory() as tmp:
            gguf = extract_member(sm.input.asset, spec["member"], Path(tmp) / Path(spec["member"]).name)
            convert_gguf(gguf, sm.output.model)
    else:
        fetch_hub_model(spec["id"], sm.output.model, spec.get("revision"))
    print(f"model written to {sm.output.model}")


run(snakemake, main)  # noqa: F821
