"""One lm-eval suite's task folder: local task files and converted data, or a check of the hub tasks."""
from hyperfit.runner import run


def main(sm):
    from hyperfit.assets import verify_asset
    from hyperfit.lmeval import prepare_suite
    from hyperfit.runner import write_json

    if sm.input.get("asset"):
        verify_asset(sm.input.asset, sm.params.pin["name"], sm.params.pin["sha256"])
    manifest = prepare_suite(sm.wildcards.suite, sm.params.spec, sm.output.tasks, sm.input.get("asset"))
    # the hub dataset's commit, which every run of the suite reads it at (local tasks: no hub)
    write_json(sm.output.source, manifest.get("source_record") or {"key": f"downstream.{sm.wildcards.suite}",
                                                                    "kind": manifest["source"]})
    print(f"{sm.wildcards.suite} ({manifest['source']}): run {manifest['run']}; table rows {manifest['rows']}")
    for task, note in manifest["skipped"].items():
        print(f"{task}: {note}")
    if manifest["documents"]:
        print(f"{sum(manifest['documents'].values())} documents in {len(manifest['documents'])} task(s)")


run(snakemake, main)  # noqa: F821
