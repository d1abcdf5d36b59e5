rule text_metrics:
    input:
        texts=rules.generate_texts.output.texts,
    output:
        table="results/metrics/{model}/{variant}/texts_{decoding}-{length}.tsv",
    params:
        ttr_window=config["metrics"]["ttr_window"],
    log:
        "logs/metrics/{model}/{variant}/texts_{decoding}-{length}.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/text_metrics.py"


rule score_references:
    input:
        tokens=rules.tokenize_data.output.tokens,
        model=variant_model_dir,
    output:
        table="results/metrics/{model}/{variant}/scores.tsv",
    params:
        batch_size=config["metrics"]["score_batch_size"],
        dtype=lambda wildcards: config["models"][wildcards.model].get("dtype", "float32"),
    threads: workflow.cores
    resources:
        mem_mb=4000,
        gpu=lambda wildcards: model_compute(wildcards.model)["inference_gpus"],
    log:
        "logs/metrics/{model}/{variant}/scores.log",
    benchmark:
        "benchmarks/metrics/{model}/{variant}/scores.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/score_references.py"


rule measure_overlap:
    input:
        texts=rules.generate_texts.output.texts,
        tokens=rules.tokenize_data.output.tokens,
        tokenizer=lambda wildcards: base_model_dir(wildcards.model),
    output:
        table="results/metrics/{model}/{variant}/overlap_{decoding}-{length}.tsv",
    resources:
        mem_mb=2000,
    log:
        "logs/metrics/{model}/{variant}/overlap_{decoding}-{length}.log",
    benchmark:
        "benchmarks/metrics/{model}/{variant}/overlap_{decoding}-{length}.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/measure_overlap.py"


rule score_figure4_position:
    input:
        tokens=rules.tokenize_data.output.tokens,
        model=variant_model_dir,
    output:
        table="results/metrics/{model}/{variant}/figure4_position.tsv",
    params:
        figure4=config["figure4"],
        dtype=lambda wildcards: config["models"][wildcards.model].get("dtype", "float32"),
    threads: workflow.cores
    resources:
        mem_mb=4000,
        gpu=lambda wildcards: model_compute(wildcards.model)["inference_gpus"],
    log:
        "logs/metrics/{model}/{variant}/figure4_position.log",
    benchmark:
        "benchmarks/metrics/{model}/{variant}/figure4_position.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/score_figure4_position.py"
