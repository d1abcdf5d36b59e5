# What the paper shows (and the baselines it lacks): every rule a target of the Snakefile points to, in the
# Snakefile's order. They read only the small result files of the other stages (no model is trained or run
# here), so restyling a table or figure never recomputes anything upstream. Each gets the runs it reads
# (hyperfit.settings: model, setting, weights, labels and file paths) as a parameter.


rule plot_figure2:
    input:
        runs=[S.train_dir(model, S.MAIN) for model in MODELS],
    output:
        pdf=report("results/figures/figure2.pdf", caption="../report/figure2.rst", category="Figures"),
        png="results/figures/figure2.png",
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
        metrics=runs_paths(S.main_runs(config), "metrics"),
        scores=runs_paths(S.variant_runs(config), "scores"),
        human="results/human/preference.tsv",
        mauve=[S.mauve_file(m) for m in MODELS],
        sources=TEXT_SOURCES,  # hub commits, named in the .md notes
        selection="results/data/selection.tsv",  # where the texts come from, in the .md notes
    output:
        tsv=report("results/tables/table1.tsv", caption="../report/table1.rst", category="Tables"),
        md="results/tables/table1.md",
    params:
        runs=S.main_runs(config),
        variants=S.variant_runs(config),
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
        texts=runs_paths(S.figure1_runs(config), "texts"),
        tokenizers=[S.base_model_dir(config, model) for model in MODELS],
    output:
        data="results/tables/figure1_data.json",
    params:
        runs=S.figure1_runs(config),
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
        html="results/figures/figure1.html",
        png=report("results/figures/figure1.png", caption="../report/figure1.rst", category="Figures"),
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
        texts=runs_paths(S.main_runs(config, [S.top_length(config)]), "texts"),
    output:
        table="results/tables/figure9_data.tsv",
    params:
        runs=S.main_runs(config, [S.top_length(config)]),
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
        pdf=report("results/figures/figure9.pdf", caption="../report/figure9.rst", category="Figures"),
        png="results/figures/figure9.png",
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
        metrics=runs_paths(S.main_runs(config), "metrics"),
        sources=TEXT_SOURCES,  # hub commits, named in the .md notes
    output:
        tsv=report("results/tables/table2.tsv", caption="../report/table2.rst", category="Tables"),
        md="results/tables/table2.md",
    params:
        runs=S.main_runs(config),
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
        pdf=report("results/figures/figure3.pdf", caption="../report/figure3.rst", category="Figures"),
        png="results/figures/figure3.png",
    params:
        runs=S.main_runs(config),
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
        scores=runs_paths(S.variant_runs(config), "scores"),
        sources=TEXT_SOURCES,  # hub commits, named in the .md notes
        selection="results/data/selection.tsv",  # where the texts come from, in the .md notes
    output:
        tsv=report("results/tables/table3.tsv", caption="../report/table3.rst", category="Tables"),
        md="results/tables/table3.md",
    params:
        runs=S.variant_runs(config),
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
        tables=[S.figure4_position(r["model"], r["setting"]) for r in S.variant_runs(config)],
    output:
        pdf=report("results/figures/figure4.pdf", caption="../report/figure4.rst", category="Figures"),
        png="results/figures/figure4.png",
    params:
        runs=S.variant_runs(config),
    log:
        "logs/figures/figure4.log",
    benchmark:
        "benchmarks/figures/figure4.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/plot_figure4.py"


rule make_figure5_shuffle:
    input:
        scores=runs_paths(S.sweep_runs(config, "shuffle") + S.sweep_original(config, "shuffle"), "scores"),
        sources=TEXT_SOURCES,  # hub commits, named in the .md notes
    output:
        tsv=report("results/tables/figure5_shuffle.tsv", caption="../report/figure5.rst", category="Tables"),
        md="results/tables/figure5_shuffle.md",
    params:
        runs=S.sweep_runs(config, "shuffle"),
        original=S.sweep_original(config, "shuffle"),
    log:
        "logs/tables/figure5_shuffle.log",
    benchmark:
        "benchmarks/tables/figure5_shuffle.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/make_figure5_shuffle.py"


rule make_figure5_quantity:
    input:
        texts=runs_paths(S.sweep_runs(config, "quantity", config["comparison"]["decoding"])
                         + S.sweep_original(config, "quantity", config["comparison"]["decoding"]), "texts"),
        runs=runs_paths(S.sweep_runs(config, "quantity", config["comparison"]["decoding"]), "train"),
        sources=TEXT_SOURCES,  # hub commits, named in the .md notes
    output:
        tsv=report("results/tables/figure5_quantity.tsv", caption="../report/figure5.rst", category="Tables"),
        md="results/tables/figure5_quantity.md",
    params:
        runs=S.sweep_runs(config, "quantity", config["comparison"]["decoding"]),
        original=S.sweep_original(config, "quantity", config["comparison"]["decoding"]),
        ttr_window=config["metrics"]["ttr_window"],
        updates=config["sweeps"]["base"]["updates"],
    log:
        "logs/tables/figure5_quantity.log",
    benchmark:
        "benchmarks/tables/figure5_quantity.tsv"
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
    benchmark:
        "benchmarks/figures/figure5.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/plot_figure5.py"


rule make_table4:
    input:
        texts=runs_paths(S.sweep_runs(config, "data_type", config["comparison"]["decoding"])
                         + S.sweep_original(config, "data_type", config["comparison"]["decoding"]), "texts"),
        scores=runs_paths(S.sweep_runs(config, "data_type") + S.sweep_original(config, "data_type"), "scores"),
        human="results/human/preference.tsv",
        sources=TEXT_SOURCES,  # hub commits, named in the .md notes
    output:
        tsv=report("results/tables/table4.tsv", caption="../report/table4.rst", category="Tables"),
        md="results/tables/table4.md",
    params:
        runs=S.sweep_runs(config, "data_type", config["comparison"]["decoding"]),
        original=S.sweep_original(config, "data_type", config["comparison"]["decoding"]),
        ttr_window=config["metrics"]["ttr_window"],
        seed=config["seed"],
        human={"variants": {d: S.table4_variant(d) for d in config["sweeps"]["data_type"]["domains"]},
               "decoding": config["comparison"]["decoding"], "length": S.top_length(config),
               "original": {"variant": S.ORIGINAL, "decoding": config["comparison"]["decoding"]}},
    log:
        "logs/tables/table4.log",
    benchmark:
        "benchmarks/tables/table4.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/make_table4.py"


rule make_comparison:
    input:
        metrics=runs_paths(S.comparison_runs(config), "metrics"),
        scores=runs_paths(S.comparison_runs(config), "scores"),
        temperatures=runs_paths(S.comparison_runs(config), "temperature"),
        mauve=[S.mauve_file(m) for m in S.experiment_models(config, "comparison")],
        runs=runs_paths(S.comparison_runs(config), "train") + runs_paths(S.comparison_runs(config), "hyperfitted_train"),
        sources=TEXT_SOURCES,  # hub commits, named in the .md notes
    output:
        tsv=report("results/tables/comparison.tsv", caption="../report/comparison.rst", category="Tables"),
        md="results/tables/comparison.md",
        per_seed="results/tables/comparison_per_seed.tsv",
    params:
        runs=S.comparison_runs(config),
        threshold=config["metrics"]["overlap_threshold"],
        seed=config["seed"],
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
        pdf=report("results/figures/comparison.pdf", caption="../report/comparison.rst", category="Figures"),
        png="results/figures/comparison.png",
    log:
        "logs/figures/comparison.log",
    benchmark:
        "benchmarks/figures/comparison.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/plot_comparison.py"


rule make_followup_bias:
    input:
        metrics=runs_paths(S.bias_runs(config) + S.reference_runs(config), "metrics"),
        scores=runs_paths(S.reference_runs(config), "scores"),
        entropy=[S.logit_bias_file(m).replace(".pt", ".json") for m in S.experiment_models(config, "followup")],
        sources=TEXT_SOURCES,  # hub commits, named in the .md notes
    output:
        tsv=report("results/tables/followup_bias.tsv", caption="../report/followup.rst", category="Follow-up"),
        md="results/tables/followup_bias.md",
    params:
        runs=S.bias_runs(config),
        references=S.reference_runs(config),
        models=S.experiment_models(config, "followup"),
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
        pdf=report("results/figures/followup_bias.pdf", caption="../report/followup.rst", category="Follow-up"),
        png="results/figures/followup_bias.png",
    log:
        "logs/figures/followup_bias.log",
    benchmark:
        "benchmarks/figures/followup_bias.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/plot_followup_bias.py"


rule make_followup_layers:
    input:
        tables=[S.layers_file(m) for m in S.experiment_models(config, "followup")],
        sources=TEXT_SOURCES,  # hub commits, named in the .md notes
    output:
        tsv=report("results/tables/followup_layers.tsv", caption="../report/followup.rst", category="Follow-up"),
        md="results/tables/followup_layers.md",
    params:
        models=S.experiment_models(config, "followup"),
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
        pdf=report("results/figures/followup_layers.pdf", caption="../report/followup.rst", category="Follow-up"),
        png="results/figures/followup_layers.png",
    log:
        "logs/figures/followup_layers.log",
    benchmark:
        "benchmarks/figures/followup_layers.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/plot_followup_layers.py"


rule make_human_packets:
    input:
        texts=runs_paths(S.human_runs(config), "texts"),
        tokens=expand(rules.tokenize_data.output.tokens, model=MODELS),
        tokenizers=[S.base_model_dir(config, model) for model in MODELS],
    output:
        key="results/human/key.tsv",
        html=expand("results/human/packets/rater{rater}.html", rater=RATERS),
        csv=expand("results/human/packets/rater{rater}.csv", rater=RATERS),
    params:
        runs=S.human_runs(config),
        models=MODELS,
        raters=config["human"]["raters"],
        ratings_per_pair=config["human"]["ratings_per_pair"],
        question=config["human"]["question"],
        seed=config["seed"],
    log:
        "logs/human/packets.log",
    benchmark:
        "benchmarks/human/packets.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/make_human_packets.py"


rule summarize_human_ratings:
    input:
        key=rules.make_human_packets.output.key,
        annotations=get_annotation_files(),
        sources=TEXT_SOURCES,  # hub commits, named in the .md notes
    output:
        tsv="results/human/preference.tsv",
        md="results/human/preference.md",
    params:
        raters=config["human"]["raters"],
        ratings_per_pair=config["human"]["ratings_per_pair"],
        iterations=config["human"]["bootstrap_iterations"],
        seed=config["seed"],
    log:
        "logs/human/preference.log",
    benchmark:
        "benchmarks/human/preference.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/summarize_human_ratings.py"


rule make_lmeval_table:
    input:
        results=lambda wildcards: [S.lmeval_result(r["model"], r["setting"], wildcards.suite)
                                   for r in S.variant_runs(config)],
        sources=get_lmeval_sources,  # hub commits, named in the .md notes
    output:
        tsv=report("results/tables/{suite}.tsv", caption="../report/lmeval.rst", category="Tables"),
        md="results/tables/{suite}.md",
    params:
        runs=S.variant_runs(config),
    log:
        "logs/tables/{suite}.log",
    benchmark:
        "benchmarks/tables/{suite}.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/make_lmeval_table.py"


rule plot_downstream:
    input:
        **{suite: f"results/tables/{suite}.tsv" for suite in SUITES},
    output:
        pdf=report("results/figures/downstream.pdf", caption="../report/downstream.rst", category="Figures"),
        png="results/figures/downstream.png",
    log:
        "logs/figures/downstream.log",
    benchmark:
        "benchmarks/figures/downstream.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/plot_downstream.py"


rule make_image_repetition:
    input:
        images=rules.tokenize_images.output.images,
        completions=expand(rules.complete_images.output.completions, setting=VARIANTS),
        sources=IMAGE_SOURCES,  # hub commits, named in the .md notes
    output:
        tsv=report("results/tables/image_repetition.tsv", caption="../report/image_repetition.rst", category="Tables"),
        md="results/tables/image_repetition.md",
    params:
        name=IMAGE_NAME,
        variants=VARIANTS,
    log:
        "logs/tables/image_repetition.log",
    benchmark:
        "benchmarks/tables/image_repetition.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/make_image_repetition.py"


rule plot_figure6:
    input:
        images=rules.tokenize_images.output.images,
        completions=rules.make_image_repetition.input.completions,
    output:
        pdf=report("results/figures/figure6.pdf", caption="../report/figure6.rst", category="Figures"),
        png="results/figures/figure6.png",
    params:
        variants=VARIANTS,
        figure_images=config["image"]["figure_images"],
    log:
        "logs/figures/figure6.log",
    benchmark:
        "benchmarks/figures/figure6.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/plot_figure6.py"
