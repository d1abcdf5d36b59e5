# Evaluation shared by every family: continuations (setting x weights x method x length), their per-text metrics,
# their quality (scorer perplexity, coherence; and the human continuations') and their MAUVE against the human
# continuations, and the teacher-forced scores of the evaluation texts (setting x weights).


rule generate_texts:
    input:
        unpack(get_generation_inputs),
    output:
        texts=P.GENERATION,
    params:
        generation=get_generation,
        weights=get_weights_dir,
        batch_size=config["generation"]["batch_size"],
        dtype=get_dtype,
    threads: JOB_THREADS
    resources:
        **sized("generate_texts"),
        gpu=get_compute("inference_gpus"),
    log:
        "logs/eval/{model}/{setting}/{weights}/{method}-{length}.log",
    benchmark:
        "benchmarks/eval/{model}/{setting}/{weights}/{method}-{length}.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/generate_texts.py"


rule measure_texts:
    input:
        texts=rules.generate_texts.output.texts,
        tokens=rules.tokenize_data.output.tokens,
        tokenizer=get_base_model,
    output:
        table=P.TEXT_METRICS,
    params:
        windows=get_windows,
        ttr_window=config["metrics"]["ttr_window"],
    resources:
        mem_mb=2000,
    log:
        "logs/eval/{model}/{setting}/{weights}/{method}-{length}.metrics.log",
    benchmark:
        "benchmarks/eval/{model}/{setting}/{weights}/{method}-{length}.metrics.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/measure_texts.py"


rule score_texts:
    input:
        tokens=rules.tokenize_data.output.tokens,
        weights=get_weights,
    output:
        scores=P.SCORES,
    params:
        weights=get_weights_dir,
        batch_size=config["metrics"]["score_batch_size"],
        dtype=get_dtype,
    threads: JOB_THREADS
    resources:
        **sized("score_texts"),
        gpu=get_compute("inference_gpus"),
    log:
        "logs/eval/{model}/{setting}/{weights}/scores.log",
    benchmark:
        "benchmarks/eval/{model}/{setting}/{weights}/scores.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/score_texts.py"


rule get_mauve_featurizer:
    output:
        model=directory(P.MAUVE_FEATURIZER),
        source=P.MAUVE_FEATURIZER_SOURCE,
    params:
        spec={"source": "hub", "id": config["followup"]["mauve"]["featurizer"],
              "revision": config["followup"]["mauve"]["revision"]},
        key="followup.mauve.featurizer",
    log:
        "logs/resources/mauve_featurizer.log",
    benchmark:
        "benchmarks/resources/mauve_featurizer.tsv"
    resources:
        **sized("get_mauve_featurizer"),
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/get_model.py"


rule measure_mauve:
    input:
        texts=lambda wildcards: [r["texts"] for r in PLAN.mauve_runs(wildcards.model, wildcards.table)],
        tokens=rules.tokenize_data.output.tokens,
        tokenizer=get_base_model,
        featurizer=S.featurizer_dir(config),
    output:
        table=P.MAUVE,
    params:
        runs=lambda wildcards: PLAN.mauve_runs(wildcards.model, wildcards.table),
        featurizer=config["followup"]["mauve"]["featurizer"],
        max_tokens=config["followup"]["mauve"]["max_tokens"],
        min_tokens=config["followup"]["mauve"]["min_tokens"],
        scale=config["followup"]["mauve"]["scale"],
        seed=config["seed"],
    threads: JOB_THREADS
    resources:
        **sized("measure_mauve"),
    log:
        "logs/eval/{model}/mauve_{table}.log",
    benchmark:
        "benchmarks/eval/{model}/mauve_{table}.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/measure_mauve.py"


# Quality beside diversity (hyperfit.quality): a scorer model's perplexity of each continuation given its prompt, and
# prompt-continuation coherence; per model and table (the files MAUVE reads, the scorer loaded once) and, as the
# reference point, for the human continuations at each of their lengths.
rule get_quality_scorer:
    output:
        model=directory(P.QUALITY_SCORER),
        source=P.QUALITY_SCORER_SOURCE,
    params:
        spec={"source": "hub", "id": config["quality"]["scorer"]["model"],
              "revision": config["quality"]["scorer"]["revision"]},
        key="quality.scorer",
    log:
        "logs/resources/quality_scorer.log",
    benchmark:
        "benchmarks/resources/quality_scorer.tsv"
    resources:
        **sized("get_quality_scorer"),
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/get_model.py"


rule get_coherence_model:
    output:
        model=directory(P.COHERENCE_MODEL),
        source=P.COHERENCE_MODEL_SOURCE,
    params:
        spec={"source": "hub", "id": config["quality"]["coherence"]["model"],
              "revision": config["quality"]["coherence"]["revision"]},
        key="quality.coherence",
    log:
        "logs/resources/coherence_model.log",
    benchmark:
        "benchmarks/resources/coherence_model.tsv"
    resources:
        **sized("get_coherence_model"),
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/get_model.py"


rule measure_quality:
    input:
        texts=lambda wildcards: [r["texts"] for r in PLAN.mauve_runs(wildcards.model, wildcards.table)],
        tokens=rules.tokenize_data.output.tokens,
        tokenizer=get_base_model,
        scorer=S.quality_model_dir(config, "scorer"),
        coherence=S.quality_model_dir(config, "coherence"),
    output:
        table=P.QUALITY,
    params:
        runs=lambda wildcards: PLAN.mauve_runs(wildcards.model, wildcards.table),
        quality=config["quality"],
    threads: JOB_THREADS
    resources:
        **sized("measure_quality"),
        gpu=config["quality"]["scorer"]["gpus"],
    log:
        "logs/eval/{model}/quality_{table}.log",
    benchmark:
        "benchmarks/eval/{model}/quality_{table}.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/measure_quality.py"
