# The baselines the paper lacks and the 2026 follow-up: the comparison of hyperfitting with decoding-time fixes
# (repetition penalty, sampling at the entropy-matched temperature, early stopping, LoRA), the follow-up's fixed
# logit bias, its per-layer statistics and the hyperfitted greedy path's overrides of the original's top-1.
# Measures first, then tables, then plots.


rule match_temperature:
    input:
        tokens=rules.tokenize_data.output.tokens,
        model=get_base_model,
        target=get_matched_scores,
    output:
        temperature=P.TEMPERATURE,
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


rule make_comparison:
    input:
        metrics=runs_paths(RUNS["comparison"], "metrics"),
        scores=runs_paths(RUNS["comparison"], "scores"),
        temperatures=runs_paths(RUNS["comparison"], "temperature"),
        mauve=[S.mauve_file(m, "comparison") for m in COMPARISON_MODELS],
        quality=[S.quality_file(m, "comparison") for m in COMPARISON_MODELS],
        runs=runs_paths(RUNS["comparison"], "train") + runs_paths(RUNS["comparison"], "hyperfitted_train"),
        sources=TEXT_SOURCES,  # hub commits, named in the .md notes
    output:
        tsv=report(P.table("comparison"), caption="../report/comparison.rst", category="Tables"),
        md=P.table_md("comparison"),
        per_seed=P.table("comparison_per_seed"),
    params:
        runs=RUNS["comparison"],
        threshold=config["metrics"]["overlap_threshold"],
        seed=config["seed"],
        quality=config["quality"],
        models=MODELS,
    log:
        "logs/tables/comparison.log",
    benchmark:
        "benchmarks/tables/comparison.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/make_comparison.py"


rule plot_comparison:
    input:
        table=rules.make_comparison.output.tsv,
    output:
        pdf=report(P.figure("comparison")["pdf"], caption="../report/comparison.rst", category="Figures"),
        png=P.figure("comparison")["png"],
    log:
        "logs/figures/comparison.log",
    benchmark:
        "benchmarks/figures/comparison.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/plot_comparison.py"


rule compute_logit_bias:
    input:
        tokens=rules.tokenize_data.output.tokens,
        model=get_base_model,
        run=MAIN_TRAIN,
    output:
        bias=P.LOGIT_BIAS,
        bias_top=P.LOGIT_BIAS_TOP,
        entropy=P.LOGIT_BIAS_ENTROPY,
    params:
        strengths=config["followup"]["bias_strengths"],
        top_k=config["followup"]["bias_top_k"],
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


rule measure_own_entropy:
    input:
        tokens=rules.tokenize_data.output.tokens,
        model=get_base_model,
        run=MAIN_TRAIN,
        bias=rules.compute_logit_bias.output.bias,
        bias_top=rules.compute_logit_bias.output.bias_top,
        texts=lambda wildcards: runs_paths(own_entropy_runs(wildcards.model), "texts"),
    output:
        entropy=P.OWN_ENTROPY,
    params:
        runs=lambda wildcards: own_entropy_runs(wildcards.model),
        batch_size=config["metrics"]["score_batch_size"],
        dtype=get_dtype,
    threads: JOB_THREADS
    resources:
        **sized("measure_own_entropy"),
        gpu=get_compute("inference_gpus"),
    log:
        "logs/eval/{model}/hyperfitted/model/own_entropy.log",
    benchmark:
        "benchmarks/eval/{model}/hyperfitted/model/own_entropy.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/measure_own_entropy.py"


rule make_followup_bias:
    input:
        metrics=runs_paths(RUNS["bias"] + RUNS["references"], "metrics"),
        scores=runs_paths(RUNS["references"], "scores"),
        entropy=[S.logit_bias_entropy(m) for m in FOLLOWUP_MODELS],
        own=[S.own_entropy_file(m) for m in FOLLOWUP_MODELS],
        sources=TEXT_SOURCES,  # hub commits, named in the .md notes
    output:
        tsv=report(P.table("followup_bias"), caption="../report/followup.rst", category="Follow-up"),
        md=P.table_md("followup_bias"),
    params:
        runs=RUNS["bias"],
        references=RUNS["references"],
        models=FOLLOWUP_MODELS,
        top_k=config["followup"]["bias_top_k"],
    log:
        "logs/tables/followup_bias.log",
    benchmark:
        "benchmarks/tables/followup_bias.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/make_followup_bias.py"


rule plot_followup_bias:
    input:
        table=rules.make_followup_bias.output.tsv,
    output:
        pdf=report(P.figure("followup_bias")["pdf"], caption="../report/followup.rst", category="Follow-up"),
        png=P.figure("followup_bias")["png"],
    log:
        "logs/figures/followup_bias.log",
    benchmark:
        "benchmarks/figures/followup_bias.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/plot_followup_bias.py"


rule measure_layers:
    input:
        tokens=rules.tokenize_data.output.tokens,
        model=get_base_model,
        run=MAIN_TRAIN,
    output:
        table=P.LAYERS,
    params:
        batch_size=config["metrics"]["score_batch_size"],
        dtype=get_dtype,
        skip_first_position=config["followup"]["layers"]["skip_first_position"],
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


rule make_followup_layers:
    input:
        tables=[S.layers_file(m) for m in FOLLOWUP_MODELS],
        sources=TEXT_SOURCES,  # hub commits, named in the .md notes
    output:
        tsv=report(P.table("followup_layers"), caption="../report/followup.rst", category="Follow-up"),
        md=P.table_md("followup_layers"),
    params:
        models=FOLLOWUP_MODELS,
        skip_first_position=config["followup"]["layers"]["skip_first_position"],
    log:
        "logs/tables/followup_layers.log",
    benchmark:
        "benchmarks/tables/followup_layers.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/make_followup_layers.py"


rule plot_followup_layers:
    input:
        table=rules.make_followup_layers.output.tsv,
    output:
        pdf=report(P.figure("followup_layers")["pdf"], caption="../report/followup.rst", category="Follow-up"),
        png=P.figure("followup_layers")["png"],
    log:
        "logs/figures/followup_layers.log",
    benchmark:
        "benchmarks/figures/followup_layers.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/plot_followup_layers.py"


rule measure_overrides:
    input:
        tokens=rules.tokenize_data.output.tokens,
        model=get_base_model,
        texts=lambda wildcards: hyperfitted_greedy(wildcards.model),
    output:
        table=P.OVERRIDES,
    params:
        batch_size=config["metrics"]["score_batch_size"],
        dtype=get_dtype,
    threads: JOB_THREADS
    resources:
        **sized("measure_overrides"),
        gpu=get_compute("inference_gpus"),
    log:
        "logs/eval/{model}/hyperfitted/model/overrides.log",
    benchmark:
        "benchmarks/eval/{model}/hyperfitted/model/overrides.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/measure_overrides.py"


rule make_followup_overrides:
    input:
        tables=[S.overrides_file(m) for m in FOLLOWUP_MODELS],
        sources=TEXT_SOURCES,  # hub commits, named in the .md notes
    output:
        tsv=report(P.table("followup_overrides"), caption="../report/followup.rst", category="Follow-up"),
        md=P.table_md("followup_overrides"),
    params:
        models=FOLLOWUP_MODELS,
        seed=config["seed"],
    log:
        "logs/tables/followup_overrides.log",
    benchmark:
        "benchmarks/tables/followup_overrides.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/make_followup_overrides.py"
