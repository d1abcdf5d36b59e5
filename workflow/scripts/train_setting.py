"""Train one setting of the settings table (the main run, a sweep setting, a replica of the main run): its
run folder gets model/, history.tsv and, where asked, early_stopped/. With models.<name>.compute.gpus > 1
the training runs in one process per GPU (accelerate launch, FSDP)."""
from hyperfit.runner import run


def main(sm):
    from hyperfit.distributed import run_job
    from hyperfit.revisions import revisions_dict

    job = sm.params.training
    print(f"setting {job['setting']}: {job['train']}")
    run_job({
        "tokens": sm.input.tokens, "model": sm.input.model, "run": sm.output.run, "train": job["train"],
        "settings": job["settings"], "early_stopped": job["early_stopped"], "checkpoints": sm.params.checkpoints,
        "save_dtype": job["dtype"], "processes": job["gpus"], "gpu_mem_mb": sm.resources.gpu_mem_mb,
        "cpu_offload": job["cpu_offload"], "revisions": revisions_dict(sm.input.sources),
    })


run(snakemake, main)  # noqa: F821
