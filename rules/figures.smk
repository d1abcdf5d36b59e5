rule make_table1:
    input:
        texts=expand(
            "results/metrics/{model}/{variant}/texts_{decoding}-{length}.tsv",
            model=MODELS,
            variant=VARIANTS,
            decoding=DECODINGS,
            length=LENGTHS,
        ),
        scores=expand("results/metrics/{model}/{variant}/scores.tsv", model=MODELS, variant=VARIANTS),
    output:
        tsv=report("results/tables/table1.tsv", caption="../report/table1.rst", category="Tables"),
        md="results/tables/table1.md",
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
