# Downstream evaluation with lm-eval (MMLU, GLUE): original vs hyperfitted, no further fine-tuning.


rule prepare_lmeval_tasks:
    input:
        unpack(get_lmeval_task_inputs),
    output:
        tasks=directory("resources/lmeval/{suite}"),
        source="resources/lmeval/{suite}.source.json",
    params:
        spec=get_lmeval_task_spec,
        pin=get_pin("downstream", "suite"),
    log:
        "logs/lmeval/prepare_{suite}.log",
    benchmark:
        "benchmarks/lmeval/prepare_{suite}.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/prepare_lmeval_tasks.py"


rule evaluate_lmeval:
    input:
        tasks=rules.prepare_lmeval_tasks.output.tasks,
        weights=get_weights,
    output:
        results="results/eval/{model}/{setting}/model/lmeval_{suite}.json",
    params:
        weights=get_weights_dir,
        spec=lambda wildcards: config["downstream"][wildcards.suite],
        seed=config["seed"],
        batch_size=config["downstream"]["batch_size"],
        bootstrap_iters=config["downstream"]["bootstrap_iters"],
        dtype=get_dtype,
        hf_cache="resources/lmeval/hf_datasets_cache",
    threads: JOB_THREADS
    resources:
        **sized("evaluate_lmeval"),
        gpu=get_compute("inference_gpus"),
    log:
        "logs/lmeval/{model}/{setting}/{suite}.log",
    benchmark:
        "benchmarks/lmeval/{model}/{setting}/{suite}.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/evaluate_lmeval.py"
