rule make_table1:
    input:
        texts=generation_outputs("results/metrics/{model}/{variant}/texts_{decoding}-{length}.tsv"),
        scores=expand("results/metrics/{model}/{variant}/scores.tsv", model=MODELS, variant=VARIANTS),
        human="results/human/preference.tsv",
    output:
        tsv=report("results/tables/table1.tsv", caption="../report/table1.rst", category="Tables"),
        md="results/tables/table1.md",
    params:
        ttr_window=config["metrics"]["ttr_window"],
        decodings=config["generation"]["decodings"],
    log:
        "logs/tables/table1.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/make_table1.py"


rule plot_figure2:
    input:
        histories=expand("results/hyperfit/{model}/history.tsv", model=MODELS),
    output:
        pdf=report("results/figures/figure2.pdf", caption="../report/figure2.rst", category="Figures"),
        png="results/figures/figure2.png",
    params:
        models=MODELS,
    log:
        "logs/figures/figure2.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/plot_figure2.py"


rule make_table2:
    input:
        tables=generation_outputs("results/metrics/{model}/{variant}/overlap_{decoding}-{length}.tsv"),
    output:
        tsv=report("results/tables/table2.tsv", caption="../report/table2.rst", category="Tables"),
        md="results/tables/table2.md",
    params:
        threshold=config["metrics"]["overlap_threshold"],
    log:
        "logs/tables/table2.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/make_table2.py"


rule plot_figure3:
    input:
        tables=rules.make_table2.input.tables,
    output:
        pdf=report("results/figures/figure3.pdf", caption="../report/figure3.rst", category="Figures"),
        png="results/figures/figure3.png",
    params:
        threshold=config["metrics"]["overlap_threshold"],
    log:
        "logs/figures/figure3.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/plot_figure3.py"


rule make_table3:
    input:
        scores=expand("results/metrics/{model}/{variant}/scores.tsv", model=MODELS, variant=VARIANTS),
    output:
        tsv=report("results/tables/table3.tsv", caption="../report/table3.rst", category="Tables"),
        md="results/tables/table3.md",
    log:
        "logs/tables/table3.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/make_table3.py"


rule plot_figure4:
    input:
        tables=expand("results/metrics/{model}/{variant}/figure4_position.tsv", model=MODELS, variant=VARIANTS),
    output:
        pdf=report("results/figures/figure4.pdf", caption="../report/figure4.rst", category="Figures"),
        png="results/figures/figure4.png",
    log:
        "logs/figures/figure4.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/plot_figure4.py"


rule compute_figure1_data:
    input:
        texts=[path for paths in figure1_generations().values() for path in paths.values()],
        tokenizers=[base_model_dir(model) for model in MODELS],
    output:
        data="results/tables/figure1_data.json",
    params:
        figure1=config["figure1"],
        length=max(LENGTHS),
        models=MODELS,
        generations=figure1_generations(),
    log:
        "logs/tables/figure1_data.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/compute_figure1_data.py"


rule plot_figure1:
    input:
        data=rules.compute_figure1_data.output.data,
    output:
        html="results/figures/figure1.html",
        png=report("results/figures/figure1.png", caption="../report/figure1.rst", category="Figures"),
    log:
        "logs/figures/figure1.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/plot_figure1.py"


rule compute_figure9_data:
    input:
        texts=generation_outputs(lengths=[max(LENGTHS)]),
    output:
        table="results/tables/figure9_data.tsv",
    params:
        runs=generation_runs(lengths=[max(LENGTHS)]),
        window=config["metrics"]["ttr_window"],
        step=config["figure9"]["step"],
    log:
        "logs/tables/figure9_data.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/compute_figure9_data.py"


rule plot_figure9:
    input:
        table=rules.compute_figure9_data.output.table,
    output:
        pdf=report("results/figures/figure9.pdf", caption="../report/figure9.rst", category="Figures"),
        png="results/figures/figure9.png",
    params:
        window=config["metrics"]["ttr_window"],
    log:
        "logs/figures/figure9.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/plot_figure9.py"
