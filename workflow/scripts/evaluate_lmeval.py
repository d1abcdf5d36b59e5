"""One model folder on one lm-eval suite, through lm-eval's Python API; writes the declared result file."""
from pathlib import Path

import _lib  # noqa: F401
from hyperfit.lmeval import offline_environment, run_suite
from hyperfit.runner import read_json, run, write_json


def main(sm):
    manifest = read_json(Path(sm.input.tasks) / "manifest.json")
    if manifest["source"] == "local":
        offline_environment(sm.params.hf_cache)  # before lm-eval (and datasets) is imported
    spec = sm.params.spec
    record = run_suite(manifest, sm.input.model, shots=spec["shots"], limit=spec["limit"], seed=sm.params.seed,
                       bootstrap_iters=sm.params.bootstrap_iters, batch_size=sm.params.batch_size,
                       dtype=sm.params.dtype)
    record = {"model": sm.wildcards.model, "variant": sm.wildcards.variant, "suite": sm.wildcards.suite,
              "model_dir": str(sm.input.model), **record}
    write_json(sm.output.results, record)
    for row, name in record["tasks"].items():
        values = {k: v for k, v in record["results"].get(name, {}).items() if k.endswith(",none")}
        print(f"{row} ({name}): {values}")
    print(f"{record['seconds']} s")


run(snakemake, main)  # noqa: F821
