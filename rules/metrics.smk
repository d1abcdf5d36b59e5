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
        gpu=1,
    log:
        "logs/metrics/{model}/{variant}/scores.log",
    benchmark:
        "benchmarks/metrics/{model}/{variant}/scores.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/score_references.py"
