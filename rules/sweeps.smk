# The sweeps (the paper's Section 5): data shuffling and quantity (Figure 5) and training-data type (Table 4),
# each a variation of the sweeps' base setting under every seed.


rule make_figure5_shuffle:
    input:
        scores=runs_paths(RUNS["shuffle"] + RUNS["shuffle_original"], "scores"),
        sources=TEXT_SOURCES,  # hub commits, named in the .md notes
    output:
        tsv=report(P.table("figure5_shuffle"), caption="../report/figure5.rst", category="Tables"),
        md=P.table_md("figure5_shuffle"),
    params:
        runs=RUNS["shuffle"],
        original=RUNS["shuffle_original"],
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
        texts=runs_paths(RUNS["quantity"]
                         + RUNS["quantity_original"], "texts"),
        runs=runs_paths(RUNS["quantity"], "train"),
        sources=TEXT_SOURCES,  # hub commits, named in the .md notes
    output:
        tsv=report(P.table("figure5_quantity"), caption="../report/figure5.rst", category="Tables"),
        md=P.table_md("figure5_quantity"),
    params:
        runs=RUNS["quantity"],
        original=RUNS["quantity_original"],
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
        pdf=report(P.figure("figure5")["pdf"], caption="../report/figure5.rst", category="Figures"),
        png=P.figure("figure5")["png"],
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
        texts=runs_paths(RUNS["data_type"]
                         + RUNS["data_type_original"], "texts"),
        scores=runs_paths(RUNS["data_type_scores"] + RUNS["data_type_original_scores"], "scores"),
        mauve=[S.mauve_file(m, "table4") for m in runs_paths(RUNS["data_type_original"], "model")],
        quality=[S.quality_file(m, "table4") for m in runs_paths(RUNS["data_type_original"], "model")],
        human=get_human_preference(),
        **judge_inputs("table4"),
        sources=TEXT_SOURCES,  # hub commits, named in the .md notes
    output:
        tsv=report(P.table("table4"), caption="../report/table4.rst", category="Tables"),
        md=P.table_md("table4"),
    params:
        runs=RUNS["data_type"],
        original=RUNS["data_type_original"],
        ttr_window=config["metrics"]["ttr_window"],
        seed=config["seed"],
        quality=config["quality"],
        models=MODELS,
        judge=JUDGE_PARAMS,
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
