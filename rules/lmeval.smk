# Downstream evaluation with lm-eval (MMLU, GLUE): original vs hyperfitted, no further fine-tuning.


rule prepare_lmeval_tasks:
    input:
        unpack(lmeval_task_inputs),
    output:
        tasks=directory("resources/lmeval/{suite}"),
    params:
        spec=lambda wildcards: lmeval_task_spec(wildcards.suite),
    log:
        "logs/lmeval/prepare_{suite}.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/prepare_lmeval_tasks.py"


rule evaluate_lmeval:
    input:
        tasks=rules.prepare_lmeval_tasks.output.tasks,
        model=variant_model_dir,
    output:
        results="results/lmeval/{model}/{variant}/{suite}.json",
    params:
        spec=lambda wildcards: config["downstream"][wildcards.suite],
        seed=config["seed"],
        batch_size=config["downstream"]["batch_size"],
        bootstrap_iters=config["downstream"]["bootstrap_iters"],
        dtype=lambda wildcards: config["models"][wildcards.model].get("dtype", "float32"),
        hf_cache="resources/lmeval/hf_datasets_cache",
    threads: workflow.cores
    resources:
        mem_mb=4000,
        gpu=1,
    log:
        "logs/lmeval/{model}/{variant}/{suite}.log",
    benchmark:
        "benchmarks/lmeval/{model}/{variant}/{suite}.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/evaluate_lmeval.py"


rule make_table_mmlu:
    input:
        results=expand("results/lmeval/{model}/{variant}/mmlu.json", model=MODELS, variant=VARIANTS),
    output:
        tsv=report("results/tables/mmlu.tsv", caption="../report/mmlu.rst", category="Tables"),
        md="results/tables/mmlu.md",
    params:
        suite="mmlu",
    log:
        "logs/tables/mmlu.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/make_lmeval_table.py"


rule make_table_glue:
    input:
        results=expand("results/lmeval/{model}/{variant}/glue.json", model=MODELS, variant=VARIANTS),
    output:
        tsv=report("results/tables/glue.tsv", caption="../report/glue.rst", category="Tables"),
        md="results/tables/glue.md",
    params:
        suite="glue",
    log:
        "logs/tables/glue.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/make_lmeval_table.py"


rule plot_downstream:
    input:
        **{suite: f"results/tables/{suite}.tsv" for suite in SUITES},
    output:
        pdf=report("results/figures/downstream.pdf", caption="../report/downstream.rst", category="Figures"),
        png="results/figures/downstream.png",
    log:
        "logs/figures/downstream.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/plot_downstream.py"
