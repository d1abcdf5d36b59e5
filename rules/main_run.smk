# The main run (the paper's Section 3-4): original vs hyperfitted, every model, every decoding and length:
# Figure 2 (training curves), Table 1 (perplexity, TTR, MAUVE, quality, human preference), Figures 1 and 9 (TTR over a
# text), Table 2 and Figure 3 (overlap with the training data), Table 3 and Figure 4 (the next-token
# distribution). Measures first, then tables, then plots.


rule score_figure4_position:
    input:
        tokens=rules.tokenize_data.output.tokens,
        weights=get_weights,
    output:
        table=P.FIGURE4_POSITION,
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


rule plot_figure2:
    input:
        runs=runs_paths(RUNS["main_trains"], "train"),
    output:
        pdf=report(P.figure("figure2")["pdf"], caption="../report/figure2.rst", category="Figures"),
        png=P.figure("figure2")["png"],
    params:
        models=MODELS,
    log:
        "logs/figures/figure2.log",
    benchmark:
        "benchmarks/figures/figure2.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/plot_figure2.py"


rule make_table1:
    input:
        metrics=runs_paths(RUNS["main"], "metrics"),
        scores=runs_paths(RUNS["variants"], "scores"),
        human=get_human_preference(),
        **judge_inputs("table1"),
        **get_human_ratings(),
        mauve=[S.mauve_file(m, "table1") for m in MODELS],
        quality=[S.quality_file(m, "table1") for m in MODELS],
        sources=TEXT_SOURCES,  # hub commits, named in the .md notes
        selection=rules.select_passages.output.summary,  # where the texts come from, in the .md notes
    output:
        tsv=report(P.table("table1"), caption="../report/table1.rst", category="Tables"),
        md=P.table_md("table1"),
    params:
        runs=RUNS["main"],
        quality=config["quality"],
        models=MODELS,
        judge=JUDGE_PARAMS,
        variants=RUNS["variants"],
        ttr_window=config["metrics"]["ttr_window"],
        decodings=config["generation"]["decodings"],
        seed=config["seed"],
    log:
        "logs/tables/table1.log",
    benchmark:
        "benchmarks/tables/table1.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/make_table1.py"


rule make_figure1_data:
    input:
        texts=runs_paths(RUNS["figure1"], "texts"),
        tokenizers=[S.base_model_dir(config, model) for model in MODELS],
    output:
        data=P.FIGURE1_DATA,
    params:
        runs=RUNS["figure1"],
        figure1=config["figure1"],
        models=MODELS,
    log:
        "logs/tables/figure1_data.log",
    benchmark:
        "benchmarks/tables/figure1_data.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/make_figure1_data.py"


rule plot_figure1:
    input:
        data=rules.make_figure1_data.output.data,
    output:
        html=P.FIGURE1_HTML,
        png=report(P.figure("figure1")["png"], caption="../report/figure1.rst", category="Figures"),
    log:
        "logs/figures/figure1.log",
    benchmark:
        "benchmarks/figures/figure1.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/plot_figure1.py"


rule make_figure9_data:
    input:
        texts=runs_paths(RUNS["main_top"], "texts"),
    output:
        table=P.table("figure9_data"),
    params:
        runs=RUNS["main_top"],
        window=config["metrics"]["ttr_window"],
        step=config["figure9"]["step"],
    log:
        "logs/tables/figure9_data.log",
    benchmark:
        "benchmarks/tables/figure9_data.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/make_figure9_data.py"


rule plot_figure9:
    input:
        table=rules.make_figure9_data.output.table,
    output:
        pdf=report(P.figure("figure9")["pdf"], caption="../report/figure9.rst", category="Figures"),
        png=P.figure("figure9")["png"],
    params:
        window=config["metrics"]["ttr_window"],
    log:
        "logs/figures/figure9.log",
    benchmark:
        "benchmarks/figures/figure9.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/plot_figure9.py"


rule make_table2:
    input:
        metrics=runs_paths(RUNS["main"], "metrics"),
        sources=TEXT_SOURCES,  # hub commits, named in the .md notes
    output:
        tsv=report(P.table("table2"), caption="../report/table2.rst", category="Tables"),
        md=P.table_md("table2"),
    params:
        runs=RUNS["main"],
        threshold=config["metrics"]["overlap_threshold"],
    log:
        "logs/tables/table2.log",
    benchmark:
        "benchmarks/tables/table2.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/make_table2.py"


rule plot_figure3:
    input:
        metrics=rules.make_table2.input.metrics,
    output:
        pdf=report(P.figure("figure3")["pdf"], caption="../report/figure3.rst", category="Figures"),
        png=P.figure("figure3")["png"],
    params:
        runs=RUNS["main"],
        threshold=config["metrics"]["overlap_threshold"],
    log:
        "logs/figures/figure3.log",
    benchmark:
        "benchmarks/figures/figure3.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/plot_figure3.py"


rule make_table3:
    input:
        scores=runs_paths(RUNS["variants"], "scores"),
        sources=TEXT_SOURCES,  # hub commits, named in the .md notes
        selection=rules.select_passages.output.summary,  # where the texts come from, in the .md notes
    output:
        tsv=report(P.table("table3"), caption="../report/table3.rst", category="Tables"),
        md=P.table_md("table3"),
    params:
        runs=RUNS["variants"],
        seed=config["seed"],
    log:
        "logs/tables/table3.log",
    benchmark:
        "benchmarks/tables/table3.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/make_table3.py"


rule plot_figure4:
    input:
        tables=[S.figure4_position(r["model"], r["setting"]) for r in RUNS["variants"]],
    output:
        pdf=report(P.figure("figure4")["pdf"], caption="../report/figure4.rst", category="Figures"),
        png=P.figure("figure4")["png"],
    params:
        runs=RUNS["variants"],
    log:
        "logs/figures/figure4.log",
    benchmark:
        "benchmarks/figures/figure4.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/plot_figure4.py"
