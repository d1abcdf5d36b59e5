rule hyperfit_model:
    input:
        tokens=rules.tokenize_data.output.tokens,
        model=lambda wildcards: base_model_dir(wildcards.model),
    output:
        model=directory("results/hyperfit/{model}/model"),
        early_stopped=directory("results/hyperfit/{model}/early_stopped"),  # the epoch of lowest validation loss
        history="results/hyperfit/{model}/history.tsv",
    params:
        settings=config["hyperfit"],
        seed=config["seed"],
        ttr_window=config["metrics"]["ttr_window"],
        dtype=lambda wildcards: config["models"][wildcards.model].get("dtype", "float32"),
        checkpoints="results/checkpoints/hyperfit/{model}",
        gpus=lambda wildcards: model_compute(wildcards.model)["gpus"],
        cpu_offload=lambda wildcards: model_compute(wildcards.model)["cpu_offload"],
    threads: workflow.cores
    resources:
        mem_mb=lambda wildcards: model_compute(wildcards.model)["mem_mb"],
        gpu=lambda wildcards: model_compute(wildcards.model)["gpus"],
        gpu_mem_mb=lambda wildcards: model_compute(wildcards.model)["gpu_mem_mb"],
    log:
        "logs/hyperfit/{model}.log",
    benchmark:
        "benchmarks/hyperfit/{model}.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/hyperfit_model.py"
