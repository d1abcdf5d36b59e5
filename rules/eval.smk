# Evaluation of a setting's weights: continuations (setting x weights x method x length) and their per-text
# metrics, teacher-forced scores of the evaluation texts (setting x weights), Figure 4's distribution, and
# the original model's temperature matched to a trained setting's entropy.


rule generate_texts:
    input:
        unpack(get_generation_inputs),
    output:
        texts="results/eval/{model}/{setting}/{weights}/{method}-{length}.jsonl",
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
        table="results/eval/{model}/{setting}/{weights}/{method}-{length}.tsv",
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
        scores="results/eval/{model}/{setting}/{weights}/scores.json",
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


rule score_figure4_position:
    input:
        tokens=rules.tokenize_data.output.tokens,
        weights=get_weights,
    output:
        table="results/eval/{model}/{setting}/model/figure4_position.tsv",
    params:
        weights=get_weights_dir,
        figure4=config["figure4"],
        dtype=get_dtype,
    threads: JOB_THREADS
    resources:
        **sized("score_figure4_position"),
        gpu=get_compute("inference_gpus"),
    log:
        "logs/eval/{model}/{setting}/model/figure4_position.log",
    benchmark:
        "benchmarks/eval/{model}/{setting}/model/figure4_position.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/score_figure4_position.py"


rule match_temperature:
    input:
        tokens=rules.tokenize_data.output.tokens,
        model=get_base_model,
        target=get_matched_scores,
    output:
        temperature="results/eval/{model}/original/model/temperature-{setting}.json",
    params:
        search=config["comparison"]["temperature"],
        batch_size=config["metrics"]["score_batch_size"],
        dtype=get_dtype,
    threads: JOB_THREADS
    resources:
        **sized("match_temperature"),
        gpu=get_compute("inference_gpus"),
    log:
        "logs/eval/{model}/original/model/temperature-{setting}.log",
    benchmark:
        "benchmarks/eval/{model}/original/model/temperature-{setting}.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/match_temperature.py"


rule compute_logit_bias:
    input:
        tokens=rules.tokenize_data.output.tokens,
        model=get_base_model,
        run="results/train/{model}/hyperfitted",
    output:
        bias="results/eval/{model}/hyperfitted/model/logit_bias.pt",
        entropy="results/eval/{model}/hyperfitted/model/logit_bias.json",
    params:
        strengths=config["followup"]["bias_strengths"],
        batch_size=config["metrics"]["score_batch_size"],
        dtype=get_dtype,
    threads: JOB_THREADS
    resources:
        **sized("compute_logit_bias"),
        gpu=get_compute("inference_gpus"),
    log:
        "logs/eval/{model}/hyperfitted/model/logit_bias.log",
    benchmark:
        "benchmarks/eval/{model}/hyperfitted/model/logit_bias.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/compute_logit_bias.py"


rule measure_layers:
    input:
        tokens=rules.tokenize_data.output.tokens,
        model=get_base_model,
        run="results/train/{model}/hyperfitted",
    output:
        table="results/eval/{model}/hyperfitted/model/layers.tsv",
    params:
        batch_size=config["metrics"]["score_batch_size"],
        dtype=get_dtype,
    threads: JOB_THREADS
    resources:
        **sized("measure_layers"),
        gpu=get_compute("inference_gpus"),
    log:
        "logs/eval/{model}/hyperfitted/model/layers.log",
    benchmark:
        "benchmarks/eval/{model}/hyperfitted/model/layers.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/measure_layers.py"


rule get_mauve_featurizer:
    output:
        model=directory("resources/models/mauve-featurizer"),
        source="resources/models/mauve-featurizer.source.json",
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
        texts=lambda wildcards: [r["texts"] for r in S.mauve_runs(config, wildcards.model)],
        tokens=rules.tokenize_data.output.tokens,
        tokenizer=get_base_model,
        featurizer=S.featurizer_dir(config),
    output:
        table="results/eval/{model}/mauve.tsv",
    params:
        runs=lambda wildcards: S.mauve_runs(config, wildcards.model),
        featurizer=config["followup"]["mauve"]["featurizer"],
        max_tokens=config["followup"]["mauve"]["max_tokens"],
        seed=config["seed"],
    threads: JOB_THREADS
    resources:
        **sized("measure_mauve"),
    log:
        "logs/eval/{model}/mauve.log",
    benchmark:
        "benchmarks/eval/{model}/mauve.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/measure_mauve.py"
