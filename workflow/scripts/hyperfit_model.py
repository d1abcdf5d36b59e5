"""Hyperfit one base model; per-epoch history (Figure 2's data) and a resumable checkpoint.

With models.<name>.gpus > 1 the training runs in one process per GPU (accelerate launch, FSDP)."""
import _lib  # noqa: F401
from hyperfit.distributed import run_job
from hyperfit.runner import run


def main(sm):
    run_job({
        "tokens": sm.input.tokens, "model": sm.input.model,
        "out_model": sm.output.model, "early_stopped": sm.output.early_stopped, "history": sm.output.history,
        "checkpoints": sm.params.checkpoints,
        "settings": {**sm.params.settings, "seed": sm.params.seed, "ttr_window": sm.params.ttr_window},
        "save_dtype": sm.params.dtype, "processes": sm.params.gpus, "gpu_mem_mb": sm.resources.gpu_mem_mb,
        "cpu_offload": sm.params.cpu_offload,
    })


run(snakemake, main)  # noqa: F821
