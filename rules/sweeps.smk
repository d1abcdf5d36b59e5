# Experiments that train many models: Figure 5 (data shuffling, data quantity), Table 4 (training-data type)
# and the baselines comparison. Paths:
#   results/data/sweep_passages.json, results/data/{model}/sweep_tokens.json    the sweeps' training windows
#   results/sweeps/{model}/{setting}/{model,early_stopped,history.tsv}         one trained setting
#   results/sweeps/{model}/{setting}/eval/{weights}/{method}-{length}.jsonl    its generations
#   results/sweeps/{model}/{setting}/eval/{weights}/scores.json                its teacher-forced scores
# {setting} is a setting's name (hyperfit.sweeps.setting_name) or "original" (the base model); the main
# setting's weights are the main run's (results/hyperfit/{model}/...), never trained twice.
# Helpers (settings, paths, comparison rows): rules/common.smk.


rule select_sweep_passages:
    input:
        corpora=expand("resources/corpora/{domain}.jsonl", domain=SWEEP_DOMAINS),
        passages=rules.select_passages.output.passages,
    output:
        passages="results/data/sweep_passages.json",
    params:
        domains=SWEEP_DOMAINS,
        needs=sweeplib.pool_needs(config),
        seq_len=sweeplib.pool_seq_len(config),
        data=config["data"],
        seed=config["seed"],
    log:
        "logs/data/select_sweep_passages.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/select_sweep_passages.py"


rule tokenize_sweep_data:
    input:
        passages=rules.select_sweep_passages.output.passages,
        model=lambda wildcards: base_model_dir(wildcards.model),
    output:
        tokens="results/data/{model}/sweep_tokens.json",
    params:
        seq_len=sweeplib.pool_seq_len(config),
    log:
        "logs/data/tokenize_sweeps_{model}.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/tokenize_sweep_data.py"


rule hyperfit_setting:
    input:
        pools=rules.tokenize_sweep_data.output.tokens,
        tokens=rules.tokenize_data.output.tokens,
        model=lambda wildcards: base_model_dir(wildcards.model),
    output:
        model=directory("results/sweeps/{model}/{trained}/model"),
        history="results/sweeps/{model}/{trained}/history.tsv",
    params:
        setting=lambda wildcards: SETTINGS[wildcards.trained],
        settings=lambda wildcards: sweep_training_settings(wildcards.trained, False),
        dtype=model_dtype,
        checkpoints="results/checkpoints/sweeps/{model}/{trained}",
        gpus=lambda wildcards: model_compute(wildcards.model)["gpus"],
        cpu_offload=lambda wildcards: model_compute(wildcards.model)["cpu_offload"],
    threads: workflow.cores
    resources:
        mem_mb=lambda wildcards: model_compute(wildcards.model)["mem_mb"],
        gpu=lambda wildcards: model_compute(wildcards.model)["gpus"],
        gpu_mem_mb=lambda wildcards: model_compute(wildcards.model)["gpu_mem_mb"],
    log:
        "logs/sweeps/{model}/{trained}.log",
    benchmark:
        "benchmarks/sweeps/{model}/{trained}.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/hyperfit_setting.py"


use rule hyperfit_setting as hyperfit_replica with:
    output:
        model=directory("results/sweeps/{model}/{replica}/model"),
        early_stopped=directory("results/sweeps/{model}/{replica}/early_stopped"),
        history="results/sweeps/{model}/{replica}/history.tsv",
    params:
        setting=lambda wildcards: SETTINGS[wildcards.replica],
        settings=lambda wildcards: sweep_training_settings(wildcards.replica, True),
        dtype=model_dtype,
        checkpoints="results/checkpoints/sweeps/{model}/{replica}",
        gpus=lambda wildcards: model_compute(wildcards.model)["gpus"],
        cpu_offload=lambda wildcards: model_compute(wildcards.model)["cpu_offload"],
    log:
        "logs/sweeps/{model}/{replica}.log",
    benchmark:
        "benchmarks/sweeps/{model}/{replica}.tsv"


rule generate_setting:
    input:
        unpack(sweep_generation_inputs),
    output:
        texts="results/sweeps/{model}/{setting}/eval/{weights}/{method}-{length}.jsonl",
    params:
        decoding=method_decoding,
        setting=lambda wildcards: SETTINGS.get(wildcards.setting),
        batch_size=config["generation"]["batch_size"],
        seed=generation_seed,
        dtype=model_dtype,
    threads: workflow.cores
    resources:
        mem_mb=4000,
        gpu=lambda wildcards: model_compute(wildcards.model)["inference_gpus"],
    log:
        "logs/sweeps/{model}/{setting}/eval-{weights}-{method}-{length}.log",
    benchmark:
        "benchmarks/sweeps/{model}/{setting}/eval-{weights}-{method}-{length}.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/generate_texts.py"


rule score_setting:
    input:
        tokens=rules.tokenize_data.output.tokens,
        model=setting_weights,
    output:
        scores="results/sweeps/{model}/{setting}/eval/{weights}/scores.json",
    params:
        batch_size=config["metrics"]["score_batch_size"],
        dtype=model_dtype,
    threads: workflow.cores
    resources:
        mem_mb=4000,
        gpu=lambda wildcards: model_compute(wildcards.model)["inference_gpus"],
    log:
        "logs/sweeps/{model}/{setting}/scores-{weights}.log",
    benchmark:
        "benchmarks/sweeps/{model}/{setting}/scores-{weights}.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/score_setting.py"


rule match_temperature:
    input:
        tokens=rules.tokenize_data.output.tokens,
        model=lambda wildcards: base_model_dir(wildcards.model),
        target=lambda wildcards: sweep_scores(wildcards.model, wildcards.setting),
    output:
        temperature="results/sweeps/{model}/original/eval/model/temperature-{setting}.json",
    params:
        search=COMPARISON["temperature"],
        batch_size=config["metrics"]["score_batch_size"],
        dtype=model_dtype,
    threads: workflow.cores
    resources:
        mem_mb=6000,
        gpu=lambda wildcards: model_compute(wildcards.model)["inference_gpus"],
    log:
        "logs/sweeps/{model}/original/temperature-{setting}.log",
    benchmark:
        "benchmarks/sweeps/{model}/original/temperature-{setting}.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/match_temperature.py"


rule make_figure5_shuffle:
    input:
        scores=[r["path"] for r in labelled("shuffle", sweep_scores)],
        original=expand("results/sweeps/{model}/original/eval/model/scores.json", model=SWEEP_MODELS),
    output:
        tsv=report("results/tables/figure5_shuffle.tsv", caption="../report/figure5.rst", category="Tables"),
        md="results/tables/figure5_shuffle.md",
    params:
        runs=labelled("shuffle", sweep_scores),
        models=SWEEP_MODELS,
    log:
        "logs/tables/figure5_shuffle.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/make_figure5_shuffle.py"


rule make_figure5_quantity:
    input:
        texts=[r["path"] for r in labelled("quantity", lambda m, n: sweep_generation(m, n, "model", "greedy"))],
        histories=[r["path"] for r in labelled("quantity", history_path)],
        original=expand("results/generate/{model}/original/greedy-{length}.jsonl", model=SWEEP_MODELS,
                        length=TOP_LENGTH),
    output:
        tsv=report("results/tables/figure5_quantity.tsv", caption="../report/figure5.rst", category="Tables"),
        md="results/tables/figure5_quantity.md",
    params:
        runs=labelled("quantity", lambda m, n: sweep_generation(m, n, "model", "greedy")),
        histories=labelled("quantity", history_path),
        models=SWEEP_MODELS,
        ttr_window=config["metrics"]["ttr_window"],
        updates=config["sweeps"]["base"]["updates"],
    log:
        "logs/tables/figure5_quantity.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/make_figure5_quantity.py"


rule plot_figure5:
    input:
        shuffle=rules.make_figure5_shuffle.output.tsv,
        quantity=rules.make_figure5_quantity.output.tsv,
    output:
        pdf=report("results/figures/figure5.pdf", caption="../report/figure5.rst", category="Figures"),
        png="results/figures/figure5.png",
    log:
        "logs/figures/figure5.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/plot_figure5.py"


rule make_table4:
    input:
        texts=[r["path"] for r in labelled("data_type", lambda m, n: sweep_generation(m, n, "model", "greedy"))],
        scores=[r["path"] for r in labelled("data_type", sweep_scores)],
        original_texts=expand("results/generate/{model}/original/greedy-{length}.jsonl", model=SWEEP_MODELS,
                              length=TOP_LENGTH),
        original_scores=expand("results/sweeps/{model}/original/eval/model/scores.json", model=SWEEP_MODELS),
        human="results/human/preference.tsv",
    output:
        tsv=report("results/tables/table4.tsv", caption="../report/table4.rst", category="Tables"),
        md="results/tables/table4.md",
    params:
        texts=labelled("data_type", lambda m, n: sweep_generation(m, n, "model", "greedy")),
        scores=labelled("data_type", sweep_scores),
        models=SWEEP_MODELS,
        ttr_window=config["metrics"]["ttr_window"],
        human={"variants": {d: table4_variant(d) for d in config["sweeps"]["data_type"]["domains"]},
               "decoding": COMPARISON["decoding"], "length": TOP_LENGTH, "seed": SEEDS[0],
               "original": {"variant": "original", "decoding": COMPARISON["decoding"]}},
    log:
        "logs/tables/table4.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/make_table4.py"


rule make_comparison:
    input:
        unpack(comparison_inputs),
    output:
        tsv=report("results/tables/comparison.tsv", caption="../report/comparison.rst", category="Tables"),
        md="results/tables/comparison.md",
        per_seed="results/tables/comparison_per_seed.tsv",
    params:
        runs=comparison_runs(),
        models=SWEEP_MODELS,
        settings=SETTINGS,
        ttr_window=config["metrics"]["ttr_window"],
        threshold=config["metrics"]["overlap_threshold"],
    log:
        "logs/tables/comparison.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/make_comparison.py"


rule plot_comparison:
    input:
        table=rules.make_comparison.output.tsv,
    output:
        pdf=report("results/figures/comparison.pdf", caption="../report/comparison.rst", category="Figures"),
        png="results/figures/comparison.png",
    log:
        "logs/figures/comparison.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/plot_comparison.py"
