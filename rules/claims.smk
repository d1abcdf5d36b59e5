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
        **{suite: P.table(suite) for suite in SUITES},
        runs=runs_paths(RUNS["comparison"], "hyperfitted_train") + runs_paths(RUNS["main_trains"], "train"),
        bias=runs_paths(RUNS["bias"] + RUNS["references"], "metrics"),
        images=rules.tokenize_images.output.images,
        completions=expand(rules.complete_images.output.completions, setting=VARIANTS),
    output:
        tsv=report(P.table("claims"), caption="../report/claims.rst", category="Claims"),
        md=P.table_md("claims"),
        page=P.table("claims_page"),
        scale=P.table("claims_scale"),
    params:
        tables=["table1", "table2", "table3", "figure5_shuffle", "figure5_quantity", "comparison", "followup_bias",
                "followup_layers", *SUITES],
        histories={m: [P.run_file(d, P.RUN_HISTORY) for d in runs_paths([r for r in RUNS["comparison"]
                                                                if r["model"] == m], "hyperfitted_train")]
                   or [S.history(m, S.MAIN)] for m in MODELS},
        main_runs={m: S.train_dir(m, S.MAIN) for m in MODELS},
        bias_runs=[{k: r[k] for k in ("model", "label", "metrics")}
                   for r in RUNS["bias"] + RUNS["references"]],
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
        pdf=P.figure("claims")["pdf"],
        png=report(P.figure("claims")["png"], caption="../report/claims.rst", category="Claims"),
    log:
        "logs/figures/claims.log",
    benchmark:
        "benchmarks/figures/claims.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/plot_claims.py"
