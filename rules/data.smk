rule select_passages:
    input:
        corpora=expand("resources/corpora/{domain}.jsonl", domain=corpus_domains()),
    output:
        passages="results/data/passages.json",
    params:
        data=config["data"],
        seed=config["seed"],
        domains=corpus_domains(),
    log:
        "logs/data/select_passages.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/select_passages.py"


rule tokenize_data:
    input:
        passages=rules.select_passages.output.passages,
        model=lambda wildcards: base_model_dir(wildcards.model),
    output:
        tokens="results/data/{model}/tokens.json",
    params:
        data=config["data"],
    log:
        "logs/data/tokenize_{model}.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/tokenize_data.py"
