rule generate_texts:
    input:
        tokens=rules.tokenize_data.output.tokens,
        model=variant_model_dir,
    output:
        texts="results/generate/{model}/{variant}/{decoding}-{length}.jsonl",
    params:
        decoding=decoding_settings,
        batch_size=config["generation"]["batch_size"],
        seed=config["seed"],
        dtype=lambda wildcards: config["models"][wildcards.model].get("dtype", "float32"),
    threads: workflow.cores
    resources:
        mem_mb=4000,
        gpu=lambda wildcards: model_compute(wildcards.model)["inference_gpus"],
    log:
        "logs/generate/{model}/{variant}/{decoding}-{length}.log",
    benchmark:
        "benchmarks/generate/{model}/{variant}/{decoding}-{length}.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/generate_texts.py"
