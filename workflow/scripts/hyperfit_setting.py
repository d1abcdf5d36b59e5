"""Hyperfit one sweep setting (its own windows, order and update count); for a replica of the main run
under another seed, its early-stopped weights beside."""
import _lib  # noqa: F401
from hyperfit.distributed import run_job
from hyperfit.runner import run


def main(sm):
    print(f"setting: {sm.params.setting}")
    run_job({
        "tokens": sm.input.tokens, "pools": sm.input.pools, "setting": sm.params.setting, "model": sm.input.model,
        "out_model": sm.output.model, "early_stopped": sm.output.get("early_stopped"), "history": sm.output.history,
        "checkpoints": sm.params.checkpoints, "settings": sm.params.settings, "save_dtype": sm.params.dtype,
        "processes": sm.params.gpus, "gpu_mem_mb": sm.resources.gpu_mem_mb, "cpu_offload": sm.params.cpu_offload,
    })


run(snakemake, main)  # noqa: F821
