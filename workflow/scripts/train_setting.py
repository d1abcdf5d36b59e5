"""Train one setting of the settings table (the main run, a sweep setting, a replica of the main run): its
run folder gets model/, history.tsv and, where asked, early_stopped/. With models.<name>.compute.gpus > 1
the training runs in one process per GPU (accelerate launch, FSDP). The trained weights are saved in
hyperfit.export_dtype. Under SLURM the job stops before its time limit with a checkpoint written (exit 1), so that
a resubmission (profiles/slurm: retries) resumes it."""
from hyperfit.distributed import job_deadline
from hyperfit.runner import run


def main(sm):
    from hyperfit.distributed import run_job
    from hyperfit.revisions import revisions_dict

    job = sm.params.training
    print(f"setting {job['setting']}: {job['train']}")
    run_job({
        "tokens": sm.input.tokens, "model": sm.input.model, "run": sm.output.run, "train": job["train"],
        "settings": job["settings"], "early_stopped": job["early_stopped"], "checkpoints": sm.params.checkpoints,
        "deadline": job_deadline(), "threads_asked": sm.threads, "save_dtype": job["settings"]["export_dtype"],
        "processes": job["gpus"], "gpu_mem_mb": sm.resources.gpu_mem_mb,
        "cpu_offload": job["cpu_offload"], "revisions": revisions_dict(sm.input.sources),
    })


run(snakemake, main)  # noqa: F821
