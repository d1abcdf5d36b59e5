# Training: one rule for every trained setting of the settings table (the main run, the sweeps, the
# comparison's replicas). A run's folder holds model/, history.tsv and, where an experiment needs them,
# early_stopped/ (the same run's weights at its lowest validation loss). Resume state lives outside it; under
# SLURM a job stops before its time limit with a checkpoint written (exit 1), and profiles/slurm's retries
# resubmit it to resume.


rule train_setting:
    input:
        tokens=rules.tokenize_data.output.tokens,
        model=get_base_model,
        sources=get_train_sources,  # hub commits, named in run.json
    output:
        run=directory(P.TRAIN),
    params:
        training=get_training,
        checkpoints=P.CHECKPOINTS,
    # models.<name>.compute.cpus, one by default (JOB_THREADS): the job's training processes share them, and with
    # cpu_offload each needs 4 or more for its share of Adam's step on the host
    threads: lambda wildcards: config["models"][wildcards.model]["compute"].get("cpus", JOB_THREADS)
    priority: 10  # trainings are the longest jobs and start the longest chains: first when ready
    resources:
        **sized("train_setting"),  # an explicit compute.mem_mb / gpu_mem_mb wins (hyperfit.sizing.job)
        gpu=get_compute("gpus"),
    log:
        "logs/train/{model}/{setting}.log",
    benchmark:
        "benchmarks/train/{model}/{setting}.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/train_setting.py"
