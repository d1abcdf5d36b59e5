# The claims table, the report's first page: each claim of the paper and of the 2026 follow-up that the workflow
# measures, computed from the result tables (hyperfit.claims), with the run's scale beside it; and its figure.
# Where a paired interval needs them, it reads the per-text values behind the follow-up's bias table and the
# completions behind Figure 6.


rule make_claims:
    input:
        table1=rules.make_table1.output.tsv,
        table2=rules.make_table2.output.tsv,
        table3=rules.make_table3.output.tsv,
        figure5_shuffle=rules.make_figure5_shuffle.output.tsv,
        figure5_quantity=rules.make_figure5_quantity.output.tsv,
        comparison=rules.make_comparison.output.tsv,
        followup_bias=rules.make_followup_bias.output.tsv,
        followup_layers=rules.make_followup_layers.output.tsv,
        **{suite: f"results/tables/{suite}.tsv" for suite in SUITES},
        runs=runs_paths(S.comparison_runs(config), "hyperfitted_train") + [S.train_dir(m, S.MAIN) for m in MODELS],
        bias=runs_paths(S.bias_runs(config) + S.reference_runs(config), "metrics"),
        images=rules.tokenize_images.output.images,
        completions=expand(rules.complete_images.output.completions, setting=VARIANTS),
    output:
        tsv=report("results/tables/claims.tsv", caption="../report/claims.rst", category="Claims"),
        md="results/tables/claims.md",
        page="results/tables/claims_page.tsv",
        scale="results/tables/claims_scale.tsv",
    params:
        tables=["table1", "table2", "table3", "figure5_shuffle", "figure5_quantity", "comparison", "followup_bias",
                "followup_layers", *SUITES],
        histories={m: [f"{d}/history.tsv" for d in runs_paths([r for r in S.comparison_runs(config)
                                                                if r["model"] == m], "hyperfitted_train")]
                   or [f"{S.train_dir(m, S.MAIN)}/history.tsv"] for m in MODELS},
        main_runs={m: S.train_dir(m, S.MAIN) for m in MODELS},
        bias_runs=[{k: r[k] for k in ("model", "label", "metrics")}
                   for r in S.bias_runs(config) + S.reference_runs(config)],
        variants=VARIANTS,
        image_model=IMAGE_NAME,
        lora_variants=config["followup"]["lora"]["variants"],
        threshold=config["metrics"]["overlap_threshold"],
        seed=config["seed"],
    log:
        "logs/tables/claims.log",
    benchmark:
        "benchmarks/tables/claims.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/make_claims.py"


rule plot_claims:
    input:
        table=rules.make_claims.output.tsv,
    output:
        pdf="results/figures/claims.pdf",
        png=report("results/figures/claims.png", caption="../report/claims.rst", category="Claims"),
    log:
        "logs/figures/claims.log",
    benchmark:
        "benchmarks/figures/claims.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/plot_claims.py"
