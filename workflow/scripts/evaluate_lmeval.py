"""One setting's weights on one lm-eval suite, through lm-eval's Python API; writes the declared result file."""
from hyperfit.runner import run


def main(sm):
    from pathlib import Path

    from hyperfit.lmeval import offline_environment, run_suite
    from hyperfit.runner import read_json, write_json

    manifest = read_json(Path(sm.input.tasks) / "manifest.json")
    # no network from here (set before lm-eval and datasets are imported): local tasks convert their data into
    # the project's cache; a hub suite reads the datasets its prepare job kept, at the pinned commit
    if manifest["source"] == "local":
        offline_environment(sm.params.hf_cache)
    elif manifest.get("datasets"):
        offline_environment(Path(sm.input.tasks) / manifest["datasets"])
        print(f"{manifest['suite']}: the datasets prepared at {manifest['pins']} read offline")
    spec = sm.params.spec
    record = run_suite(manifest, sm.params.weights, shots=spec["shots"], limit=spec["limit"], seed=sm.params.seed,
                       bootstrap_iters=sm.params.bootstrap_iters, batch_size=sm.params.batch_size,
                       dtype=sm.params.dtype, gpus=sm.resources.gpu)
    record = {"model": sm.wildcards.model, "setting": sm.wildcards.setting, "suite": sm.wildcards.suite,
              "model_dir": str(sm.params.weights), **record}
    write_json(sm.output.results, record)
    for row, name in record["tasks"].items():
        values = {k: v for k, v in record["results"].get(name, {}).items() if k.endswith(",none")}
        print(f"{row} ({name}): {values}")
    print(f"{record['seconds']} s")


run(snakemake, main)  # noqa: F821
