# Downstream evaluation with lm-eval (MMLU, GLUE): original vs hyperfitted, no further fine-tuning.


rule prepare_lmeval_tasks:
    input:
        unpack(get_lmeval_task_inputs),
    output:
        tasks=directory(P.LMEVAL_TASKS),
        source=P.LMEVAL_SOURCE,
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
        results=P.LMEVAL,
    params:
        weights=get_weights_dir,
        spec=lambda wildcards: config["downstream"][wildcards.suite],
        seed=config["seed"],
        batch_size=config["downstream"]["batch_size"],
        bootstrap_iters=config["downstream"]["bootstrap_iters"],
        dtype=get_dtype,
        hf_cache=P.LMEVAL_CACHE,
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


rule make_lmeval_table:
    input:
        results=lambda wildcards: [S.lmeval_result(r["model"], r["setting"], wildcards.suite)
                                   for r in RUNS["variants"]],
        sources=get_lmeval_sources,  # hub commits, named in the .md notes
    output:
        tsv=report(P.TABLE.replace("{table}", "{suite}"), caption="../report/lmeval.rst", category="Tables"),
        md=P.TABLE_MD.replace("{table}", "{suite}"),
    params:
        runs=RUNS["variants"],
    log:
        "logs/tables/{suite}.log",
    benchmark:
        "benchmarks/tables/{suite}.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/make_lmeval_table.py"


rule plot_downstream:
    input:
        **{suite: P.table(suite) for suite in SUITES},
    output:
        pdf=report(P.figure("downstream")["pdf"], caption="../report/downstream.rst", category="Figures"),
        png=P.figure("downstream")["png"],
    log:
        "logs/figures/downstream.log",
    benchmark:
        "benchmarks/figures/downstream.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/plot_downstream.py"
