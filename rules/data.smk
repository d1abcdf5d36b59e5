# Data: passages chosen once on text (the main run's windows, the evaluation and validation texts, every
# setting's pool of training passages; where documents are separated, each training domain's held-out documents
# are decided first), then token ids per model.


rule select_passages:
    input:
        corpora=expand(P.CORPUS, domain=S.corpus_domains(config)),
    output:
        passages=P.PASSAGES,
        summary=P.SELECTION,  # per domain and role: texts, documents, words, separation
    params:
        domains=S.corpus_domains(config),
        plan=S.data_plan(config),
    log:
        "logs/data/select_passages.log",
    benchmark:
        "benchmarks/data/select_passages.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/select_passages.py"


rule tokenize_data:
    input:
        passages=rules.select_passages.output.passages,
        model=get_base_model,
    output:
        tokens=P.TOKENS,
    params:
        pool_seq_len=S.pool_seq_len(config),
        data=config["data"],
        needs=token_needs(config),
    log:
        "logs/data/tokenize_{model}.log",
    benchmark:
        "benchmarks/data/tokenize_{model}.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/tokenize_data.py"
